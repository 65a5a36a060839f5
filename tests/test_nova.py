"""The nova tracker: real Nova 34 (API, conductor, scheduler, nova-compute with its
ResourceTracker, Placement) in a subprocess, compared with the spec step by step.

Every test drives the real Nova through :class:`NovaTracker` and the spec
through :class:`Checker`, which compares outcomes, device picks, Placement
usage per host, migration statuses and instance hosts after every step.  The
move sequences that hold are pinned as conformant; the places where Nova 34
and the spec part ways (docs/nova.md, "Findings") are pinned as the exact
discrepancy, so that a change on either side shows.

Nova runs under ``MOVECHECK_NOVA_PYTHON`` when set, else under this Python
(which then needs ``pip install 'movecheck[nova]'``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from movecheck.conformance.adapters.nova import INSTALL, NovaTracker, check_extra
from movecheck.conformance.checker import Checker, Discrepancy
from movecheck.spec.cloudfile import cloud_from_mapping, default_cloud
from movecheck.spec.errors import InputError
from movecheck.spec.vocab import Step

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PYTHONPATH=ROOT, **(env or {}))
    return subprocess.run([sys.executable, "-m", "movecheck", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=ROOT)


def _orphans() -> set[str]:
    """Nova server processes whose parent is gone (re-parented to init).

    Servers of other tests running at the same time (pytest-xdist) have a
    live parent, so they do not count.
    """
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines()
            if "adapters/nova/server.py" in line and line.split()[1] == "1"}


# ---------------------------------------------------------------------- without Nova


def test_missing_extra_is_one_sentence_and_exit_2():
    """``--tracker nova`` with a Python that lacks Nova: exit 2 naming the install command."""
    bare = getattr(sys, "_base_executable", None) or "python3"
    with pytest.raises(InputError) as e:
        check_extra(bare)
    assert INSTALL in str(e.value)
    r = _cli("conform", "--tracker", "nova", "--examples", "1",
             env={"MOVECHECK_NOVA_PYTHON": bare}, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "pip install 'movecheck[nova]'" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_nova_python_that_does_not_exist_is_exit_2():
    r = _cli("conform", "--tracker", "nova", env={"MOVECHECK_NOVA_PYTHON": "/nonexistent/python"},
             timeout=120)
    assert r.returncode == 2
    assert "MOVECHECK_NOVA_PYTHON=/nonexistent/python" in r.stderr


# ---------------------------------------------------------------------- with Nova

nova = pytest.mark.nova


def plain_cloud(hosts: int = 2, devices: int = 0, max_migrations: int = 2):
    """Hosts of 4 VCPU / 1536 usable MB / 40 GB: two ``large`` do not fit on one host."""
    return cloud_from_mapping({
        "hosts": [{"name": f"h{k}", "inventories": {
            "VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048, "reserved": 512},
            "DISK_GB": {"total": 40}}, "devices": [f"pci{d}" for d in range(devices)]}
            for k in range(1, hosts + 1)],
        "flavors": [{"name": "small", "vcpus": 1, "memory_mb": 512, "disk_gb": 10},
                    {"name": "large", "vcpus": 2, "memory_mb": 1024, "disk_gb": 20}],
        "instances": ["i1", "i2"],
        "max_migrations": max_migrations,
    })


@pytest.fixture(scope="module")
def tracker():
    t = NovaTracker(check_extra())
    yield t
    t.close()


def S(kind: str, **kw) -> Step:  # noqa: N802 - reads like the spec's steps
    return Step(kind, **kw)


def run(tracker, steps, cloud=None) -> Checker:
    """Apply ``steps`` to Nova and the spec side by side; Discrepancy at the first difference."""
    checker = Checker(cloud or plain_cloud(), tracker, timeout=None)
    checker.reset()
    for step in steps:
        checker.apply(step)
    return checker


BOOT = S("boot", instance="i1", host="h1", flavor="small")
RESIZE = [S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
          S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
          S("finish_resize", migration="m1")]
LIVE = [S("live_claim", migration="m1", instance="i1", dest="h2"),
        S("live_queue", migration="m1"), S("live_prepare", migration="m1"),
        S("live_run", migration="m1")]


#: The cases of test_nova_conforms in which the scheduler refuses a move.
SCHEDULER_REFUSALS = (
    "a resize that does not fit is refused and leaves its record error (Nova's "
    "test_resize_not_enough_resource)",
    "a live migration to its own host, then to a down host, is refused and leaves error",
    "an evacuation whose claim does not fit: rejected, error, ERROR until reset_state",
)


@nova
@pytest.mark.slow
@pytest.mark.parametrize("name,steps", [
    ("resize, audit mid-move, confirm",
     [BOOT, *RESIZE[:2], S("audit", host="h1"), *RESIZE[2:], S("audit", host="h2"),
      S("confirm", migration="m1"), S("confirm_finish", migration="m1"), S("audit", host="h1")]),
    ("resize then revert",
     [BOOT, *RESIZE, S("revert", migration="m1"), S("revert_finish", migration="m1"),
      S("audit", host="h2")]),
    ("same-host resize then confirm",
     [BOOT, S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large"),
      S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
      S("finish_resize", migration="m1"), S("confirm", migration="m1"),
      S("confirm_finish", migration="m1")]),
    ("cold migrate then confirm",
     [BOOT, S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="small"),
      S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
      S("finish_resize", migration="m1"), S("confirm", migration="m1"),
      S("confirm_finish", migration="m1")]),
    ("live migrate to completion", [BOOT, *LIVE, S("live_complete", migration="m1"),
                                    S("audit", host="h2")]),
    ("live migration aborted while queued", [BOOT, *LIVE[:2], S("live_abort", migration="m1")]),
    ("live migration aborted while running", [BOOT, *LIVE, S("live_abort", migration="m1")]),
    ("evacuation, source back after the rebuild",
     [BOOT, S("host_down", host="h1"), S("evacuate_start", migration="m1", instance="i1", dest="h2"),
      S("rebuild_claim", migration="m1"), S("finish_evacuation", migration="m1"),
      S("host_up", host="h1"), S("delete", instance="i1")]),
    ("a resize that fails before it lands is rolled back to the source",
     [BOOT, RESIZE[0], S("fail", migration="m1"), S("audit", host="h2")]),
    ("a resize that fails at finished: the confirm fails, the source is freed",
     [BOOT, *RESIZE, S("fail", migration="m1"), S("audit", host="h1"), S("audit", host="h2")]),
    ("fail at finished leaves the instance in ERROR; reset_state (os-resetState) lets it move",
     [BOOT, *RESIZE, S("fail", migration="m1"),
      S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="large"),
      S("reset_state", instance="i1"),
      S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="large"),
      S("resize_migrate", migration="m2")]),
    ("an evacuation that fails before its claim: the conductor's NoValidHost, error, ERROR",
     [BOOT, S("host_down", host="h1"),
      S("evacuate_start", migration="m1", instance="i1", dest="h2"), S("fail", migration="m1"),
      S("reset_state", instance="i1")]),
    ("an evacuation that fails after its claim: failed, ERROR until reset_state",
     [BOOT, S("host_down", host="h1"),
      S("evacuate_start", migration="m1", instance="i1", dest="h2"),
      S("rebuild_claim", migration="m1"), S("fail", migration="m1"),
      S("reset_state", instance="i1"),
      S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="large")]),
    ("a resize that does not fit is refused and leaves its record error (Nova's "
     "test_resize_not_enough_resource)",
     [BOOT, S("boot", instance="i2", host="h2", flavor="large"),
      S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
      S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="large"),
      S("resize_migrate", migration="m2")]),
    ("a live migration to its own host, then to a down host, is refused and leaves error",
     [BOOT, S("live_claim", migration="m1", instance="i1", dest="h1"),
      S("host_down", host="h2"), S("live_claim", migration="m2", instance="i1", dest="h2")]),
    ("a resize below the boot flavor's root disk is rejected, nothing written; back to it is not",
     [S("boot", instance="i2", host="h2", flavor="large"),
      S("resize_claim", migration="m1", instance="i2", dest="h1", flavor="small"),
      BOOT, S("resize_claim", migration="m1", instance="i1", dest="h1", flavor="large"),
      S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
      S("finish_resize", migration="m1"), S("confirm", migration="m1"),
      S("confirm_finish", migration="m1"),
      S("resize_claim", migration="m2", instance="i1", dest="h1", flavor="small")]),
    ("an evacuation whose claim does not fit: rejected, error, ERROR until reset_state",
     [S("boot", instance="i1", host="h1", flavor="large"), S("host_down", host="h1"),
      S("evacuate_start", migration="m1", instance="i1", dest="h2"),
      S("boot", instance="i2", host="h2", flavor="large"), S("rebuild_claim", migration="m1"),
      S("reset_state", instance="i1")]),
])
def test_nova_conforms(tracker, name, steps):
    checker = run(tracker, steps)
    assert len(checker.trace) == len(steps)
    assert all(e["expected"] in ("accepted", "rejected") for e in checker.trace)
    expected = [e["expected"] for e in checker.trace]
    if name in SCHEDULER_REFUSALS:
        # the refusal is Nova's and the spec's alike, and its record is observed error
        assert "rejected" in expected
        assert "error" in {m.status for m in checker.state.migrations}
    if "boot flavor's root disk" in name:
        assert expected.count("rejected") == 1 and expected[-1] == "accepted"
        assert "m1" in {m.id for m in checker.state.migrations if m.instance == "i1"}


@nova
@pytest.mark.slow
def test_devices_are_counted_by_placement(tracker):
    """A flavor's devices are units of a custom class on the host's provider (docs/nova.md)."""
    cloud = default_cloud()  # one device per host; large needs it
    steps = [S("boot", instance="i1", host="h1", flavor="large"),
             S("boot", instance="i2", host="h1", flavor="large")]  # refused: no free device
    checker = run(tracker, steps, cloud)
    assert checker.trace[0]["picks"] == ["pci0"]
    assert checker.trace[1]["expected"] == "rejected"


@nova
@pytest.mark.slow
def test_compute_node_counters_catch_up_at_an_audit(tracker):
    """The ResourceTracker's ComputeNode counters (details) equal Placement after an audit."""
    run(tracker, [BOOT, *LIVE, S("live_complete", migration="m1"), S("audit", host="h1"),
                  S("audit", host="h2")])
    d = tracker.details()
    obs = tracker.observe()
    assert d["compute_node_usage"] == obs.usage
    assert d["placement_usages"] == obs.usage  # observe() sums the allocations
    assert d["allocations"] == {"instance i1": {"h2": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}}}
    assert d["vm_states"] == {"i1": "active"}


