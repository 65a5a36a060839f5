"""The concrete spec on hand-written Nova scenarios, with exact usage numbers.

Usage vectors are (VCPU, MEMORY_MB, DISK_GB); small = 1/512/10, large = 2/1024/20
(+1 device); each default host has capacity 4/1536/40 and one device pci0.
"""

import pytest

from movecheck.spec import Spec, default_cloud
from movecheck.spec import make_step as S
from movecheck.spec.invariants import transition_violations, violations

SMALL, LARGE, ZERO = (1, 512, 10), (2, 1024, 20), (0, 0, 0)


def run(spec, *steps):
    s = spec.initial()
    for step in steps:
        assert spec.why_rejected(s, step) is None, (step, spec.why_rejected(s, step))
        t = spec.next_state(s, step)
        assert violations(spec, t) == {}, step
        assert transition_violations(spec, s, step, t) == {}, step
        s = t
    return s


def status(spec, s, mid):
    return spec.migration(s, mid).status


def test_resize_confirm_frees_source_and_keeps_new_flavor_on_dest(spec):
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"),
            S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"))
    assert s.usage == (SMALL, LARGE)  # dest claim of the new flavor
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"),
            S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
            S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"))
    # test_no_instances_source_migration: the source keeps the old flavor for a revert.
    assert s.usage == (SMALL, LARGE)
    assert spec.instance(s, "i1").host == "h2"
    s2 = run(spec, *_resize_to("h2"), S("finish_resize", migration="m1"),
             S("confirm", migration="m1"), S("confirm_finish", migration="m1"))
    assert s2.usage == (ZERO, LARGE)
    assert status(spec, s2, "m1") == "confirmed"
    obs = spec.observe(s2)
    assert obs.devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}


def _resize_to(dest, flavor="large"):
    return [S("boot", instance="i1", host="h1", flavor="small"),
            S("resize_claim", migration="m1", instance="i1", dest=dest, flavor=flavor),
            S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1")]


def test_revert_frees_dest_and_restores_source(spec):
    s = run(spec, *_resize_to("h2"), S("finish_resize", migration="m1"),
            S("revert", migration="m1"), S("revert_finish", migration="m1"))
    assert s.usage == (SMALL, ZERO)
    i1 = spec.instance(s, "i1")
    assert (i1.host, i1.flavor, i1.migration_context) == ("h1", "small", None)


def test_same_host_resize_counts_old_plus_new(spec):
    # test_resize_claim_same_host / test_some_instances_source_and_dest_migration.
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"),
            S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large"))
    assert s.usage[0] == (3, 1536, 30)
    s = run(spec, *_resize_to("h1"), S("finish_resize", migration="m1"))
    assert s.usage[0] == (3, 1536, 30)
    s = run(spec, *_resize_to("h1"), S("finish_resize", migration="m1"),
            S("confirm", migration="m1"), S("confirm_finish", migration="m1"))
    assert s.usage[0] == LARGE
    s = run(spec, *_resize_to("h1"), S("finish_resize", migration="m1"),
            S("revert", migration="m1"), S("revert_finish", migration="m1"))
    assert s.usage[0] == SMALL


def test_capacity_and_device_rejections(spec):
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"))
    # two large do not fit in 1536 MB
    assert spec.why_rejected(s, S("boot", instance="i2", host="h1", flavor="large")) == \
        "flavor large does not fit on h1"
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"),
            S("boot", instance="i2", host="h1", flavor="large"))
    assert s.usage[0] == (3, 1536, 30)
    # same-host resize small -> large: old + new would need 5 VCPU > 4
    assert spec.why_rejected(
        s, S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large")
    ) == "flavor large does not fit on h1"


def test_device_exhaustion_rejects_claims():
    from movecheck.spec import Spec
    from movecheck.spec.vocab import Cloud, Host, Inventory

    big = tuple((rc, Inventory(10**6)) for rc in ("VCPU", "MEMORY_MB", "DISK_GB"))
    base = Spec(default_cloud())
    spec = Spec(Cloud((Host("h1", big, ("pci0",)),), base.cloud.flavors, ("i1", "i2"), 2))
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"),
            S("boot", instance="i2", host="h1", flavor="small"))
    assert spec.why_rejected(
        s, S("resize_claim", migration="m1", instance="i2", dest="h1", flavor="large")
    ) == "not enough free devices on h1 for flavor large"


