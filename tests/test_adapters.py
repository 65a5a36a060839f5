"""Adapters and the lock-step checker: naming trackers, recording, each kind of discrepancy."""

from __future__ import annotations

import json

import pytest
import spec_tracker

from movecheck.conformance.adapters import BUILTIN, resolve_tracker
from movecheck.conformance.adapters.recorder import RecordingTracker
from movecheck.conformance.checker import Checker, Discrepancy
from movecheck.conformance.protocol import first_error
from movecheck.conformance.tracker import Tracker
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.errors import InputError
from movecheck.spec.vocab import Observation, Outcome, Step

CLOUD = default_cloud()
BOOT_LARGE = Step("boot", instance="i1", host="h1", flavor="large")


def test_reference_is_a_tracker_factory():
    t = resolve_tracker("reference")()
    assert isinstance(t, Tracker)
    t.reset(CLOUD)
    assert t.apply(BOOT_LARGE).accepted
    t.close()


def test_builtin_names_are_listed_for_an_unknown_tracker():
    with pytest.raises(InputError) as e:
        resolve_tracker("mystery")
    for name in BUILTIN:
        assert name in str(e.value)


def test_a_factory_named_by_module_path_is_imported():
    assert resolve_tracker("spec_tracker:factory") is spec_tracker.factory
    with pytest.raises(InputError, match="not callable"):
        resolve_tracker("spec_tracker:CATALOGUE")


class _Tweak(spec_tracker.SpecTracker):
    """A spec tracker with one change, set per test."""

    def __init__(self, apply=None, observe=None):
        super().__init__()
        self._apply, self._observe = apply, observe

    def apply(self, step):
        return self._apply(self, step) if self._apply else super().apply(step)

    def observe(self):
        return self._observe(self) if self._observe else super().observe()


def _run(tracker, *steps):
    c = Checker(CLOUD, tracker)
    c.reset()
    for s in steps:
        c.apply(s)
    return c


def test_accepting_a_step_the_spec_rejects_is_named():
    t = _Tweak(apply=lambda self, s: Outcome.accept() if s.kind == "confirm" else
               spec_tracker.SpecTracker.apply(self, s))
    with pytest.raises(Discrepancy) as e:
        _run(t, Step("confirm", migration="m1"))
    d = e.value
    assert d.category == "accepted" and "unknown migration m1" in d.message
    assert d.expected["outcome"]["result"] == "rejected"


def test_an_illegal_device_pick_breaks_devices_exclusive():
    t = _Tweak(apply=lambda self, s: Outcome.accept(("pci7",)) if s.kind == "boot" else None)
    with pytest.raises(Discrepancy) as e:
        _run(t, BOOT_LARGE)
    assert e.value.category == "pick" and "devices_exclusive" in e.value.invariants
    assert "pci7" in e.value.message


def test_a_tracker_that_starts_with_usage_diverges_right_after_reset():
    def observe(self):
        obs = spec_tracker.SpecTracker.observe(self)
        obs.usage["h2"]["VCPU"] = 1
        return obs

    with pytest.raises(Discrepancy) as e:
        _run(_Tweak(observe=observe))
    assert e.value.step_index == -1 and "after reset" in str(e.value)
    assert "conservation" in e.value.invariants


def test_garbage_usage_is_a_fault_not_a_crash():
    t = _Tweak(observe=lambda self: Observation(usage={"h1": {"VCPU": "lots"}}))
    with pytest.raises(Discrepancy) as e:
        _run(t)
    assert e.value.category == "fault" and "not a whole number" in e.value.message


def test_hosts_and_classes_left_out_of_usage_count_as_zero():
    t = _Tweak(observe=lambda self: Observation(usage={}))
    t.capabilities = frozenset({"usage"})
    c = _run(t, Step("host_down", host="h2"))
    assert c.state.up == (True, False)


def test_the_recorder_writes_schema_valid_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    t = RecordingTracker(spec_tracker.factory(), path)
    _run(t, BOOT_LARGE, Step("delete", instance="i2"))
    t.close()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["op"] for x in lines] == ["reset", "observe", "apply", "observe", "apply", "observe",
                                       "close"]
    assert lines[2]["reply"] == {"result": "accepted", "devices": ["pci0"]}
    assert lines[4]["reply"]["result"] == "rejected"
    for x in lines:
        assert first_error("line", x) is None


def test_the_spec_as_a_tracker_is_conformant_to_itself():
    """--tracker spec: a self-check of the harness (any failure is a harness bug)."""
    from movecheck.cli import main

    assert main(["conform", "--tracker", "spec", "--examples", "30", "--seed", "4"]) == 0
