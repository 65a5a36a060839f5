"""``movecheck explore`` flags, the memory guard, and Ctrl-C with worker processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from movecheck.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_no_symmetry_and_full_states_flags_count_the_same(tmp_path):
    reports = []
    for flags in ([], ["--no-symmetry"], ["--full-states"], ["--workers", "2"]):
        out = tmp_path / f"r{len(reports)}.json"
        assert main(["explore", "--hosts", "3", "--instances", "1", "--max-migrations", "1",
                     *flags, "--json", str(out)]) == 0
        reports.append(json.loads(out.read_text()))
    assert {(r["states"], r["transitions"], r["depth"]) for r in reports} == {(5816, 33336, 11)}
    assert [r["reduced_states"] for r in reports] == [1020, 5816, 1020, 1020]
    assert reports[2]["full_states_kept"] is True and reports[2]["workers"] == 1
    assert reports[2]["collision_probability"] is None
    assert reports[3]["workers"] == 2


def test_the_summary_says_how_and_what_it_checked(capsys):
    assert main(["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1",
                 "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "explored 1,068 distinct states, 4,522 transitions, depth 10" in out
    assert "535 states stored, one per orbit" in out and "group of 2" in out
    assert "calculated (optimistic): " in out


@pytest.mark.parametrize("flags, words", [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--max-states", "0"], "--max-states must be at least 1"),
])
def test_bad_search_flags_are_one_sentence(flags, words, capsys):
    assert main(["explore", *flags]) == 2
    assert words in capsys.readouterr().err


def test_a_cloud_too_large_for_memory_stops_before_it_starts(tmp_path, capsys):
    out = tmp_path / "r.json"
    t0 = time.monotonic()
    assert main(["explore", "--hosts", "6", "--instances", "6", "--max-migrations", "6",
                 "--json", str(out)]) == 2
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert "about" in err and "states" in err and "--max-states" in err
    assert "Traceback" not in err
    assert json.loads(out.read_text())["ok"] is False


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_and_reports_what_was_done(tmp_path):
    """SIGINT to the whole process group (as a terminal's Ctrl-C): exit 130, counts so
    far, every worker gone promptly."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    report = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "movecheck", "explore", "--hosts", "3", "--instances", "2",
         "--max-migrations", "2", "--workers", "2", "--json", str(report)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    time.sleep(6)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=30)
    stopped = time.monotonic() - t0
    assert proc.returncode == 130, (out, err)
    deadline = time.monotonic() + 5
    while _alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(proc.pid), "a worker outlived the command"
    assert stopped < 5, f"took {stopped:.1f} s to stop"  # a second when the machine is quiet
    assert "INTERRUPTED explore" in out and "the search is not exhaustive" in out
    assert "reduced states: " in out  # the partial figures, as the command line prints them
    r = json.loads(report.read_text())
    assert r["complete"] is False and r["interrupted"] is True
    assert r["partial"]["stopped"] == "interrupted" and r["partial"]["reduced_states"] > 0
    print(f"stopped {stopped:.2f} s after SIGINT")