def test_evacuation_holds_source_until_it_comes_back(spec):
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
            S("evacuate_start", migration="m1", instance="i1", dest="h2"))
    assert s.usage == (LARGE, ZERO)
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
            S("evacuate_start", migration="m1", instance="i1", dest="h2"),
            S("rebuild_claim", migration="m1"), S("finish_evacuation", migration="m1"))
    # test_no_instances_dest_evacuation; the down source keeps its hold.
    assert s.usage == (LARGE, LARGE)
    assert spec.observe(s).devices == {"h1": {"pci0": "i1"}, "h2": {"pci0": "i1"}}
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
            S("evacuate_start", migration="m1", instance="i1", dest="h2"),
            S("rebuild_claim", migration="m1"), S("finish_evacuation", migration="m1"),
            S("host_up", host="h1"))
    assert s.usage == (ZERO, LARGE) and status(spec, s, "m1") == "completed"


def test_evacuation_rules(spec):
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"))
    assert "the host is up" in spec.why_rejected(
        s, S("evacuate_start", migration="m1", instance="i1", dest="h2"))
    # the source comes back before the rebuild finished (_destroy_evacuated_instances):
    # completed, the source dropped the instance, the destination keeps its claim and
    # may finish the rebuild, writing done over completed (test_bug_1764883)
    start = [S("boot", instance="i1", host="h1", flavor="small"), S("host_down", host="h1"),
             S("evacuate_start", migration="m1", instance="i1", dest="h2")]
    s = run(spec, *start, S("rebuild_claim", migration="m1"), S("host_up", host="h1"))
    assert s.usage == (ZERO, SMALL) and status(spec, s, "m1") == "completed"
    assert spec.instance(s, "i1").host == "h1"
    assert spec.in_progress_of(s, "i1") is not None  # the rebuild is still to finish
    assert "is completed, not in progress" in spec.why_rejected(s, S("fail", migration="m1"))
    s = run(spec, *start, S("rebuild_claim", migration="m1"), S("host_up", host="h1"),
            S("finish_evacuation", migration="m1"))
    assert s.usage == (ZERO, SMALL) and status(spec, s, "m1") == "done"
    assert spec.instance(s, "i1").host == "h2" and spec.in_progress_of(s, "i1") is None
    # ... and before the claim: the destination claims over completed afterwards
    s = run(spec, *start, S("host_up", host="h1"))
    assert s.usage == (ZERO, ZERO) and status(spec, s, "m1") == "completed"
    s = run(spec, *start, S("host_up", host="h1"), S("rebuild_claim", migration="m1"))
    assert s.usage == (ZERO, SMALL) and status(spec, s, "m1") == "pre-migrating"
    # the spec lets a rebuild whose source has dropped the instance finish
    assert "source h1 has already dropped" in spec.why_rejected(s, S("fail", migration="m1"))


def test_done_is_finished_and_the_source_holds_until_it_comes_back(spec):
    done = [S("boot", instance="i1", host="h1", flavor="small"), S("host_down", host="h1"),
            S("evacuate_start", migration="m1", instance="i1", dest="h2"),
            S("rebuild_claim", migration="m1"), S("finish_evacuation", migration="m1")]
    s = run(spec, *done)
    assert s.usage == (SMALL, SMALL) and spec.in_progress_of(s, "i1") is None
    # the evacuated instance moves again before its dead source returns ...
    s = run(spec, *done, S("resize_claim", migration="m2", instance="i1", dest="h2",
                           flavor="large"))
    assert s.usage == (SMALL, tuple(a + b for a, b in zip(SMALL, LARGE, strict=True)))
    # ... but a second evacuation waits for the first source's clean-up (one wait each)
    three = Spec(default_cloud(3, 1, 2))
    s2 = run(three, *done, S("host_down", host="h2"))
    assert "still waits for h1" in three.why_rejected(
        s2, S("evacuate_start", migration="m2", instance="i1", dest="h3"))
    # the source's restart frees its share and writes completed
    s = run(spec, *done, S("host_up", host="h1"))
    assert s.usage == (ZERO, SMALL) and status(spec, s, "m1") == "completed"


