"""The reference tracker against tests mirroring Nova's own
(nova/tests/unit/compute/test_resource_tracker.py).

Names follow ``nova/tests/unit/compute/test_resource_tracker.py`` ([HEAD]) and
``test_tracker.py`` ([L]).  Default cloud: hosts h1, h2 with 4 VCPU, 1536 MB
usable memory (2048 - 512 reserved), 40 GB, one device ``pci0``; flavors
small = 1 VCPU / 512 MB / 10 GB, large = 2 / 1024 / 20 and one device.
"""

from __future__ import annotations

import pytest

from movecheck.model import ReferenceTracker
from movecheck.model.records import MigrationRecord
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.vocab import MigrationContext, Step

ZERO = {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
SMALL = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}
LARGE = {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}
SMALL_LARGE = {"VCPU": 3, "MEMORY_MB": 1536, "DISK_GB": 30}


def S(kind, **kw):
    return Step(kind, **kw)


@pytest.fixture
def rt():
    t = ReferenceTracker()
    t.reset(default_cloud())
    yield t
    t.close()


def run(t, *steps):
    for step in steps:
        out = t.apply(step)
        assert out.accepted, (step, out.reason)
    return t.observe()


def audit(t, *hosts):
    for h in hosts:
        run(t, S("audit", host=h))
    return t.observe()


def resize_to_h2(flavor="large"):
    return [S("boot", instance="i1", host="h1", flavor="small"),
            S("resize_claim", migration="m1", instance="i1", dest="h2", flavor=flavor)]


LAND = [S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1")]
FINISH = LAND + [S("finish_resize", migration="m1")]


# ------------------------------------------------ TestUpdateAvailableResources


def test_no_instances_source_migration(rt):
    """Once the instance has left, the source keeps the old flavor for a possible revert."""
    run(rt, *resize_to_h2(), *FINISH)
    obs = audit(rt, "h1", "h2")
    assert obs.usage == {"h1": SMALL, "h2": LARGE}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}
    assert obs.instances == {"i1": "h2"}


def test_no_instances_dest_migration(rt):
    """The dest counts the new flavor from its claim on, before the instance arrives."""
    obs = run(rt, *resize_to_h2())
    assert obs.usage == {"h1": SMALL, "h2": LARGE}
    assert audit(rt, "h2", "h1").usage == {"h1": SMALL, "h2": LARGE}
    run(rt, *LAND)  # post-migrating: the dest audit applies the MigrationContext (bug 1953359)
    assert audit(rt, "h2", "h1").usage == {"h1": SMALL, "h2": LARGE}


def test_no_instances_dest_evacuation(rt):
    """An evacuation counts on the dest from rebuild_claim on; the down source keeps its hold."""
    obs = run(rt, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
              S("evacuate_start", migration="m1", instance="i1", dest="h2"))
    assert audit(rt, "h2").usage == {"h1": LARGE, "h2": ZERO}
    obs = run(rt, S("rebuild_claim", migration="m1"))
    assert audit(rt, "h2").usage == {"h1": LARGE, "h2": LARGE}
    obs = run(rt, S("finish_evacuation", migration="m1"))
    assert audit(rt, "h2").usage == {"h1": LARGE, "h2": LARGE}
    assert obs.devices == {"h1": {"pci0": "i1"}, "h2": {"pci0": "i1"}}
    obs = run(rt, S("host_up", host="h1"))  # _destroy_evacuated_instances (bug 1518200)
    assert obs.usage == {"h1": ZERO, "h2": LARGE}
    assert obs.migrations == {"m1": "completed"}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}


