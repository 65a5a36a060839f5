"""The explore stage of ``movecheck check``: what it ran, what it skipped, --thorough."""

from types import SimpleNamespace

from movecheck.cli import check
from movecheck.spec import default_cloud


def test_the_quick_stage_says_what_it_skipped(monkeypatch):
    monkeypatch.setattr(check, "THOROUGH_CLOUDS", ((2, 1, 1),))
    stage = check._explore(default_cloud(1, 2, 1), SimpleNamespace(thorough=False), {})
    assert stage.ok
    assert stage.summary.startswith("384 states (196 up to symmetry), 1,180 transitions")
    assert stage.summary.endswith("skipped 2 hosts x 1 instances x 1 migrations (--thorough)")
    assert stage.report["states"] == 384 and stage.report["complete"] is True
    assert stage.report["skipped"] == ["2 hosts x 1 instances x 1 migrations"]


def test_thorough_explores_the_skipped_clouds_too(monkeypatch):
    monkeypatch.setattr(check, "THOROUGH_CLOUDS", ((2, 1, 1),))
    stage = check._explore(default_cloud(1, 2, 1), SimpleNamespace(thorough=True), {})
    assert stage.ok and "skipped" not in stage.summary
    assert [r["states"] for r in stage.report["runs"]] == [384, 1068]
    assert "2 hosts x 1 instances x 1 migrations: 1,068 states" in stage.summary
