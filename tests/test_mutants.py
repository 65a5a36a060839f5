"""``movecheck mutants`` and pytest integration (issue 5 items 6-7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from movecheck.cli import main
from movecheck.conformance.mutants import load_catalogue, run_mutants
from movecheck.spec.cloudfile import default_cloud

TESTS = Path(__file__).parent


def test_a_caught_catalogue_and_a_clean_reference_exit_0_with_the_report_fields(tmp_path):
    report, docs = tmp_path / "m.json", tmp_path / "bugs.md"
    assert main(["mutants", "--catalogue", "spec_tracker:CATALOGUE", "--examples", "60",
                 "--json", str(report), "--write-docs", str(docs)]) == 0
    data = json.loads(report.read_text())
    assert data["command"] == "mutants" and data["ok"] is True
    (m,) = data["mutants"]
    assert {"name", "bugs", "caught", "seconds", "counterexample_length"} <= set(m)
    assert m["name"] == "leak_on_confirm" and m["bugs"] == ["1707071"] and m["caught"] is True
    assert m["counterexample_length"] == 7
    assert data["reference"]["ok"] is True
    text = docs.read_text()
    assert "| [`leak_on_confirm`](#leak_on_confirm) | 1707071 | - | yes |" in text
    assert " 7. confirm_finish(migration=m1)" in text


def test_an_escaped_mutant_makes_the_run_fail(capsys):
    assert main(["mutants", "--catalogue", "spec_tracker:CATALOGUE_WITH_ESCAPE"]) == 1
    assert "1 of 2 bugs caught" in capsys.readouterr().out


def test_run_mutants_api_without_the_reference():
    results, ref = run_mutants(default_cloud(), mutants=load_catalogue("spec_tracker:CATALOGUE"),
                               examples=40, reference=False)
    assert ref is None and [r.caught for r in results] == [True]


def test_bad_catalogue_and_unknown_entry_are_exit_2(capsys):
    assert main(["mutants", "--catalogue", "spec_tracker:NO_SUCH"]) == 2
    assert "spec_tracker has no NO_SUCH" in capsys.readouterr().err
    assert main(["mutants", "--catalogue", "spec_tracker:CATALOGUE", "--only", "nope"]) == 2
    assert "no catalogue entry named nope; the entries are leak_on_confirm" in capsys.readouterr().err


def test_pytest_case_fails_on_a_bug_passes_on_the_spec_and_shares_the_database(tmp_path):
    (tmp_path / "test_trackers.py").write_text(
        "import movecheck.conformance\n"
        "import spec_tracker\n"
        "test_leaky = movecheck.conformance.pytest_case(spec_tracker.leaky_factory, seeds=range(2),"
        " examples=60)\n"
        "test_spec = movecheck.conformance.pytest_case(spec_tracker.factory, seeds=range(2),"
        " examples=20)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    # The nested run stands for a developer's own suite: with CI set, Hypothesis's
    # "ci" profile turns the example database off on purpose (docs/adapters.md).
    env.pop("CI", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
                          "test_trackers.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout
    assert "2 failed, 2 passed" in run.stdout
    assert "confirm_frees_source" in run.stdout
    # the counterexample is in Hypothesis's example database for the next run
    assert any((tmp_path / ".hypothesis" / "examples").rglob("*"))
