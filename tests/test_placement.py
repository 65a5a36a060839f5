"""The placement tracker against the spec: Nova-style move sequences and seeded random walks.

Each test drives the real Placement (in-process, fresh in-memory database per
scenario) through :class:`PlacementTracker` and the concrete spec side by
side, comparing every outcome (accepted/rejected), every device pick, and the
usage and device holders per host exactly.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from movecheck.conformance.adapters.placement import PlacementTracker, placement_factory
from movecheck.spec import Spec, default_cloud
from movecheck.spec.cloudfile import cloud_from_mapping
from movecheck.spec.errors import InputError
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import Step

pytestmark = pytest.mark.placement


@pytest.fixture(scope="module")
def tracker() -> PlacementTracker:
    return placement_factory()


def plain_cloud(hosts: int = 2, max_migrations: int = 4):
    """Hosts of 4 VCPU / 1536 usable MB / 40 GB and no devices: capacity alone decides."""
    return cloud_from_mapping({
        "hosts": [{"name": f"h{k}", "inventories": {
            "VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048, "reserved": 512},
            "DISK_GB": {"total": 40}}} for k in range(1, hosts + 1)],
        "flavors": [{"name": "small", "vcpus": 1, "memory_mb": 512, "disk_gb": 10},
                    {"name": "large", "vcpus": 2, "memory_mb": 1024, "disk_gb": 20},
                    # claims nothing at all (docs/placement.md, finding 5)
                    {"name": "zero", "vcpus": 0, "memory_mb": 0, "disk_gb": 0}],
        "instances": 3,
        "max_migrations": max_migrations,
    })


def gpu_cloud():
    """Roomy hosts with two devices each and a flavor that needs two: devices alone decide."""
    return cloud_from_mapping({
        "hosts": [{"name": f"h{k}", "devices": ["pci0", "pci1"], "inventories": {
            "VCPU": {"total": 16}, "MEMORY_MB": {"total": 8192}, "DISK_GB": {"total": 100}}}
            for k in (1, 2)],
        "flavors": [{"name": "gpu", "vcpus": 1, "memory_mb": 512, "disk_gb": 10, "devices": 2},
                    {"name": "one", "vcpus": 1, "memory_mb": 512, "disk_gb": 10, "devices": 1}],
        "instances": 3,
        "max_migrations": 3,
    })


class Lockstep:
    """The tracker and the spec, stepped together; every step is compared."""

    def __init__(self, tracker: PlacementTracker, cloud):
        self.tracker, self.spec = tracker, Spec(cloud)
        self.state = self.spec.initial()
        tracker.reset(cloud)

    def step(self, kind: str, expect: bool | None = None, **params) -> bool:
        step = Step(kind, **params)
        want = self.spec.why_rejected(self.state, step)
        got = self.tracker.apply(step)
        assert got.accepted == (want is None), (
            f"{step}: spec says {want or 'accepted'}, Placement says {got}")
        if expect is not None:
            assert got.accepted == expect, f"{step}: {got}"
        if got.accepted:
            assert self.spec.pick_error(self.state, step, got.devices) is None
            self.state = self.spec.next_state(self.state, step, got.devices)
        else:
            self.state = self.spec.after_rejection(self.state, step)  # a refused move's record
        self.check()
        return got.accepted

    def check(self) -> None:
        expected = self.spec.observe(self.state)
        observed = self.tracker.observe()
        assert observed.usage == expected.usage
        assert observed.devices == expected.devices

    def usage(self, host: str) -> tuple[int, int, int]:
        u = self.tracker.observe().usage[host]
        return (u["VCPU"], u["MEMORY_MB"], u["DISK_GB"])


# ---------------------------------------------------------------- Nova-style sequences


def test_resize_then_confirm_frees_the_source(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="large")
    # Queens+: the migration consumer holds the source, the instance holds the dest.
    allocs = tracker.consumer_allocations()
    assert allocs["migration m1"] == {"h1": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}}
    assert allocs["instance i1"] == {"h2": {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}}
    for kind in ("resize_migrate", "resize_migrated", "finish_resize", "confirm"):
        run.step(kind, True, migration="m1")
    assert run.usage("h1") == (1, 512, 10)
    run.step("confirm_finish", True, migration="m1")
    assert run.usage("h1") == (0, 0, 0)
    assert run.usage("h2") == (2, 1024, 20)
    assert "migration m1" not in tracker.consumer_allocations()


def test_resize_then_revert_moves_the_allocation_back(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="large")
    for kind in ("resize_migrate", "resize_migrated", "finish_resize", "revert"):
        run.step(kind, True, migration="m1")
    run.step("revert_finish", True, migration="m1")
    assert run.usage("h1") == (1, 512, 10)
    assert run.usage("h2") == (0, 0, 0)
    assert tracker.consumer_allocations() == {
        "instance i1": {"h1": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}}}


def test_a_refused_move_of_an_evacuated_instance_keeps_its_dead_sources_share(tracker):
    """Found by tests/test_placement_conformance.py (seed 11): the claim moves only
    the instance's host tree into the migration consumer (finding 6), so the way
    back after Placement's 409 must keep the dead source's share; the refused move
    leaves its record error."""
    run = Lockstep(tracker, plain_cloud(hosts=3))
    run.step("boot", True, instance="i1", host="h2", flavor="small")
    run.step("host_down", True, host="h2")
    run.step("evacuate_start", True, migration="m1", instance="i1", dest="h3")
    run.step("rebuild_claim", True, migration="m1")
    run.step("finish_evacuation", True, migration="m1")
    run.step("boot", True, instance="i2", host="h3", flavor="large")
    # h3 is full (1536 MB): a resize of i1 to large there does not fit
    run.step("resize_claim", False, migration="m2", instance="i1", dest="h3", flavor="large")
    assert run.usage("h2") == (1, 512, 10)  # the dead source still holds i1
    assert tracker.consumer_allocations()["instance i1"] == {
        "h2": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10},
        "h3": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}}
    assert tracker.migrations["m2"].status == "error"


def test_same_host_resize_holds_old_and_new_until_confirm(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h1", flavor="large")
    assert run.usage("h1") == (3, 1536, 30)
    for kind in ("resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish"):
        run.step(kind, True, migration="m1")
    assert run.usage("h1") == (2, 1024, 20)


def test_same_host_resize_that_does_not_fit_is_refused_by_placement(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="large")
    # old 1024 MB + new 1024 MB > 1536 MB usable: Placement's 409 refuses the dest claim,
    # and the conductor's rollback gives the source allocation back to the instance.
    assert not run.step("resize_claim", False, migration="m1", instance="i1", dest="h1",
                        flavor="large")
    assert tracker.consumer_allocations() == {
        "instance i1": {"h1": {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}}}


def test_capacity_rejection_comes_from_placement(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="large")
    got = tracker.apply(Step("boot", instance="i2", host="h1", flavor="large"))
    assert not got.accepted
    assert "(409)" in got.reason and "MEMORY_MB" in got.reason and "capacity" in got.reason
    run.check()


def test_cold_migrate_and_live_migrate_with_abort(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="small")
    for kind in ("resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish"):
        run.step(kind, True, migration="m1")
    assert run.usage("h2") == (1, 512, 10) and run.usage("h1") == (0, 0, 0)
    run.step("live_claim", True, migration="m2", instance="i1", dest="h1")
    assert run.usage("h1") == (1, 512, 10) and run.usage("h2") == (1, 512, 10)
    run.step("live_queue", True, migration="m2")
    run.step("live_prepare", True, migration="m2")
    run.step("live_abort", True, migration="m2")
    assert run.usage("h1") == (0, 0, 0) and run.usage("h2") == (1, 512, 10)
    run.step("live_claim", True, migration="m3", instance="i1", dest="h1")
    for kind in ("live_queue", "live_prepare", "live_run", "live_complete"):
        run.step(kind, True, migration="m3")
    assert run.usage("h1") == (1, 512, 10) and run.usage("h2") == (0, 0, 0)


def test_evacuation_doubles_until_the_source_comes_back(tracker):
    run = Lockstep(tracker, default_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="large")
    run.step("evacuate_start", False, migration="m1", instance="i1", dest="h2")  # h1 is up
    run.step("host_down", True, host="h1")
    run.step("evacuate_start", True, migration="m1", instance="i1", dest="h2")
    run.step("rebuild_claim", True, migration="m1")
    run.step("finish_evacuation", True, migration="m1")
    assert tracker.consumer_allocations() == {"instance i1": {
        "h1": {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}, "h1_pci0": {"CUSTOM_MOVECHECK_PCI": 1},
        "h2": {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}, "h2_pci0": {"CUSTOM_MOVECHECK_PCI": 1}}}
    run.step("host_up", True, host="h1")
    assert run.usage("h1") == (0, 0, 0)
    assert tracker.observe().devices == {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}


def test_device_exhaustion_is_refused_by_placement(tracker):
    run = Lockstep(tracker, gpu_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="one")
    # One device is free, the flavor needs two: the request names pci1 (free) and
    # pci0 (held), and Placement's 409 on the device provider refuses it.
    got = tracker.apply(Step("boot", instance="i2", host="h1", flavor="gpu"))
    assert not got.accepted and "CUSTOM_MOVECHECK_PCI" in got.reason and "h1_pci0" in got.reason
    run.check()
    run.step("boot", True, instance="i2", host="h1", flavor="one")
    run.step("resize_claim", True, migration="m1", instance="i2", dest="h2", flavor="gpu")
    assert tracker.observe().devices == {"h1": {"pci0": "i1", "pci1": "i2"},
                                         "h2": {"pci0": "i2", "pci1": "i2"}}


def test_delete_mid_move_frees_everything(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="large")
    run.step("resize_migrate", True, migration="m1")
    run.step("resize_migrated", True, migration="m1")
    run.step("delete", True, instance="i1")
    assert run.usage("h1") == (0, 0, 0) and run.usage("h2") == (0, 0, 0)
    assert tracker.consumer_allocations() == {}
    run.step("delete", False, instance="i1")


def test_deleting_a_resized_instance_confirms_its_resize(tracker):
    """``API._confirm_resize_on_deleting``: the migration's (source) allocation is
    deleted and the record says confirmed, not error."""
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="large")
    for kind in ("resize_migrate", "resize_migrated", "finish_resize"):
        run.step(kind, True, migration="m1")
    run.step("delete", True, instance="i1")
    assert tracker.migrations["m1"].status == "confirmed"
    assert tracker.consumer_allocations() == {}


def test_a_source_back_during_the_rebuild_completes_it_and_the_destination_finishes(tracker):
    """``_destroy_evacuated_instances`` on a pre-migrating evacuation (test_bug_1764883):
    the source leaves the instance's allocation, the record says completed, the
    destination keeps its claim and finishes over it (done)."""
    run = Lockstep(tracker, default_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="large")
    run.step("host_down", True, host="h1")
    run.step("evacuate_start", True, migration="m1", instance="i1", dest="h2")
    run.step("rebuild_claim", True, migration="m1")
    run.step("host_up", True, host="h1")
    assert tracker.migrations["m1"].status == "completed"
    assert tracker.consumer_allocations() == {"instance i1": {
        "h2": {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}, "h2_pci0": {"CUSTOM_MOVECHECK_PCI": 1}}}
    run.step("fail", False, migration="m1")  # the source has dropped the instance already
    run.step("live_claim", False, migration="m2", instance="i1", dest="h1")  # still moving
    run.step("finish_evacuation", True, migration="m1")
    assert tracker.migrations["m1"].status == "done"
    assert run.usage("h1") == (0, 0, 0)


def test_failure_statuses_follow_the_phase_and_a_failed_resize_errors_the_instance(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("live_claim", True, migration="m1", instance="i1", dest="h2")
    run.step("fail", True, migration="m1")  # the conductor's prechecks: error
    run.step("live_claim", True, migration="m2", instance="i1", dest="h2")
    run.step("live_queue", True, migration="m2")
    run.step("fail", True, migration="m2")  # _rollback_live_migration: failed
    assert (tracker.migrations["m1"].status, tracker.migrations["m2"].status) == ("error", "failed")
    run.step("resize_claim", True, migration="m3", instance="i1", dest="h2", flavor="large")
    run.step("fail", True, migration="m3")
    assert tracker.instances["i1"].vm_state == "error"
    run.step("resize_claim", False, migration="m4", instance="i1", dest="h2", flavor="large")
    run.step("reset_state", True, instance="i1")
    run.step("resize_claim", True, migration="m4", instance="i1", dest="h2", flavor="large")


def test_status_only_steps_follow_novas_checks(tracker):
    run = Lockstep(tracker, plain_cloud())
    run.step("confirm", False, migration="m1")  # unknown migration
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="large")
    run.step("confirm", False, migration="m1")  # not finished yet
    run.step("live_queue", False, migration="m1")  # not a live migration
    run.step("host_down", True, host="h1")
    run.step("resize_migrate", False, migration="m1")  # source is down
    run.step("audit", False, host="h1")
    run.step("host_up", True, host="h1")
    run.step("audit", True, host="h1")


# ---------------------------------------------------------------- random walks


def walk(tracker, cloud, seed: int, steps: int, seen: Counter, refused: Counter) -> None:
    """A seeded walk of enabled steps (least-exercised kind first) with some rejected ones."""
    rng = random.Random(seed)
    run = Lockstep(tracker, cloud)
    for _ in range(steps):
        cands = list(run.spec.candidate_steps(run.state))
        enabled = [s for s in cands if run.spec.why_rejected(run.state, s) is None]
        downs = [s for s in enabled if s.kind == "host_down"]
        r = rng.random()
        if r < 0.2:
            step = rng.choice(cands)
        elif r < 0.35 and downs and not seen["finish_evacuation"]:
            step = rng.choice(downs)  # evacuations need a host down
        else:
            low = min(seen[s.kind] for s in enabled)
            step = rng.choice([s for s in enabled if seen[s.kind] <= low + 2])
        params = {k: v for k, v in step._asdict().items() if k != "kind" and v is not None}
        if run.step(step.kind, **params):
            seen[step.kind] += 1
        elif step.kind in ("boot", "resize_claim", "live_claim", "rebuild_claim"):
            refused[step.kind] += 1


def test_random_walks_agree_with_the_spec(tracker):
    seen: Counter = Counter()
    refused: Counter = Counter()
    clouds = [default_cloud(max_migrations=4), plain_cloud(hosts=2), default_cloud(hosts=3),
              gpu_cloud()]
    # 16 walks: with reset_state and the failure paths of Nova 34 in the step set,
    # 12 no longer reach a running live migration.
    for seed in range(16):
        walk(tracker, clouds[seed % len(clouds)], seed, 30, seen, refused)
    # The walks exercised every step, and Placement refused claims along the way.
    assert set(STEPS) <= set(seen), sorted(set(STEPS) - set(seen))
    assert refused["boot"] > 0 and refused["resize_claim"] + refused["live_claim"] > 0


def test_bad_database_url_is_one_sentence(tracker):
    with pytest.raises(InputError, match="already running on 'sqlite://'"):
        placement_factory("sqlite:////nonexistent/dir/x.db")


def test_lockstep_catches_a_leak_like_bug_1707071(tracker):
    """The comparison is not vacuous: an adapter that forgets Nova's confirm-time
    delete of the migration allocation (the source leak of bug 1707071) fails it."""

    class Leaky(PlacementTracker):
        def _effect_confirm_finish(self, mid, m):
            self.instances[m.instance].vm_state = "active"

    leaky = Leaky()
    run = Lockstep(leaky, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="small")
    run.step("resize_claim", True, migration="m1", instance="i1", dest="h2", flavor="large")
    for kind in ("resize_migrate", "resize_migrated", "finish_resize", "confirm"):
        run.step(kind, True, migration="m1")
    with pytest.raises(AssertionError):
        run.step("confirm_finish", True, migration="m1")
    assert leaky.observe().usage["h1"]["VCPU"] == 1


def test_refusals_do_not_log_placement_warnings(tracker, caplog):
    """Placement logs a WARNING per refused allocation; the adapter keeps them out of
    the command output (a refusal is an ordinary outcome)."""
    import logging

    caplog.set_level(logging.WARNING)
    run = Lockstep(tracker, plain_cloud())
    run.step("boot", True, instance="i1", host="h1", flavor="large")
    run.step("boot", False, instance="i2", host="h1", flavor="large")
    assert not [r for r in caplog.records if r.name.startswith("placement")]


def test_unusable_database_url_is_one_sentence():
    """In a fresh process (Placement's database is configured once per process)."""
    import subprocess
    import sys

    code = ("from movecheck.conformance.adapters.placement import placement_factory\n"
            "from movecheck.spec.errors import InputError\n"
            "try:\n    placement_factory('nosuchdialect://x')\n"
            "except InputError as e:\n    print('InputError:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("InputError: cannot open the Placement database 'nosuchdialect://x'")
    assert out.stdout.count("\n") == 1


def test_malformed_steps_are_rejected_not_crashed(tracker):
    tracker.reset(plain_cloud())
    for step in (Step("no_such_step"), Step("boot", instance="i1"),
                 Step("boot", instance="i1", host="nowhere", flavor="small"),
                 Step("confirm", migration="m9"), Step("audit", host="nowhere")):
        got = tracker.apply(step)
        assert not got.accepted and got.reason, step


def test_file_database_is_fresh_after_each_reset(tmp_path):
    """A database URL other than in-memory keeps its rows, so reset drops the tables
    first (in a fresh process: Placement's database is configured once per process)."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'placement.db'}"
    code = (
        "from movecheck.conformance.adapters.placement import placement_factory\n"
        "from movecheck.spec import default_cloud\n"
        "from movecheck.spec.vocab import Step\n"
        f"t = placement_factory({url!r})\n"
        "t.reset(default_cloud())\n"
        "assert t.apply(Step('boot', instance='i1', host='h1', flavor='large')).accepted\n"
        "t.reset(default_cloud())\n"
        "print(t.observe().usage['h1'], t.apply(Step('boot', instance='i1', host='h1',"
        " flavor='large')).accepted)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "{'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0} True", out.stderr[-2000:]
    assert (tmp_path / "placement.db").stat().st_size > 0
