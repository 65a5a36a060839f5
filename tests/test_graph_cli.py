"""``movecheck graph`` on the command line: reports, files, exit statuses."""

import json

import pytest

from movecheck.cli import main


def run(capsys, *argv):
    code = main(["graph", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_statuses_writes_pictures_and_reports_analyses(tmp_path, capsys):
    rep = tmp_path / "r.json"
    code, out, err = run(capsys, "--out", str(tmp_path / "g"), "--format", "svg,dot,mermaid",
                         "--renderer", "builtin", "--json", str(rep))
    assert code == 0 and err == ""
    data = json.loads(rep.read_text())
    assert data["command"] == "graph" and data["ok"] is True
    names = sorted(p.rsplit("/", 1)[1] for p in data["files"])
    assert "status-resize.svg" in names and "status-evacuation.mmd" in names
    assert "status-analysis.json" in names
    assert [a["migration_type"] for a in data["analysis"]] == [
        "resize", "migration", "live-migration", "evacuation"]
    assert "resize: 11 statuses (with ∅), 17 edges" in out
    assert "longest acyclic path (7 steps): ∅ -> pre-migrating -> migrating -> " \
           "post-migrating -> finished -> confirming -> error -> failed" in out
    assert "cycles through rewrites of a finished status: {completed, done, pre-migrating}" in out


def test_space_default_cloud_and_report(tmp_path, capsys):
    rep = tmp_path / "r.json"
    code, out, _ = run(capsys, "--what", "space", "--out", str(tmp_path), "--format", "dot",
                       "--json", str(rep))
    assert code == 0
    data = json.loads(rep.read_text())
    assert data["space"]["states"] == 1068 and data["space"]["abstraction"] == "phase"
    assert "explored 1,068 states, 4,522 transitions; drawn as 23 nodes" in out


def test_trace_from_an_explore_style_report(tmp_path, capsys):
    report = tmp_path / "explore.json"
    report.write_text(json.dumps({
        "command": "explore", "ok": False, "seconds": 0.1, "movecheck_version": "0.1.0",
        "violation": {"invariant": "capacity", "messages": ["h1 over"], "trace": [
            {"step": "boot", "instance": "i1", "host": "h1", "flavor": "small"}]}}))
    code, out, _ = run(capsys, "--what", "trace", "--report", str(report), "--out",
                       str(tmp_path / "t"), "--format", "svg")
    assert code == 0
    assert "boot(instance=i1, host=h1, flavor=small)" in out
    assert (tmp_path / "t" / "trace-table.svg").exists()


def test_coverage_from_a_report(tmp_path, capsys):
    report = tmp_path / "conform.json"
    report.write_text(json.dumps({
        "command": "conform", "ok": True, "seconds": 0.1, "movecheck_version": "0.1.0",
        "coverage": {"steps": {"boot": 1}, "edges": {"resize": [
            {"from": "∅", "to": "pre-migrating", "count": 1}]}}}))
    code, out, _ = run(capsys, "--what", "coverage", "--report", str(report), "--out",
                       str(tmp_path / "c"), "--format", "mermaid")
    assert code == 0
    assert "resize: 1 of 17 status edges exercised" in out
    assert (tmp_path / "c" / "coverage-resize.mmd").exists()


@pytest.mark.parametrize("argv,message", [
    (["--what", "bogus"], "argument --what: invalid choice: 'bogus'"),
    (["--what", "trace"], "--what trace needs --report PATH"),
    (["--format", "svg,gif"], "unknown --format 'gif'"),
    (["--what", "space", "--max-nodes", "0"], "--max-nodes must be a whole number"),
    (["--report", "x.json"], "--report is for --what trace or coverage, not statuses"),
])
def test_bad_usage_is_exit_2_with_one_sentence(tmp_path, capsys, argv, message):
    code, out, err = run(capsys, *argv, "--out", str(tmp_path))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_file_that_is_not_a_movecheck_report_is_exit_2(tmp_path, capsys):
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"hello": "world"}))
    code, _, err = run(capsys, "--what", "trace", "--report", str(bogus), "--out", str(tmp_path))
    assert code == 2
    assert f"{bogus} is not a movecheck report" in err
    notjson = tmp_path / "notjson.json"
    notjson.write_text("<html>")
    code, _, err = run(capsys, "--what", "coverage", "--report", str(notjson), "--out",
                       str(tmp_path))
    assert code == 2 and "is not JSON" in err and len(err.strip().splitlines()) == 1


def test_out_that_is_a_file_is_exit_2(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run(capsys, "--out", str(f), "--format", "dot")
    assert code == 2 and "exists and is not a directory" in err