def test_live_migration_complete_and_abort(spec):
    base = [S("boot", instance="i1", host="h1", flavor="small"),
            S("live_claim", migration="m1", instance="i1", dest="h2"),
            S("live_queue", migration="m1"), S("live_prepare", migration="m1"),
            S("live_run", migration="m1")]
    s = run(spec, *base)
    assert s.usage == (SMALL, SMALL)  # test_live_migration_claim: dest claimed
    s = run(spec, *base, S("live_complete", migration="m1"))
    assert s.usage == (ZERO, SMALL) and spec.instance(s, "i1").host == "h2"
    s = run(spec, *base, S("live_abort", migration="m1"))
    assert s.usage == (SMALL, ZERO) and status(spec, s, "m1") == "cancelled"
    assert "is accepted" in spec.why_rejected(
        run(spec, *base[:2]), S("live_abort", migration="m1"))


@pytest.mark.parametrize("upto,landed", [(2, False), (3, False), (4, True), (5, True)])
def test_fail_rolls_back_to_where_the_instance_is(spec, upto, landed):
    steps = (_resize_to("h2") + [S("finish_resize", migration="m1")])[:upto]
    s = run(spec, *steps, S("fail", migration="m1"))
    assert status(spec, s, "m1") == "error"
    assert s.usage == ((ZERO, LARGE) if landed else (SMALL, ZERO))


def test_delete_frees_everything_incl_the_move(spec):
    s = run(spec, *_resize_to("h2"), S("delete", instance="i1"))
    assert s.usage == (ZERO, ZERO) and status(spec, s, "m1") == "error"
    # a RESIZED instance: the resize is confirmed first (API._confirm_resize_on_deleting)
    s = run(spec, *_resize_to("h2"), S("finish_resize", migration="m1"), S("delete", instance="i1"))
    assert s.usage == (ZERO, ZERO) and status(spec, s, "m1") == "confirmed"
    assert "does not exist" in spec.why_rejected(s, S("delete", instance="i1"))


def test_rejections_name_the_reason(spec):
    s = spec.initial()
    assert spec.why_rejected(s, S("boot", instance="i9", host="h1", flavor="small")) == \
        "unknown instance i9"
    assert spec.why_rejected(s, S("confirm", migration="m7")) == "unknown migration m7"
    assert spec.why_rejected(s, S("audit", host="h9")) == "unknown host h9"
    s = run(spec, *_resize_to("h2"))
    assert "is post-migrating, not finished" in spec.why_rejected(s, S("confirm", migration="m1"))
    assert "already has an in-progress migration" in spec.why_rejected(
        s, S("live_claim", migration="m2", instance="i1", dest="h1"))


def test_rejections_are_data_a_code_and_a_sentence(spec):
    """Spec.rejection says why, as data: a stable code (the guard conjunct that failed)
    and the sentence why_rejected returns."""
    from movecheck.spec import Rejection

    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"))
    assert spec.rejection(s, S("boot", instance="i2", host="h1", flavor="large")) == Rejection(
        "does_not_fit", "flavor large does not fit on h1")
    assert spec.rejection(s, S("confirm", migration="m1")).code == "unknown_migration"
    assert spec.rejection(s, S("host_up", host="h1")).code == "already_up"
    # API.resize: no root disk below the boot flavor's (FlavorDiskSmallerThanMinDisk)
    assert spec.rejection(s, S("resize_claim", migration="m1", instance="i1", dest="h2",
                               flavor="small")).code == "disk_too_small"
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"),
            S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"))
    r = spec.rejection(s, S("confirm", migration="m1"))
    assert r == Rejection("wrong_status", "migration m1 is pre-migrating, not finished")
    assert spec.rejection(s, S("live_claim", migration="m2", instance="i1", dest="h2")).code == "in_progress"
    assert spec.rejection(s, S("resize_migrate", migration="m1")) is None
    assert spec.why_rejected(s, S("confirm", migration="m1")) == r.message


