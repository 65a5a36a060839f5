"""Allocations per consumer and usage levels: the observation contract (docs/adapters.md)."""

from __future__ import annotations

import json
import random

import pytest

from movecheck.cli import main
from movecheck.conformance.adapters.spec import SpecTracker
from movecheck.conformance.checker import Checker, Discrepancy
from movecheck.conformance.driver import run_conformance
from movecheck.model import reference_factory
from movecheck.spec import InputError, Spec, Step, default_cloud, make_step
from movecheck.spec.allocations import (
    allocation_error,
    allocation_usage,
    allocation_violations,
    compute_node_usage,
    expected_allocations,
)

RCS = ("VCPU", "MEMORY_MB", "DISK_GB")


def _run(spec, steps):
    state = spec.initial()
    for s in steps:
        state = spec.next_state(state, s)
    return state


def _vec(cloud, flavor):
    return dict(zip(RCS, cloud.flavor(flavor).vector(), strict=True))


RESIZE = [Step("boot", instance="i1", host="h1", flavor="small"),
          Step("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large")]


def test_a_resize_splits_into_a_migration_and_an_instance_consumer():
    """Queens and later: migration holds old@source, instance holds new@dest
    (``_move_and_check_allocations`` in nova/tests/functional/integrated_helpers.py)."""
    cloud = default_cloud()
    spec = Spec(cloud)
    for extra in ([], [Step("resize_migrate", migration="m1")],
                  [Step("resize_migrate", migration="m1"), Step("resize_migrated", migration="m1")]):
        state = _run(spec, RESIZE + extra)
        assert expected_allocations(spec, state) == {
            "m1": {"h1": _vec(cloud, "small")}, "i1": {"h2": _vec(cloud, "large")}}
    state = _run(spec, RESIZE + [Step(k, migration="m1") for k in (
        "resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish")])
    assert expected_allocations(spec, state) == {"i1": {"h2": _vec(cloud, "large")}}


def test_an_evacuation_doubles_the_instance_and_has_no_migration_consumer():
    """``_check_allocation_during_evacuate``: the instance holds source and dest."""
    cloud = default_cloud()
    spec = Spec(cloud)
    steps = [Step("boot", instance="i1", host="h1", flavor="small"),
             Step("host_down", host="h1"),
             Step("evacuate_start", migration="m1", instance="i1", dest="h2")]
    assert expected_allocations(spec, _run(spec, steps)) == {"i1": {"h1": _vec(cloud, "small")}}
    steps.append(Step("rebuild_claim", migration="m1"))
    both = {"i1": {"h1": _vec(cloud, "small"), "h2": _vec(cloud, "small")}}
    assert expected_allocations(spec, _run(spec, steps)) == both
    steps.append(Step("finish_evacuation", migration="m1"))
    assert expected_allocations(spec, _run(spec, steps)) == both
    steps.append(Step("host_up", host="h1"))
    assert expected_allocations(spec, _run(spec, steps)) == {"i1": {"h2": _vec(cloud, "small")}}


def test_allocations_add_up_to_the_spec_usage_on_random_walks():
    cloud = default_cloud()
    spec = Spec(cloud)
    rnd = random.Random(7)
    for _ in range(60):
        state = spec.initial()
        for _ in range(25):
            succ = list(spec.successors(state))
            _, _, state = rnd.choice(succ)
            obs = spec.observe(state)
            assert allocation_usage(cloud, obs.allocations) == obs.usage
            assert allocation_violations(spec, state, obs.allocations, obs.usage) == {}


def test_the_reference_tracker_reports_the_allocations_the_spec_expects():
    result = run_conformance(reference_factory, default_cloud(), examples=40, steps=25, seed=3)
    assert "allocations" in result.capabilities
    assert result.discrepancy is None


def test_allocation_invariants_name_a_leaked_migration_and_a_stray_instance():
    cloud = default_cloud()
    spec = Spec(cloud)
    state = _run(spec, RESIZE + [Step(k, migration="m1") for k in (
        "resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish")])
    leaked = {"i1": {"h2": _vec(cloud, "large")}, "m1": {"h1": _vec(cloud, "small")}}
    found = allocation_violations(spec, state, leaked, spec.observe(state).usage)
    assert set(found) == {"allocations_add_up", "allocations_no_ended_migration"}
    stray = {"i1": {"h1": _vec(cloud, "large")}}
    assert "allocations_on_instance_host" in allocation_violations(spec, state, stray, None)


class _KeepsMigrationAllocation(SpecTracker):
    """Confirm forgets to delete the migration consumer's allocation (bug 1707071's shape)."""

    def reset(self, cloud):
        super().reset(cloud)
        self.kept = {}

    def apply(self, step):
        before = self.state
        out = super().apply(step)
        if out.accepted and step.kind == "confirm_finish":
            self.kept = expected_allocations(self.spec, before)
        return out

    def observe(self):
        obs = super().observe()
        allocations = dict(obs.allocations)
        allocations.update({c: a for c, a in self.kept.items() if c.startswith("m")})
        from dataclasses import replace

        return replace(obs, allocations=allocations)


