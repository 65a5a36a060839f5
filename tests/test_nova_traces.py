"""Ground truth from Nova 34's own functional tests (tests/traces/nova_scenarios.py).

Every trace replays one Nova functional test and states what it asserts
(Placement usage per compute, allocations per consumer, statuses).  The spec
must explain each trace and reject each trace's one-unit edit at the edited
line.  A changed-path trace (tests/traces/pending/, none left) would be rejected
exactly where Nova 34 parts from the spec (docs/spec.md, "The blueprint, Nova 34
and movecheck").
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from movecheck.cli import main
from movecheck.conformance.validate import validate_file

TRACES = Path(__file__).parent / "traces"


def _scenarios():
    spec = importlib.util.spec_from_file_location("nova_scenarios", TRACES / "nova_scenarios.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


NS = _scenarios()


@pytest.mark.parametrize("make", NS.SCENARIOS, ids=lambda f: f.__name__)
def test_a_nova_test_scenario_is_explained_by_the_spec(make):
    t = make()
    path = TRACES / f"nova_{t.name}.jsonl"
    assert path.read_text(encoding="utf-8") == t.text(), (
        f"{path.name} is stale: run python tests/traces/nova_scenarios.py")
    result = validate_file(path)
    assert result.divergence is None, result.divergence
    assert result.steps >= 5
    assert sum(1 for x in t.lines if x["op"] == "observe") >= 2


@pytest.mark.parametrize("make", NS.SCENARIOS, ids=lambda f: f.__name__)
def test_a_one_unit_edit_of_a_nova_scenario_is_rejected_at_its_line(make, tmp_path):
    t = make()
    lineno, lines = NS.edited_lines(t)
    edited = tmp_path / f"{t.name}.jsonl"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = validate_file(edited)
    assert result.divergence is not None
    assert result.divergence["line"] == lineno
    assert result.divergence["op"] == "observe"


def test_no_nova_scenario_waits_for_the_spec():
    """Every recorded Nova 34 scenario is explained (the refused claim of
    test_resize_not_enough_resource was the last): none is pending, no stale copy."""
    assert NS.PENDING == {}
    assert not (TRACES / "pending").exists()
    assert "resize_not_enough_resource" in {make.__name__ for make in NS.SCENARIOS}


def test_validate_on_a_nova_trace_exits_0_and_reports_json(tmp_path):
    report = tmp_path / "v.json"
    assert main(["validate", str(TRACES / "nova_evacuate.jsonl"), "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["divergence"] is None and data["steps"] == 7


def test_a_malformed_allocation_in_a_trace_is_bad_input_naming_consumer_and_host(tmp_path,
                                                                                  capsys):
    lines = (TRACES / "nova_resize_confirm.jsonl").read_text().splitlines()
    obs = json.loads(lines[2])
    obs["reply"]["allocations"]["server"]["host1"]["VCPU"] = "one"
    lines[2] = json.dumps(obs)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "consumer server on host host1" in err
