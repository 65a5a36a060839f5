"""movecheck check: the main job on the embedded default, and its failure path."""

import json
from types import SimpleNamespace

import pytest

from movecheck.cli import check, main
from movecheck.spec import default_cloud


@pytest.mark.slow
def test_check_on_the_default_cloud_holds_everywhere(tmp_path):
    report = tmp_path / "check.json"
    out = tmp_path / "out"
    assert main(["check", "--json", str(report), "--out", str(out)]) == 0
    r = json.loads(report.read_text())
    assert r["command"] == "check" and r["ok"] is True
    names = [s["name"] for s in r["stages"]]
    assert names == ["prove", "explore", "agreement", "conform", "mutants", "graph"]
    assert all(s["ok"] for s in r["stages"])
    stages = {s["name"]: s for s in r["stages"]}
    assert stages["explore"]["report"]["states"] == 1018172
    assert all(m["caught"] for m in stages["mutants"]["report"]["mutants"])
    assert len(stages["mutants"]["report"]["mutants"]) >= 15
    assert all(i["status"] == "proved" for i in stages["prove"]["report"]["invariants"])
    assert (out / "status-machines").is_dir()
    assert any(p.suffix == ".svg" for p in (out / "status-machines").iterdir())


def test_a_discrepancy_in_check_is_written_to_disk_first(tmp_path, monkeypatch):
    """The reference stage's counterexample reaches disk (JSON + replay) when it fails."""
    from movecheck.model.bugs import CATALOGUE

    buggy = CATALOGUE["lp1607219_revert_keeps_new_devices"].factory
    monkeypatch.setattr("movecheck.conformance.resolve_tracker", lambda name, **kw: buggy)
    args = SimpleNamespace(out=str(tmp_path), seed=1, solver_timeout=60.0, tracker_timeout=10.0)
    stage = check._conform(default_cloud(), args, {})
    assert not stage.ok and "DISCREPANCY" in stage.summary
    files = stage.report["files"]
    assert len(files) == 2
    data = json.loads(open(files[0]).read())
    assert data["discrepancy"]["trace"]
    assert "def test_" in open(files[1]).read()