def test_a_kept_migration_allocation_is_a_discrepancy_naming_its_invariant_and_bug():
    checker = Checker(default_cloud(), _KeepsMigrationAllocation())
    checker.reset()
    with pytest.raises(Discrepancy) as e:
        for s in RESIZE + [Step(k, migration="m1") for k in (
                "resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish")]:
            checker.apply(s)
    d = e.value
    assert "allocations" in d.message and d.trace[-1]["step"] == "confirm_finish"
    assert "allocations_no_ended_migration" in d.invariants and "1707071" in d.bugs
    from movecheck.conformance.counterexample import render_text

    text = render_text(default_cloud(), d)
    assert "allocation m1 on h1" in text and "no allocation belongs to a migration" in text


class _Malformed(SpecTracker):
    def observe(self):
        obs = super().observe()
        if obs.allocations:
            from dataclasses import replace

            return replace(obs, allocations={"i1": {"h1": {"VCPU": -1}}})
        return obs


def test_a_malformed_allocation_is_bad_input_naming_consumer_and_host():
    checker = Checker(default_cloud(), _Malformed())
    checker.reset()
    with pytest.raises(InputError, match=r"consumer i1 on host h1: VCPU is -1"):
        checker.apply(make_step("boot", instance="i1", host="h1", flavor="small"))
    cloud = default_cloud()
    assert "host 'h9'" in allocation_error(cloud, {"i1": {"h9": {"VCPU": 1}}})
    assert "'x1'" in allocation_error(cloud, {"x1": {"h1": {"VCPU": 1}}})
    assert allocation_error(cloud, {"i1": {"h1": {"VCPU": 1}}, "m1": {}}) is None


def test_conform_exits_2_on_a_malformed_allocation_and_keeps_the_report(tmp_path, monkeypatch):
    import sys
    import types

    mod = types.ModuleType("malformed_allocations_tracker")
    mod.factory = _Malformed
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    report = tmp_path / "r.json"
    code = main(["conform", "--tracker", f"{mod.__name__}:factory", "--examples", "5",
                 "--seed", "1", "--json", str(report)])
    assert code == 2
    data = json.loads(report.read_text())
    assert "consumer i1 on host h1" in data["error"]
    assert data["examples"] >= 1 and data["tracker"] == f"{mod.__name__}:factory"


class _ComputeNodeLevel(SpecTracker):
    """Nova's ComputeNode counters: usage catches up only at the host's audit,
    and the dest's audit in the post-migrating window charges the old flavor."""

    usage_level = "compute_node"

    def reset(self, cloud):
        super().reset(cloud)
        self.counters = {h: dict.fromkeys(RCS, 0) for h in cloud.host_names}

    def apply(self, step):
        out = super().apply(step)
        if out.accepted and step.kind == "audit":
            self.counters[step.host] = compute_node_usage(self.spec, self.state, step.host)
        return out

    def observe(self):
        from dataclasses import replace

        return replace(super().observe(), usage={h: dict(u) for h, u in self.counters.items()})


def test_compute_node_level_usage_is_compared_only_after_an_audit():
    result = run_conformance(_ComputeNodeLevel, default_cloud(), examples=40, steps=25, seed=5)
    assert result.discrepancy is None
    # The same lagging counters declared at Placement level are a discrepancy.

    class _Lying(_ComputeNodeLevel):
        usage_level = "placement"

    result = run_conformance(_Lying, default_cloud(), examples=40, steps=25, seed=5)
    assert result.discrepancy is not None and "usage" in result.discrepancy.message


def test_the_post_migrating_audit_charges_the_old_flavor_on_the_dest():
    cloud = default_cloud()
    spec = Spec(cloud)
    state = _run(spec, RESIZE + [Step("resize_migrate", migration="m1"),
                                 Step("resize_migrated", migration="m1")])
    assert compute_node_usage(spec, state, "h2") == _vec(cloud, "small")
    assert spec.observe(state).usage["h2"] == _vec(cloud, "large")  # Placement level


def test_an_unknown_usage_level_is_bad_input():
    class _Odd(SpecTracker):
        usage_level = "hypervisor"

    with pytest.raises(InputError, match="usage_level"):
        Checker(default_cloud(), _Odd()).reset()


def test_a_recorded_compute_node_level_trace_says_so_and_validates(tmp_path):
    from movecheck.conformance.adapters.recorder import RecordingTracker
    from movecheck.conformance.validate import validate_file

    path = tmp_path / "cn.jsonl"
    rec = RecordingTracker(_ComputeNodeLevel(), path)
    checker = Checker(default_cloud(), rec)
    checker.reset()
    for s in RESIZE + [Step("resize_migrate", migration="m1"),
                       Step("resize_migrated", migration="m1"), Step("audit", host="h2"),
                       Step("finish_resize", migration="m1"), Step("audit", host="h2")]:
        checker.apply(s)
    rec.close()
    first = json.loads(path.read_text().splitlines()[0])
    assert first["reply"]["usage_level"] == "compute_node"
    assert validate_file(path).divergence is None
    # Read at the Placement level, the lagging counters are explained by no reading.
    lines = path.read_text().splitlines()
    del first["reply"]["usage_level"]
    lines[0] = json.dumps(first)
    placement = tmp_path / "p.jsonl"
    placement.write_text("\n".join(lines) + "\n")
    assert validate_file(placement).divergence is not None