def test_picks_are_validated_and_enumerated(spec):
    from movecheck.spec import Spec, default_cloud
    from movecheck.spec.vocab import Cloud

    c = default_cloud()
    h1 = c.hosts[0].__class__(c.hosts[0].name, c.hosts[0].inventories, ("a", "b", "c"))
    spec3 = Spec(Cloud((h1, c.hosts[1]), c.flavors, c.instances, 2))
    boot = S("boot", instance="i1", host="h1", flavor="large")
    assert spec3.legal_picks(spec3.initial(), boot) == [("a",), ("b",), ("c",)]
    assert spec3.pick_error(spec3.initial(), boot, ("z",)) == "device z is not a free device of h1"
    assert "must pick 1" in spec3.pick_error(spec3.initial(), boot, ("a", "b"))
    s = spec3.next_state(spec3.initial(), boot, ("b",))
    assert spec3.observe(s).devices["h1"] == {"a": None, "b": "i1", "c": None}
    with pytest.raises(ValueError):
        spec3.next_state(s, boot)


def test_malformed_parameters_are_rejected_not_raised(spec):
    from movecheck.spec.vocab import Step

    assert spec.why_rejected(spec.initial(), Step("audit", host=["h1"])) == \
        "parameter host must be a name, not ['h1']"
    assert spec.why_rejected(spec.initial(), Step("audit")) == "missing parameter host"
    assert spec.why_rejected(spec.initial(), Step("teleport")) == "unknown step 'teleport'"


def test_rejections_are_data_with_a_code_and_the_message_why_rejected_gives(spec):
    from movecheck.spec import Rejection
    from movecheck.spec.vocab import Step

    s0 = spec.initial()
    big = spec.next_state(s0, Step("boot", instance="i1", host="h1", flavor="large"))
    cases = [
        (s0, Step("confirm", migration="m1"), "unknown_migration"),
        (s0, Step("frobnicate"), "unknown_step"),
        (s0, Step("boot", instance="i9", host="h1", flavor="small"), "unknown_instance"),
        (big, Step("boot", instance="i1", host="h1", flavor="small"), "already_booted"),
        (big, Step("boot", instance="i2", host="h1", flavor="large"), "does_not_fit"),
        (big, Step("host_up", host="h1"), "already_up"),
        (big, Step("evacuate_start", migration="m1", instance="i1", dest="h2"), "source_up"),
    ]
    for state, step, code in cases:
        r = spec.rejection(state, step)
        assert isinstance(r, Rejection) and r.code == code, (step, r)
        assert spec.why_rejected(state, step) == r.message
    assert spec.rejection(big, Step("audit", host="h1")) is None


def test_failure_status_depends_on_the_phase(spec):
    live = [S("boot", instance="i1", host="h1", flavor="small"),
            S("live_claim", migration="m1", instance="i1", dest="h2")]
    # the conductor's prechecks (before the claim) write error, a rollback failed
    assert status(spec, run(spec, *live, S("fail", migration="m1")), "m1") == "error"
    assert status(spec, run(spec, *live, S("live_queue", migration="m1"),
                            S("fail", migration="m1")), "m1") == "failed"
    evac = [S("boot", instance="i1", host="h1", flavor="small"), S("host_down", host="h1"),
            S("evacuate_start", migration="m1", instance="i1", dest="h2")]
    assert status(spec, run(spec, *evac, S("fail", migration="m1")), "m1") == "error"
    assert status(spec, run(spec, *evac, S("rebuild_claim", migration="m1"),
                            S("fail", migration="m1")), "m1") == "failed"


def test_audit_turns_the_error_migration_of_a_deleted_instance_into_failed(spec):
    # _cleanup_incomplete_migrations: on a host of the migration other than the instance's
    failed = _resize_to("h2")[:2] + [S("fail", migration="m1"), S("delete", instance="i1")]
    s = run(spec, *failed, S("audit", host="h1"))  # the instance's own host: left alone
    assert status(spec, s, "m1") == "error"
    s = run(spec, *failed, S("audit", host="h2"))
    assert status(spec, s, "m1") == "failed" and s.usage == (ZERO, ZERO)