def test_some_instances_source_and_dest_migration(rt):
    """Same node: old + new flavor are counted in every status until confirm or revert."""
    run(rt, S("boot", instance="i2", host="h2", flavor="small"),
        S("boot", instance="i1", host="h1", flavor="small"),
        S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large"))
    for step in [None, *FINISH]:
        if step is not None:
            run(rt, step)
        assert rt.observe().usage == {"h1": SMALL_LARGE, "h2": SMALL}
        assert audit(rt, "h1", "h2").usage == {"h1": SMALL_LARGE, "h2": SMALL}


def test_no_instances_err_migration(rt):
    """A migration in error holds nothing: the dest gives its claim back."""
    run(rt, *resize_to_h2(), S("resize_migrate", migration="m1"), S("fail", migration="m1"))
    obs = audit(rt, "h1", "h2")
    assert obs.usage == {"h1": SMALL, "h2": ZERO}
    assert obs.migrations == {"m1": "error"}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": None}}


# ------------------------------------------------ TestResize / TestRebuild / TestLiveMigration


def test_resize_claim_same_host(rt):
    obs = run(rt, S("boot", instance="i1", host="h1", flavor="small"),
              S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large"))
    assert obs.usage["h1"] == SMALL_LARGE
    assert obs.migrations == {"m1": "pre-migrating"}
    obs = run(rt, *FINISH, S("confirm", migration="m1"), S("confirm_finish", migration="m1"))
    assert obs.usage["h1"] == LARGE
    assert obs.devices["h1"] == {"pci0": "i1"}


def test_resize_claim_same_host_revert(rt):
    run(rt, S("boot", instance="i1", host="h1", flavor="small"),
        S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large"), *FINISH)
    obs = run(rt, S("revert", migration="m1"), S("revert_finish", migration="m1"))
    assert obs.usage["h1"] == SMALL
    assert obs.devices["h1"] == {"pci0": None}


def test_drop_move_claim_on_revert(rt):
    run(rt, *resize_to_h2(), *FINISH, S("revert", migration="m1"))
    assert audit(rt, "h1").usage == {"h1": SMALL, "h2": LARGE}  # [L] test_revert_reserve_source
    obs = run(rt, S("revert_finish", migration="m1"))
    assert obs.usage == {"h1": SMALL, "h2": ZERO}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": None}}
    assert obs.instances == {"i1": "h1"}
    assert audit(rt, "h1", "h2").usage == {"h1": SMALL, "h2": ZERO}


def test_confirm_frees_source(rt):
    # a cold migration (a resize below the boot flavor's root disk is refused)
    run(rt, S("boot", instance="i1", host="h1", flavor="large"),
        S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"), *FINISH,
        S("confirm", migration="m1"))
    obs = run(rt, S("confirm_finish", migration="m1"))  # no audit ran (bugs 1647370, 1818914)
    assert obs.usage == {"h1": ZERO, "h2": LARGE}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}  # bug 1641750


def test_rebuild_claim(rt):
    run(rt, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
        S("evacuate_start", migration="m1", instance="i1", dest="h2"))
    obs = run(rt, S("rebuild_claim", migration="m1"))
    assert obs.usage == {"h1": LARGE, "h2": LARGE}
    assert obs.devices["h2"] == {"pci0": "i1"}
    assert obs.migrations == {"m1": "pre-migrating"}


def test_live_migration_claim(rt):
    obs = run(rt, S("boot", instance="i1", host="h1", flavor="large"),
              S("live_claim", migration="m1", instance="i1", dest="h2"))
    assert obs.usage == {"h1": LARGE, "h2": LARGE}
    assert obs.migrations == {"m1": "accepted"}
    # The audit keeps the claim of an accepted live migration (6ec686c26b, bug 1845146).
    assert audit(rt, "h2").usage == {"h1": LARGE, "h2": LARGE}
    obs = run(rt, S("live_queue", migration="m1"), S("live_prepare", migration="m1"),
              S("live_run", migration="m1"), S("live_complete", migration="m1"))
    assert obs.usage == {"h1": ZERO, "h2": LARGE}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}


def test_live_migration_abort_drops_dest_claim(rt):
    run(rt, S("boot", instance="i1", host="h1", flavor="small"),
        S("live_claim", migration="m1", instance="i1", dest="h2"), S("live_queue", migration="m1"))
    obs = run(rt, S("live_abort", migration="m1"))
    assert obs.usage == {"h1": SMALL, "h2": ZERO}
    assert obs.migrations == {"m1": "cancelled"}


# ------------------------------------------------ TestUpdateUsageFromMigrations (records written directly)


def _extra_migration(t, uuid, status, dest="h2"):
    m = MigrationRecord(uuid, "i1", "resize", "h1", dest, "small", "large", status)
    with t.store.transaction():
        t.store.create_migration(m)
    return m


def test_duplicate_migrations_filtered(rt):
    """Two in-progress migrations of one instance: only the newest is counted."""
    run(rt, *resize_to_h2())
    _extra_migration(rt, "m9", "pre-migrating")
    store = rt.store
    with store.transaction():
        inst = store.instance("i1")
        inst.migration_context = MigrationContext("m9", (), ("pci0",))
        store.save_instance(inst)
    assert audit(rt, "h2").usage["h2"] == LARGE  # once, not twice


def test_ignore_stale_migration(rt):
    """A migration the instance's MigrationContext does not name is ignored (bug 1600304)."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"))
    _extra_migration(rt, "m9", "pre-migrating")
    assert audit(rt, "h2", "h1").usage == {"h1": SMALL, "h2": ZERO}


def test_update_available_resources_migration_no_context(rt):
    """[L] test_tracker.py: a migration without a MigrationContext counts nothing."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"))
    _extra_migration(rt, "m9", "migrating")
    assert audit(rt, "h1", "h2").usage == {"h1": SMALL, "h2": ZERO}


