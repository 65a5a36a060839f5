"""The jsonl adapter: the node example tracker passes; broken subprocesses are discrepancies."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from jsonl_trackers import jsonl_command

from movecheck.cli import main
from movecheck.conformance.adapters import resolve_tracker
from movecheck.conformance.adapters.jsonl import JsonlTracker
from movecheck.conformance.driver import SetupError, run_conformance
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.vocab import Step

EXAMPLE = Path(__file__).parent.parent / "conformance" / "examples" / "tracker.js"
CLOUD = default_cloud()


def test_the_node_example_tracker_is_conformant(tmp_path):
    report = tmp_path / "r.json"
    # The default cloud, pinned: on generated clouds the example computes
    # capacity in floating point (100 x 1.15 < 115) and is caught at once.
    code = main(["conform", "--tracker", f"jsonl:node {EXAMPLE}", "--examples", "60",
                 "--hosts", "2", "--seed", "11", "--json", str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["discrepancy"]
    assert data["capabilities"] == ["devices", "instances", "migrations", "usage"]
    assert data["steps"] > 500


def test_the_node_example_declares_only_usage_when_asked():
    f = resolve_tracker(f"jsonl:node {EXAMPLE} --usage-only", timeout=5)
    r = run_conformance(f, CLOUD, examples=20, seed=3)
    assert r.ok and r.capabilities == frozenset({"usage"})


@pytest.mark.parametrize("body, words", [
    ("    sys.stderr.write('boom: segfault in claim\\n'); sys.stderr.flush(); sys.exit(3)",
     ["exited (status 3) while answering apply(", "boom: segfault in claim"]),
    ("    time.sleep(30)", ["no reply to apply(", "within 0.5 s"]),
    ("    return 'this is not json'", ["is not JSON", "this is not json"]),
    ("    return {'result': 'perhaps'}", ["does not fit the protocol", "field result"]),
    ("    return {'error': 'database is locked'}", ["with an error: database is locked"]),
])
def test_a_broken_jsonl_tracker_is_a_discrepancy_naming_the_step(tmp_path, body, words):
    f = resolve_tracker("jsonl:" + jsonl_command(tmp_path, body), timeout=0.5)
    r = run_conformance(f, CLOUD, examples=5, seed=1, timeout=0.5)
    d = r.discrepancy
    assert d is not None and d.category in ("fault", "timeout")
    for w in words:
        assert w in d.message
    assert d.trace and d.trace[-1]["step"] in d.message


def test_a_crashed_process_is_restarted_on_the_next_reset(tmp_path):
    t = JsonlTracker(jsonl_command(tmp_path, "    sys.exit(1)"), timeout=2)
    t.reset(CLOUD)
    with pytest.raises(Exception, match="exited"):
        t.apply(Step("audit", host="h1"))
    t.reset(CLOUD)
    assert t.observe().usage["h1"]["VCPU"] == 0
    t.close()


def test_a_command_that_does_not_exist_is_a_setup_error_exit_2(capsys):
    assert main(["conform", "--tracker", "jsonl:/no/such/tracker-binary", "--examples", "2"]) == 2
    err = capsys.readouterr().err
    assert "cannot start jsonl tracker" in err and "path right" in err
    assert "Traceback" not in err


def test_a_tracker_that_never_flushes_its_reply_is_a_setup_error_naming_the_cause(tmp_path):
    p = tmp_path / "buffered.py"
    # Replies go to a buffered stdout that is never flushed.
    p.write_text("import json, os, sys\n"
                 "out = open(sys.stdout.fileno(), 'w', buffering=1 << 16)\n"
                 "for line in sys.stdin:\n"
                 "    out.write(json.dumps({'capabilities': ['usage']}) + '\\n')\n")
    tracker = JsonlTracker(f"{shlex.quote(sys.executable)} {shlex.quote(str(p))}", timeout=0.5,
                           startup_timeout=1.0)
    with pytest.raises(SetupError, match="flush stdout after every reply"):
        run_conformance(lambda: tracker, CLOUD, examples=2, seed=1)


def test_a_slow_start_is_not_a_timeout(tmp_path):
    """The first reset of a fresh process gets the start-up allowance, not the
    per-call timeout (an interpreter starting under pytest -n can be slow)."""
    jsonl_command(tmp_path, "    return {'result': 'rejected', 'reason': 'no'}")  # writes t.py
    slow = tmp_path / "slow.py"
    slow.write_text("import time, runpy, sys\ntime.sleep(1.0)\n"
                    f"runpy.run_path({str(tmp_path / 't.py')!r}, run_name='__main__')\n")
    t = JsonlTracker(f"{shlex.quote(sys.executable)} {shlex.quote(str(slow))}", timeout=0.3)
    t.reset(CLOUD)
    assert t.observe().usage["h1"]["VCPU"] == 0
    t.close()


def test_the_first_tracker_example_is_conformant_on_the_steps_it_supports(tmp_path):
    """docs/adapters.md, "Your first tracker": boot, delete and audit, the rest declared
    unsupported; the verdict names the subset."""
    report = tmp_path / "first.json"
    example = Path(__file__).parent.parent / "conformance" / "examples" / "first_tracker.py"
    code = main(["conform", "--tracker", f"jsonl:{shlex.quote(sys.executable)} {example}",
                 "--examples", "30", "--hosts", "2", "--seed", "1", "--json", str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["discrepancy"]
    assert data["steps_checked"] == 3 and data["steps_total"] == 24
    assert len(data["steps_unsupported"]) == 21
    assert data["verdict"].startswith("conformant on 3 of 24 steps (21 declared unsupported")
