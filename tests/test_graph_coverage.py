"""The coverage overlay: the documented shape, never-exercised edges, bad input."""

import pytest

from movecheck.graph.coverage import (
    coverage_drawings,
    coverage_of,
    coverage_text,
    never_exercised,
)
from movecheck.graph.pictures import write_coverage
from movecheck.spec.errors import InputError
from movecheck.spec.statuses import NEW, STATUS_MACHINES

COVERAGE = {
    "steps": {"boot": 10, "resize_claim": 4, "resize_migrate": 3, "fail": 1},
    "edges": {
        "resize": [
            {"from": NEW, "to": "pre-migrating", "count": 4},
            {"from": "pre-migrating", "to": "migrating", "count": 3},
            {"from": "pre-migrating", "to": "error", "count": 1},
        ],
        "live-migration": [{"from": "running", "to": "done", "count": 2}],
    },
}


def test_never_exercised_lists_every_other_edge_and_step():
    never = never_exercised(coverage_of({"coverage": COVERAGE}))
    resize = never["edges"]["resize"]
    assert len(resize) == STATUS_MACHINES["resize"].number_of_edges() - 3
    assert {"from": "finished", "to": "confirming", "steps": ["confirm"]} in resize
    assert len(never["edges"]["migration"]) == STATUS_MACHINES["migration"].number_of_edges()
    assert "confirm" in never["steps"] and "boot" not in never["steps"]
    # an edge the run took that the status machine does not have is reported, not dropped
    assert never["edges_not_in_status_machine"] == {
        "live-migration": [{"from": "running", "to": "done", "count": 2}]}


def test_exercised_edges_solid_with_counts_others_dashed():
    d = coverage_drawings(coverage_of(COVERAGE))[0]
    edges = {(e.src, e.dst): e for e in d.edges}
    assert edges[(NEW, "pre-migrating")].label == "resize_claim x4"
    assert edges[(NEW, "pre-migrating")].style == "solid"
    assert edges[("pre-migrating", "error")].style == "solid"  # a failure edge, exercised
    assert edges[("finished", "confirming")].style == "dashed"
    assert "never exercised (14):" in d.notes


def test_early_conformance_shape_is_read_too():
    legacy = {"coverage": {"steps_accepted": {"boot": 2}, "status_edges": {
        "resize": {"exercised": [[NEW, "pre-migrating"]], "never": []}}}}
    cov = coverage_of(legacy)
    assert cov["edges"]["resize"] == [{"from": NEW, "to": "pre-migrating", "count": 1}]
    assert cov["steps"] == {"boot": 2}


@pytest.mark.parametrize("doc,message", [
    ({"command": "explore", "states": 3}, "the report has no coverage"),
    ({"coverage": {"edges": {"resize": [{"from": "a", "to": "b"}]}}},
     "coverage field edges/resize/0: 'count' is a required property"),
    ({"coverage": {"edges": {"teleport": []}}}, "unknown migration type 'teleport'"),
])
def test_bad_coverage_is_one_sentence(doc, message):
    with pytest.raises(InputError, match=message):
        coverage_of(doc)


def test_coverage_text_and_files(tmp_path):
    text = "\n".join(coverage_text(coverage_of(COVERAGE)))
    assert "resize: 3 of 17 status edges exercised" in text
    assert "live-migration: took running -> done which the status machine lacks" in text
    paths = write_coverage({"coverage": COVERAGE}, tmp_path, ("svg", "html"), "builtin")
    names = {p.name for p in paths}
    assert {"coverage-resize.svg", "coverage-evacuation.svg", "coverage.html",
            "coverage-never.json"} <= names
    html = (tmp_path / "coverage.html").read_text(encoding="utf-8")
    assert "exercised 4 times" in html and "http" not in html