def test_evacuate_and_resizing_states(rt):
    """The dest counts an evacuation while it is being rebuilt and once it is done."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"), S("host_down", host="h1"),
        S("evacuate_start", migration="m1", instance="i1", dest="h2"),
        S("rebuild_claim", migration="m1"))
    assert audit(rt, "h2").usage["h2"] == SMALL
    run(rt, S("finish_evacuation", migration="m1"))
    assert audit(rt, "h2").usage["h2"] == SMALL


def test_live_migrating_state(rt):
    run(rt, S("boot", instance="i1", host="h1", flavor="small"),
        S("live_claim", migration="m1", instance="i1", dest="h2"), S("live_queue", migration="m1"),
        S("live_prepare", migration="m1"), S("live_run", migration="m1"))
    assert audit(rt, "h1", "h2").usage == {"h1": SMALL, "h2": SMALL}


def test_missing_old_flavor_outbound_resize(rt):
    """An outbound resize whose instance lost old_flavor is skipped, not a crash (bug 1834349)."""
    run(rt, *resize_to_h2(), *FINISH)
    with rt.store.transaction():
        inst = rt.store.instance("i1")
        inst.old_flavor = None
        rt.store.save_instance(inst)
    assert audit(rt, "h1").usage["h1"] == ZERO


# ------------------------------------------------ claims abort


def test_move_claim_aborts_on_failure(rt):
    """An exception inside ``with claim:`` gives the dest claim back (MoveClaim.abort)."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"))
    nova = rt.nova
    dest = nova.rts["h2"]
    inst = rt.store.instance("i1")
    m = MigrationRecord("m1", "i1", "resize", "h1", "h2", "small", "large", "pre-migrating")
    with pytest.raises(RuntimeError), rt.store.transaction():
        with dest.resize_claim(inst, m):
            assert dest.usage == [2, 1024, 20] and dest.pci == {"pci0": "i1"}
            raise RuntimeError("resize_instance cast failed")
    assert dest.usage == [0, 0, 0]
    assert dest.pci == {"pci0": None}
    assert rt.store.migration("m1") is None  # the step's transaction rolled back
    assert rt.observe().usage == {"h1": SMALL, "h2": ZERO}


def test_move_claim_abort_is_the_spec_failure(rt, spec):
    """Aborted without a rollback around it, a move claim leaves what ``fail`` leaves."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"))
    inst = rt.store.instance("i1")
    inst.old_flavor, inst.new_flavor = "small", "large"
    m = MigrationRecord("m1", "i1", "resize", "h1", "h2", "small", "large", "pre-migrating")
    claim = rt.nova.rts["h2"].resize_claim(inst, m)
    assert rt.observe().usage["h2"] == LARGE
    claim.abort()
    state = spec.initial()
    for step in (S("boot", instance="i1", host="h1", flavor="small"),
                 S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
                 S("fail", migration="m1")):
        state = spec.next_state(state, step)
    assert rt.observe() == spec.observe(state)
    assert rt.observe().migrations == {"m1": "error"}
    assert rt.store.instance("i1").migration_context is None


def test_instance_claim_aborts_on_failure(rt):
    h1 = rt.nova.rts["h1"]
    from movecheck.model.records import InstanceRecord

    with pytest.raises(RuntimeError), rt.store.transaction():
        with h1.instance_claim(InstanceRecord("i1", "active", "h1", "large")):
            raise RuntimeError("spawn failed")
    assert h1.usage == [0, 0, 0] and h1.pci == {"pci0": None}
    assert rt.observe().instances == {}
    # Aborted without a rollback around it: the claim and the record both go.
    claim = h1.instance_claim(InstanceRecord("i1", "active", "h1", "large"))
    assert rt.observe().instances == {"i1": "h1"}
    claim.abort()
    assert h1.usage == [0, 0, 0] and h1.pci == {"pci0": None}
    assert rt.observe().instances == {}
    assert rt.apply(Step("boot", instance="i1", host="h2", flavor="small")).accepted


def test_claim_test_rejects_over_capacity(rt):
    run(rt, S("boot", instance="i1", host="h1", flavor="large"))
    out = rt.apply(S("boot", instance="i2", host="h1", flavor="large"))
    assert not out.accepted and "does not fit" in out.reason
    assert rt.observe().usage["h1"] == LARGE


# ------------------------------------------------ Nova 34's failure, evacuation and delete paths


def test_delete_of_a_resized_instance_confirms_the_resize(rt):
    """``API._confirm_resize_on_deleting``: finished -> confirmed, the source freed."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"),
        S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
        S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
        S("finish_resize", migration="m1"))
    obs = run(rt, S("delete", instance="i1"))
    assert obs.migrations == {"m1": "confirmed"}
    assert obs.usage == {"h1": ZERO, "h2": ZERO} and obs.allocations == {}


