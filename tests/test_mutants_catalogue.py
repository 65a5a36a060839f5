"""The pinned figure of the bug catalogue: every bug caught, the reference clean (issue 5 item 7)."""

from __future__ import annotations

import json
import statistics

import pytest
from movecheck.conformance.cli import main
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
