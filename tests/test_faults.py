"""Faults, measured: what a user gets when a run is interrupted, a tracker misbehaves or the
report cannot be saved (docs/conformance.md, "Faults and what you get").

- SIGINT and SIGTERM at a random point of every command: exit 130 within two seconds, the
  partial figures on stdout, a report marked ``complete: false, interrupted: true``, no
  traceback;
- a tracker that hangs, crashes, answers garbage or answers a huge reply: a discrepancy
  naming the step (exit 1), never a crash;
- a report that cannot be written (its folder is a file; the disk fills up mid-write):
  one sentence, exit 2, and never half a JSON file.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonl_trackers import jsonl_command

from movecheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
#: Seconds from the signal to the exit that the contract allows.
STOP_WITHIN = 2.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MOVECHECK_DEBUG", None)
    return env


def _big_trace(tmp_path: Path) -> Path:
    """A trace long enough that validate runs for many seconds: one recorded run, repeated."""
    rec = tmp_path / "one.jsonl"
    assert main(["conform", "--examples", "20", "--seed", "3", "--record-trace", str(rec)]) == 0
    text = rec.read_text()
    big = tmp_path / "big.jsonl"
    big.write_text(text * 400)
    return big


#: Every command, with flags that make it run for well over the signal delay.
COMMANDS = {
    "check": ["check"],
    "prove": ["prove", "--hosts", "3", "--instances", "3"],
    "bmc": ["bmc", "--depth", "12"],
    "explore": ["explore"],
    "conform": ["conform", "--examples", "1000000", "--seed", "1"],
    "mutants": ["mutants"],
    "validate": ["validate", "BIG_TRACE"],
    "graph": ["graph", "--what", "space", "--hosts", "3", "--instances", "2",
              "--max-states", "10000000", "--format", "dot"],
}


def _interrupt(argv: list[str], sig: int, delay: float, tmp_path: Path):
    report = tmp_path / f"{argv[0]}-{sig}.json"
    proc = subprocess.Popen([sys.executable, "-m", "movecheck", *argv, "--json", str(report)],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    assert proc.poll() is None, f"{argv[0]} finished before the signal: pick a longer run"
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, time.monotonic() - sent, out, err, report


def _assert_interrupted(name, sig, code, took, out, err, report):
    assert code == 130, f"{name}: exit {code}\n{out}\n{err}"
    assert took < STOP_WITHIN, f"{name} took {took:.1f} s to stop after {sig.name}"
    assert "Traceback" not in err and "Traceback" not in out, err
    assert f"INTERRUPTED {name} by {sig.name}" in out and "no verdict" in out
    data = json.loads(report.read_text())
    assert data["command"] == name and data["ok"] is False
    assert data["complete"] is False and data["interrupted"] is True
    assert data["signal"] == sig.name and isinstance(data["partial"], dict)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_stops_on_a_signal_with_a_partial_report(name, sig, tmp_path):
    rng = random.Random(f"{name}-{sig.name}")  # random points, the same on every run
    argv = [str(_big_trace(tmp_path)) if a == "BIG_TRACE" else a for a in COMMANDS[name]]
    # From 3 s on: in the first moments Python itself is starting, before movecheck runs.
    delay = rng.uniform(3.0, 6.0)
    _assert_interrupted(name, sig, *_interrupt(argv, sig, delay, tmp_path))


def test_ctrl_c_during_a_proof_is_no_verdict(tmp_path):
    """The case of the first report: Ctrl-C inside a Z3 call used to become 'unknown',
    then 'FAIL', and the run went on for minutes."""
    code, took, out, err, report = _interrupt(["prove", "--hosts", "3", "--instances", "3"],
                                              signal.SIGINT, 6.0, tmp_path)
    _assert_interrupted("prove", signal.SIGINT, code, took, out, err, report)
    assert "FAIL" not in out and "unknown" not in out
    figures = json.loads(report.read_text())["partial"]
    assert figures, "the engines' figures so far are in the report"
    assert any("steps_done" in v for v in figures.values())


def test_ctrl_c_stops_the_bug_catalogue_instead_of_running_it_all(tmp_path):
    # 8 s: past start-up even on a loaded machine, long before 30 bugs are done.
    code, took, out, err, report = _interrupt(["mutants"], signal.SIGINT, 8.0, tmp_path)
    _assert_interrupted("mutants", signal.SIGINT, code, took, out, err, report)
    partial = json.loads(report.read_text())["partial"]
    assert partial["mutants_run"] < partial["mutants_total"]


# ---------------------------------------------------------------------- tracker faults

def _tracker(tmp_path: Path, body: str) -> str:
    """The ``--tracker`` of a jsonl tracker whose ``apply`` is ``body``."""
    return f"jsonl:{jsonl_command(tmp_path, body)}"


#: name -> (apply body, words the discrepancy must contain)
TRACKER_FAULTS = {
    "hangs": ("    time.sleep(60)", ["no reply to apply(", "within 0.5 s"]),
    "crashes": ("    sys.stderr.write('boom\\n'); sys.stderr.flush(); sys.exit(3)",
                ["exited (status 3)", "boom"]),
    "garbage": ("    return 'this is not json'", ["is not JSON"]),
    "huge": ("    return json.dumps({'result': 'accepted', 'junk': 'x' * 20_000_000})",
             ["apply("]),
}


@pytest.mark.parametrize("fault", list(TRACKER_FAULTS))
def test_a_misbehaving_tracker_is_a_discrepancy_not_a_crash(fault, tmp_path, capsys):
    body, words = TRACKER_FAULTS[fault]
    report = tmp_path / "r.json"
    t0 = time.monotonic()
    code = main(["conform", "--tracker", _tracker(tmp_path, body), "--examples", "3",
                 "--seed", "1", "--tracker-timeout", "0.5", "--json", str(report)])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert time.monotonic() - t0 < 30
    assert "Traceback" not in out + err and "DISCREPANCY" in out
    d = json.loads(report.read_text())["discrepancy"]
    assert d["category"] in ("fault", "timeout")
    for w in words:
        assert w in d["message"]
    assert len(d["message"]) < 10_000  # a huge reply is quoted, not copied whole


# ---------------------------------------------------------------------- saving the report

def test_a_report_that_cannot_be_written_is_said_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for argv in (["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1"],
                 ["conform", "--tracker", "spec_tracker:leaky_factory", "--seed", "1"]):
        t0 = time.monotonic()
        code = main([*argv, "--json", str(blocker / "r.json")])
        out, err = capsys.readouterr()
        assert code == 2 and time.monotonic() - t0 < 5  # at once, not after the run
        assert out == ""
        assert err.count("\n") == 1 and "cannot write the report" in err
        assert "Traceback" not in err


def test_a_report_folder_that_breaks_during_the_run_is_one_sentence_and_exit_2(
        tmp_path, capsys, monkeypatch):
    from movecheck.conformance import report

    def no_space(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("movecheck.cli.write_json", no_space)
    code = main(["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1",
                 "--json", str(tmp_path / "r.json")])
    out, err = capsys.readouterr()
    assert report.write_json is not no_space
    assert code == 2
    assert "explored 1,068 distinct states" in out  # the verdict was printed first
    assert err.count("\n") == 1 and "cannot write the report" in err and "Traceback" not in err


def test_a_full_disk_while_saving_leaves_the_old_report_whole(tmp_path, capsys, monkeypatch):
    report = tmp_path / "r.json"
    report.write_text('{"command": "explore", "old": true}\n')
    real_dump = json.dump

    def full_disk(obj, f, **kw):
        f.write('{"command": "explore", "stat')  # half a report reaches the temp file...
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # ...then the disk is full

    monkeypatch.setattr(json, "dump", full_disk)
    code = main(["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1",
                 "--json", str(report)])
    monkeypatch.setattr(json, "dump", real_dump)
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err
    assert json.loads(report.read_text()) == {"command": "explore", "old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp file left