def test_source_back_before_the_rebuild_drops_the_instance_and_the_dest_finishes(rt):
    """``_destroy_evacuated_instances`` on ``pre-migrating`` (test_bug_1764883): completed,
    the source counts nothing even after its audit, the destination keeps its claim
    and writes done over completed."""
    run(rt, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
        S("evacuate_start", migration="m1", instance="i1", dest="h2"),
        S("rebuild_claim", migration="m1"))
    obs = run(rt, S("host_up", host="h1"), S("audit", host="h1"), S("audit", host="h2"))
    assert obs.migrations == {"m1": "completed"} and obs.instances == {"i1": "h1"}
    assert obs.usage == {"h1": ZERO, "h2": LARGE}
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}
    assert obs.allocations == {"i1": {"h2": LARGE}}
    assert not rt.apply(S("fail", migration="m1")).accepted
    obs = run(rt, S("finish_evacuation", migration="m1"), S("audit", host="h2"))
    assert obs.migrations == {"m1": "done"} and obs.instances == {"i1": "h2"}
    assert obs.usage == {"h1": ZERO, "h2": LARGE}


def test_done_is_finished_and_the_down_source_holds_until_it_returns(rt):
    """``done`` is left out of the in-progress list: the instance can move again, while
    the dead source keeps its share until ``_destroy_evacuated_instances``."""
    run(rt, S("boot", instance="i1", host="h1", flavor="small"), S("host_down", host="h1"),
        S("evacuate_start", migration="m1", instance="i1", dest="h2"),
        S("rebuild_claim", migration="m1"), S("finish_evacuation", migration="m1"))
    obs = run(rt, S("resize_claim", migration="m2", instance="i1", dest="h2", flavor="large"))
    assert obs.usage == {"h1": SMALL, "h2": SMALL_LARGE}
    obs = run(rt, S("host_up", host="h1"))
    assert obs.usage == {"h1": ZERO, "h2": SMALL_LARGE}
    assert obs.migrations == {"m1": "done", "m2": "pre-migrating"}  # the older record stays


def test_failure_statuses_by_phase_error_state_and_reset():
    rt = ReferenceTracker()
    rt.reset(default_cloud(max_migrations=4))
    run(rt, S("boot", instance="i1", host="h1", flavor="small"),
        S("live_claim", migration="m1", instance="i1", dest="h2"), S("fail", migration="m1"),
        S("live_claim", migration="m2", instance="i1", dest="h2"),
        S("live_queue", migration="m2"), S("fail", migration="m2"))
    obs = run(rt, S("resize_claim", migration="m3", instance="i1", dest="h2", flavor="large"),
              S("fail", migration="m3"))
    assert obs.migrations == {"m1": "error", "m2": "failed", "m3": "error"}
    assert not rt.apply(S("live_claim", migration="m4", instance="i1", dest="h2")).accepted
    run(rt, S("reset_state", instance="i1"))
    assert not rt.apply(S("reset_state", instance="i1")).accepted  # active again


def test_audit_turns_a_deleted_instances_error_into_failed_on_the_other_host(rt):
    """``_cleanup_incomplete_migrations``: only on a host of the migration that is not
    the instance's."""
    obs = run(rt, S("boot", instance="i1", host="h1", flavor="small"),
              S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
              S("delete", instance="i1"), S("audit", host="h1"))
    assert obs.migrations == {"m1": "error"}
    assert run(rt, S("audit", host="h2")).migrations == {"m1": "failed"}