def test_a_failed_move_leaves_the_instance_in_error_until_a_reset(spec):
    # _error_out_instance_on_exception; API.resize / API.live_migrate refuse ERROR,
    # API.evacuate and API.delete accept it; os-resetState makes it active again
    s = run(spec, *_resize_to("h2")[:2], S("fail", migration="m1"))
    assert spec.instance(s, "i1").vm_state == "error"
    assert "is error, not active" in spec.why_rejected(
        s, S("live_claim", migration="m2", instance="i1", dest="h2"))
    assert "is error, not active" in spec.why_rejected(
        s, S("resize_claim", migration="m2", instance="i1", dest="h2", flavor="small"))
    assert spec.enabled(run(spec, *_resize_to("h2")[:2], S("fail", migration="m1"),
                            S("host_down", host="h1")),
                        S("evacuate_start", migration="m2", instance="i1", dest="h2"))
    assert spec.enabled(s, S("delete", instance="i1"))
    s = run(spec, *_resize_to("h2")[:2], S("fail", migration="m1"), S("reset_state", instance="i1"))
    assert spec.instance(s, "i1").vm_state == "active"
    assert spec.enabled(s, S("live_claim", migration="m2", instance="i1", dest="h2"))
    assert "is active, not error" in spec.why_rejected(s, S("reset_state", instance="i1"))
    # a live migration's rollback keeps the vm_state
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"),
            S("live_claim", migration="m1", instance="i1", dest="h2"), S("fail", migration="m1"))
    assert spec.instance(s, "i1").vm_state == "active"


def test_a_move_the_scheduler_refuses_is_rejected_and_leaves_its_record_error(spec):
    """docs/spec.md, "Refused claims": Nova wrote the record before scheduling."""
    s = run(spec, S("boot", instance="i1", host="h1", flavor="small"),
            S("boot", instance="i2", host="h2", flavor="large"))
    too_big = S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large")
    assert spec.rejection(s, too_big).code == "does_not_fit"
    after = spec.after_rejection(s, too_big)
    assert [(m.id, m.migration_type, m.status) for m in after.migrations] == [
        ("m1", "resize", "error")]
    assert after.usage == s.usage and spec.instance(after, "i1").vm_state == "active"
    assert violations(spec, after) == {}
    assert transition_violations(spec, s, too_big, after) == {}
    # the id is used up; a refusal by the API (a cold migration to its own host)
    # writes nothing
    assert spec.rejection(after, too_big).code == "not_fresh"
    own = S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="small")
    assert spec.rejection(after, own).code == "same_host"
    assert spec.after_rejection(after, own) is after and spec.refusal(after, own) is None
    # a live migration to its own host is the conductor's refusal: a record
    self_live = S("live_claim", migration="m2", instance="i1", dest="h1")
    assert spec.after_rejection(after, self_live).migrations[-1].status == "error"
    # successors label a refusal with REFUSED picks
    from movecheck.spec import Refusal
    labels = [(st, p) for st, p, _ in spec.successors(s) if isinstance(p, Refusal)]
    assert (too_big, ()) in [(st, tuple(p)) for st, p in labels]


def test_a_refused_rebuild_claim_errors_the_evacuation_and_the_instance(spec):
    s = run(spec, S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
            S("evacuate_start", migration="m1", instance="i1", dest="h2"),
            S("boot", instance="i2", host="h2", flavor="large"))
    claim = S("rebuild_claim", migration="m1")
    assert spec.rejection(s, claim).code == "does_not_fit"
    after = spec.after_rejection(s, claim)
    assert status(spec, after, "m1") == "error"
    assert spec.instance(after, "i1").vm_state == "error" and after.usage == s.usage


def test_the_root_disk_floor_is_the_boot_flavors(spec):
    """An instance booted small may grow and shrink back; one booted large may not shrink."""
    s = run(spec, *_resize_to("h2"), S("finish_resize", migration="m1"),
            S("confirm", migration="m1"), S("confirm_finish", migration="m1"))
    back = S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="small")
    assert spec.why_rejected(s, back) is None