# ---------------------------------------------------------------------- findings (docs/nova.md)


def _discrepancy(tracker, steps) -> Discrepancy:
    with pytest.raises(Discrepancy) as e:
        run(tracker, steps)
    return e.value


EVACUATE = [S("host_down", host="h1"), S("evacuate_start", migration="m1", instance="i1", dest="h2"),
            S("rebuild_claim", migration="m1")]


@nova
@pytest.mark.slow
def test_delete_in_verify_resize_confirms(tracker):
    """Deleting a resized instance confirms its resize (``compute/api.py``
    ``_confirm_resize_on_deleting``): docs/nova.md finding 2, gone since the spec
    follows Nova 34 there (confirmed, the source freed)."""
    checker = run(tracker, [BOOT, *RESIZE, S("delete", instance="i1")])
    assert checker.trace[-1]["expected"] == "accepted"
    assert tracker.observe().migrations == {"m1": "confirmed"}


@nova
@pytest.mark.slow
def test_source_back_before_the_rebuild_completes_the_evacuation(tracker):
    """The source comes back while the rebuild runs: ``_destroy_evacuated_instances``
    marks the evacuation completed and frees the source, and the destination's
    rebuild still finishes (docs/nova.md finding 3, gone with the spec that follows
    Nova 34)."""
    run(tracker, [BOOT, *EVACUATE, S("host_up", host="h1"), S("finish_evacuation", migration="m1"),
                  S("audit", host="h1"), S("audit", host="h2")])
    obs = tracker.observe()
    assert obs.migrations == {"m1": "done"}
    assert obs.usage["h1"] == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert obs.instances == {"i1": "h2"}


