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
    # the quick run explores the default cloud with one migration (2 x 2 x 1), and says so
    assert stages["explore"]["report"]["states"] == 17844
    assert stages["explore"]["report"]["complete"] is True
    assert "with at most 1 migration" in stages["explore"]["summary"]
    assert any("2 migrations" in s for s in r["skipped"]["explore"])
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


def _args(thorough: bool) -> SimpleNamespace:
    return SimpleNamespace(out="unused", seed=0, solver_timeout=60.0, tracker_timeout=10.0,
                           thorough=thorough)


def test_the_quick_run_plans_less_and_thorough_plans_everything():
    """What each mode runs, without running it: the quick run leaves out the parametric
    proofs, vacuity, the 3-host cloud and per-bug shrinking runs; --thorough has them all."""
    cloud = default_cloud()
    plans = {}
    for thorough in (False, True):
        args = _args(thorough)
        plans[thorough] = {name: [p.label for p in parts(cloud, args, {})]
                           for name, (parts, _) in check.PLAN.items()}
    quick, full = plans[False], plans[True]
    assert quick["prove"] == ["bounded"]
    assert sorted(full["prove"]) == ["bounded", "parametric", "vacuity"]
    assert quick["explore"] == ["cloud"]
    assert full["explore"] == ["cloud", "3 hosts x 2 instances x 2 migrations"]
    n = check._lanes(_args(False))  # one shared catalogue run per lane
    assert quick["mutants"] == [check._catalogue_label(k, n) for k in range(n)]
    assert len(full["mutants"]) >= 15 and "catalogue" not in full["mutants"]
    assert check._lanes(_args(True)) == 1


def test_the_quick_run_explores_a_large_cloud_with_fewer_migrations_and_says_so():
    cloud = default_cloud()
    assert check._quick_cloud(cloud).max_migrations == 1
    assert check._quick_cloud(default_cloud(2, 1, 1)) == default_cloud(2, 1, 1)
    skipped = check._explore_skipped(cloud, _args(False))
    assert skipped[0] == "the cloud with 2 migrations (about 756,100 states)"
    assert check._explore_skipped(cloud, _args(True)) == []
    [(label, explored)] = check._explore_clouds(cloud, _args(False))
    assert explored.max_migrations == 1
    assert check._explore_clouds(cloud, _args(True))[0] == ("cloud", cloud)


def test_a_quick_stage_names_what_it_skipped_and_is_not_a_pass_of_it():
    cloud = default_cloud()
    rows = [{"name": "conservation", "status": "proved", "seconds": 0.1}]
    stage = check._prove_stage(cloud, _args(False), {"bounded": rows}, {})
    assert stage.ok and "parametric" in stage.summary and "vacuity skipped" in stage.summary
    assert stage.report["skipped"] == ["parametric proofs", "vacuity"]
    assert "parametric" not in stage.report
    full = check._prove_stage(cloud, _args(True), {"bounded": rows, "parametric": rows,
                                                   "vacuity": [{"found": False}]}, {})
    assert not full.ok and "skipped" not in full.report  # a missing witness fails


@pytest.mark.slow
def test_thorough_runs_what_the_quick_run_skips(tmp_path, monkeypatch):
    """--thorough end to end, on a smaller extra cloud and two catalogue bugs (the real
    ones take minutes): parametric proofs, vacuity, the extra cloud, shrunk bugs."""
    from movecheck.conformance import mutants

    few = [m for m in mutants.load_catalogue()
           if m.name in ("lp1519001_double_counted_vcpus", "lp1417667_evacuate_no_claim")]
    monkeypatch.setattr(mutants, "load_catalogue", lambda *a: few)
    monkeypatch.setattr(check, "THOROUGH_CLOUDS", ((2, 1, 1),))
    report = tmp_path / "check.json"
    assert main(["check", "--thorough", "--json", str(report), "--out", str(tmp_path)]) == 0
    r = json.loads(report.read_text())
    assert r["mode"] == "thorough" and r["skipped"] == {} and r["processes"] == 1
    stages = {s["name"]: s for s in r["stages"]}
    assert stages["prove"]["report"]["parametric"] and "vacuity" in stages["prove"]["summary"]
    assert [run["cloud"] for run in stages["explore"]["report"]["runs"]] == [
        "cloud", "2 hosts x 1 instances x 1 migrations"]
    bugs = stages["mutants"]["report"]["mutants"]
    assert [b["name"] for b in bugs] == [m.name for m in few]
    assert all(b["caught"] and b["shrunk"] for b in bugs)
    assert "skipped" not in stages["mutants"]["summary"]
