"""Bounded model checking: the spec is clean, each spec mutant is found at its pinned depth."""

import json

import pytest

from movecheck.cli import main
from movecheck.spec import Spec, default_cloud
from movecheck.spec.engines.bmc import bmc
from movecheck.spec.engines.spec_mutants import MUTANTS
from movecheck.spec.vocab import Cloud, Host, Inventory

#: Minimal depth (steps from the initial state) at which BMC shows each spec mutant, on
#: TEST_CLOUD; BMC deepens one step at a time, so this is also the shortest trace.
DEPTH = {
    "confirm_keeps_source": 7,
    "revert_keeps_dest": 7,
    "resize_claim_no_capacity": 2,
    "same_host_resize_new_only": 2,
    "live_abort_keeps_dest": 4,
    "evacuate_from_up_host": 2,
    "audit_skips_in_progress": 3,
    "fail_releases_both": 3,
    "confirm_from_migrating": 4,
    "resize_type_always_resize": 2,
}


def _test_cloud() -> Cloud:
    """The default 2 hosts with one instance; h2 has only 512 MB, so large fits only on h1."""
    base = default_cloud(2, 1)
    h2 = base.hosts[1]
    inv = tuple((rc, Inventory(512, 0, 1.0) if rc == "MEMORY_MB" else i) for rc, i in h2.inventories)
    return Cloud((base.hosts[0], Host(h2.name, inv, h2.devices)), base.flavors, base.instances,
                 base.max_migrations)


TEST_CLOUD = _test_cloud()


@pytest.mark.parametrize("name", sorted(DEPTH))
def test_bmc_finds_each_spec_mutant_at_its_minimal_depth(name):
    r = bmc(TEST_CLOUD, 8, MUTANTS[name])
    assert r.invariant is not None
    assert r.depth == len(r.trace) == DEPTH[name]


def test_spec_has_no_violation_within_depth_6():
    r = bmc(TEST_CLOUD, 6)
    assert r.invariant is None and r.depth == 6 and r.complete


def test_bmc_trace_of_a_mutant_shows_the_broken_step():
    r = bmc(TEST_CLOUD, 8, MUTANTS["confirm_keeps_source"])
    assert [t.step.kind for t in r.trace] == [
        "boot", "resize_claim", "resize_migrate", "resize_migrated", "finish_resize", "confirm",
        "confirm_finish"]
    assert "confirm_frees_source" in r.broken
    # up to the broken step the trace is one of the concrete spec too
    spec = Spec(TEST_CLOUD)
    s = spec.initial()
    for t in r.trace[:-1]:
        s = spec.next_state(s, t.step, t.picks)
        assert s.usage == t.state.usage


def test_bmc_command_prints_the_trace_and_reports_it(tmp_path, capsys):
    path = tmp_path / "b.json"
    code = main(["bmc", "--depth", "4", "--instances", "1", "--spec-mutant", "live_abort_keeps_dest",
                 "--json", str(path)])
    assert code == 1
    r = json.loads(path.read_text())
    assert r["command"] == "bmc" and r["ok"] is False and r["depth"] == 4
    assert r["violation"]["invariant"] == "conservation"
    assert [d["step"] for d in r["violation"]["trace"]] == ["boot", "live_claim", "live_queue",
                                                             "live_abort"]
    out = capsys.readouterr().out
    assert "invariant conservation violated after 4 steps" in out and "live_abort(migration=m1)" in out


def test_bmc_command_clean(tmp_path):
    path = tmp_path / "b.json"
    assert main(["bmc", "--depth", "3", "--instances", "1", "--json", str(path)]) == 0
    r = json.loads(path.read_text())
    assert r["ok"] is True and r["violation"] is None and r["depth"] == 3


def test_bmc_bad_depth_exit_2(capsys):
    assert main(["bmc", "--depth", "-1"]) == 2
    assert "--depth must be 0 or more" in capsys.readouterr().err