@nova
@pytest.mark.slow
def test_bug_refused_evacuation_after_the_source_returns_leaves_the_instance_uncharged(tracker):
    """docs/nova.md, finding 4 (a Nova bug): the source returns while an evacuation
    is accepted, then the destination refuses the claim.  The instance stays on the
    source, in ERROR, with no allocation in Placement, while the source's
    ResourceTracker counts it after its audit."""
    large = {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}
    # Through the spec too: at the Placement level the kit compares, the spec that
    # follows Nova 34 agrees (the claim is refused, the source freed, completed).
    steps = [S("boot", instance="i1", host="h1", flavor="large"),
             S("boot", instance="i2", host="h2", flavor="large"), *EVACUATE[:2],
             S("host_up", host="h1"), S("rebuild_claim", migration="m1"), S("audit", host="h1")]
    checker = run(tracker, steps)
    assert [e["expected"] for e in checker.trace][-2:] == ["rejected", "accepted"]
    obs = tracker.observe()
    details = tracker.details()
    assert obs.instances == {"i1": "h1", "i2": "h2"}
    assert obs.migrations == {"m1": "completed"}
    assert obs.usage["h1"] == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}  # Placement: nothing
    assert details["compute_node_usage"]["h1"] == large  # the RT: i1 is here
    assert "instance i1" not in details["allocations"]
    assert details["vm_states"]["i1"] == "error"


