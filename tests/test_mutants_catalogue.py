"""The pinned figure of the bug catalogue: every bug caught, the reference clean (issue 5 item 7)."""

from __future__ import annotations

import json
import statistics

import pytest

from movecheck.cli import main
from movecheck.model.bugs import CATALOGUE


@pytest.mark.slow
def test_movecheck_mutants_catches_every_catalogue_bug_and_the_reference_passes(tmp_path):
    report = tmp_path / "m.json"
    code = main(["mutants", "--seed", "0", "--json", str(report)])
    data = json.loads(report.read_text())
    missed = [m["name"] for m in data["mutants"] if not m["caught"]]
    assert missed == [], f"escaped: {missed}"
    assert data["reference"]["ok"] is True
    assert code == 0 and data["ok"] is True
    assert len(data["mutants"]) == len(CATALOGUE) >= 15
    assert statistics.median(m["counterexample_length"] for m in data["mutants"]) <= 8
    for m in data["mutants"]:
        assert set(m["bugs"]) == set(CATALOGUE[m["name"]].bugs)


def test_the_replay_file_of_a_caught_catalogue_bug_fails_and_passes_on_the_reference(tmp_path):
    import os
    import subprocess
    import sys

    replay = tmp_path / "test_replay_1845146.py"
    tracker = "movecheck.model.bugs.lp1845146_audit_drops_live_claim:factory"
    assert main(["conform", "--tracker", tracker, "--seed", "1", "--replay-out", str(replay)]) == 1
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(replay)]
    env = {k: v for k, v in os.environ.items() if k != "MOVECHECK_REPLAY_TRACKER"}
    failing = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert failing.returncode == 1 and "1845146" in failing.stdout
    fixed = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True,
                           env=dict(env, MOVECHECK_REPLAY_TRACKER="reference"))
    assert fixed.returncode == 0, fixed.stdout


def test_one_shared_run_catches_each_bug_where_its_own_run_does():
    """run_together (check's quick catalogue): each bug caught at the same example, with
    the same unshrunk counterexample, as a run of its own without shrinking."""
    from movecheck.conformance.driver import run_conformance
    from movecheck.conformance.mutants import load_catalogue, run_together
    from movecheck.spec import default_cloud

    cloud = default_cloud()
    wanted = ("lp1519001_double_counted_vcpus", "lp1417667_evacuate_no_claim",
              "lp1896463_evacuation_outside_lock")
    mutants = [m for m in load_catalogue() if m.name in wanted]
    assert len(mutants) == len(wanted)
    together, ref_failure = run_together(cloud, mutants, seed=0)
    assert ref_failure is None
    for m, shared in zip(mutants, together, strict=True):
        alone = run_conformance(m.factory, cloud, examples=1000, steps=15, seed=0, label=m.name,
                                shrink=False)
        assert shared.caught and alone.discrepancy is not None, m.name
        assert shared.result.discrepancy.trace == alone.discrepancy.trace, m.name
        assert shared.result.first_failure_example == alone.first_failure_example, m.name