@nova
@pytest.mark.slow
def test_bug_delete_during_a_live_migration_leaks_the_source_allocation(tracker):
    """docs/nova.md, finding 7: the migration consumer keeps the source's share
    after the server is deleted (``_do_live_migration`` sets error, no rollback)."""
    small = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}
    d = _discrepancy(tracker, [BOOT, LIVE[0], S("delete", instance="i1")])
    assert d.step_index == 2
    assert d.observed["usage"]["h1"] == small
    assert "no_ghosts" in d.invariants
    assert tracker.details()["placement_usages"]["h1"] == small
    # Confirmed, not a transient: after both hosts' audits the migration consumer
    # still holds the source's share, and the source's ResourceTracker counts 0.
    for host in ("h1", "h2"):
        assert tracker.apply(S("audit", host=host)).accepted
    details = tracker.details()
    assert details["allocations"] == {"migration m1": {"h1": small}}
    assert details["compute_node_usage"]["h1"] == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert tracker.observe().migrations == {"m1": "error"}


@nova
@pytest.mark.slow
def test_a_move_of_an_evacuated_instance_takes_the_dead_sources_share_along(tracker):
    """docs/placement.md finding 6, confirmed on real Nova: while the evacuation's
    source is down (its share still in the instance's allocation), a resize moves
    that share into the migration consumer too (``replace_allocation_with_migration``
    calls ``move_allocations`` with no provider filter), and the confirm frees it
    before the source has come back.  The spec holds it until the source's restart."""
    small = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}
    zero = {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    steps = [BOOT, *EVACUATE, S("finish_evacuation", migration="m1"),
             S("resize_claim", migration="m2", instance="i1", dest="h3", flavor="small")]
    with pytest.raises(Discrepancy) as e:
        run(tracker, steps, cloud=plain_cloud(hosts=3, max_migrations=3))
    d = e.value
    assert d.step_index == 5 and "allocations" in d.message
    assert d.expected["allocations"] == {"m2": {"h2": small}, "i1": {"h3": small, "h1": small}}
    assert d.observed["allocations"] == {"m2": {"h1": small, "h2": small}, "i1": {"h3": small}}
    # Per host the usage still agrees; the confirm then frees the dead source's share.
    for k in ("resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish"):
        assert tracker.apply(S(k, migration="m2")).accepted
    obs = tracker.observe()
    assert obs.usage["h1"] == zero  # the spec: small, until h1 restarts
    assert obs.allocations == {"i1": {"h3": small}}


# ---------------------------------------------------------------------- faults


@nova
@pytest.mark.slow
@pytest.mark.parametrize("hook,word", [("MOVECHECK_NOVA_CRASH_AT", "crashed"),
                                       ("MOVECHECK_NOVA_HANG_AT", "hung")])
def test_a_dying_or_hanging_nova_is_a_discrepancy_with_no_orphans(hook, word):
    before = _orphans()
    # --shrink-examples 0: the report is the first failure (the hook fires at the
    # server's second step; a shrunk rerun on a restarted server would fire elsewhere)
    r = _cli("conform", "--tracker", "nova", "--examples", "1", "--steps", "3", "--seed", "0",
             "--shrink-examples", "0", env={hook: "2", "MOVECHECK_NOVA_MIN_TIMEOUT": "5"})
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert f"Nova {word}" in out
    # the server's second step: the example's step 2, or step 1 of the second example
    # when Hypothesis drew a one-step first example
    assert re.search(r"at step [12]\b", out), out
    assert "Traceback" not in out
    time.sleep(0.5)
    assert _orphans() <= before


# ---------------------------------------------------------------------- the short campaign (CI)


@nova
@pytest.mark.slow
def test_short_campaign_on_moves_is_conformant():
    """A short generated campaign: resize, cold and live migration with confirm,
    revert, abort and audits (failures, delete and evacuation left out: docs/nova.md
    lists what they find), on flavors with equal root disks (finding 1)."""
    from movecheck.conformance.driver import run_conformance

    off = ("fail", "delete", "host_down", "host_up", "evacuate_start", "rebuild_claim",
           "finish_evacuation")
    cloud = cloud_from_mapping({**plain_cloud().to_json(), "flavors": [
        {"name": "small", "vcpus": 1, "memory_mb": 512, "disk_gb": 10},
        {"name": "large", "vcpus": 2, "memory_mb": 1024, "disk_gb": 10}]})
    python = check_extra()
    result = run_conformance(lambda: NovaTracker(python, unsupported=off), cloud, examples=3,
                             steps=8, seed=0, timeout=None, label="nova")
    assert result.discrepancy is None, str(result.discrepancy)
    assert result.examples == 3
    assert set(off) <= set(result.unsupported_steps)
    assert result.coverage.accepted["resize_claim"] + result.coverage.accepted["live_claim"] > 0
