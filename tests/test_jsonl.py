"""The jsonl adapter: the node example tracker passes; broken subprocesses are discrepancies."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from movecheck.cli import main
from movecheck.conformance.adapters import resolve_tracker
from movecheck.conformance.adapters.jsonl import JsonlTracker
from movecheck.conformance.driver import run_conformance
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.vocab import Step

EXAMPLE = Path(__file__).parent.parent / "conformance" / "examples" / "tracker.js"
CLOUD = default_cloud()


def test_the_node_example_tracker_is_conformant(tmp_path):
    report = tmp_path / "r.json"
    code = main(["conform", "--tracker", f"jsonl:node {EXAMPLE}", "--examples", "60",
                 "--seed", "11", "--json", str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["discrepancy"]
    assert data["capabilities"] == ["devices", "instances", "migrations", "usage"]
    assert data["steps"] > 500


def test_the_node_example_declares_only_usage_when_asked():
    f = resolve_tracker(f"jsonl:node {EXAMPLE} --usage-only", timeout=5)
    r = run_conformance(f, CLOUD, examples=20, seed=3)
    assert r.ok and r.capabilities == frozenset({"usage"})


def _script(tmp_path: Path, body: str) -> str:
    """A jsonl tracker in Python that answers reset and observe correctly, apply by ``body``."""
    p = tmp_path / "t.py"
    p.write_text(f"""
import json, sys, time
def apply(step):
{body}
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "reset":
        hosts = [h["name"] for h in req["cloud"]["hosts"]]
        reply = {{"capabilities": ["usage"]}}
    elif req["op"] == "observe":
        reply = {{"usage": {{h: {{"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}} for h in hosts}}}}
    elif req["op"] == "apply":
        reply = apply(req["step"])
    else:
        break
    if isinstance(reply, str):
        sys.stdout.write(reply + "\\n")
    else:
        sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
""")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(p))}"


@pytest.mark.parametrize("body, words", [
    ("    sys.stderr.write('boom: segfault in claim\\n'); sys.stderr.flush(); sys.exit(3)",
     ["exited (status 3) while answering apply(", "boom: segfault in claim"]),
    ("    time.sleep(30)", ["no reply to apply(", "within 0.5 s"]),
    ("    return 'this is not json'", ["is not JSON", "this is not json"]),
    ("    return {'result': 'perhaps'}", ["does not fit the protocol", "field result"]),
    ("    return {'error': 'database is locked'}", ["with an error: database is locked"]),
])
def test_a_broken_jsonl_tracker_is_a_discrepancy_naming_the_step(tmp_path, body, words):
    f = resolve_tracker("jsonl:" + _script(tmp_path, body), timeout=0.5)
    r = run_conformance(f, CLOUD, examples=5, seed=1, timeout=0.5)
    d = r.discrepancy
    assert d is not None and d.category in ("fault", "timeout")
    for w in words:
        assert w in d.message
    assert d.trace and d.trace[-1]["step"] in d.message


def test_a_crashed_process_is_restarted_on_the_next_reset(tmp_path):
    t = JsonlTracker(_script(tmp_path, "    sys.exit(1)"), timeout=2)
    t.reset(CLOUD)
    with pytest.raises(Exception, match="exited"):
        t.apply(Step("audit", host="h1"))
    t.reset(CLOUD)
    assert t.observe().usage["h1"]["VCPU"] == 0
    t.close()


def test_a_command_that_does_not_exist_is_a_discrepancy_not_a_crash():
    f = resolve_tracker("jsonl:/no/such/tracker-binary", timeout=1)
    r = run_conformance(f, CLOUD, examples=2, seed=1)
    assert "cannot start jsonl tracker" in r.discrepancy.message


def test_the_first_tracker_example_is_conformant_on_the_steps_it_supports(tmp_path):
    """docs/adapters.md, "Your first tracker": boot, delete and audit, the rest declared
    unsupported; the verdict names the subset."""
    report = tmp_path / "first.json"
    example = Path(__file__).parent.parent / "conformance" / "examples" / "first_tracker.py"
    code = main(["conform", "--tracker", f"jsonl:{shlex.quote(sys.executable)} {example}",
                 "--examples", "30", "--seed", "1", "--json", str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["discrepancy"]
    assert data["steps_checked"] == 3 and data["steps_total"] == 23
    assert len(data["steps_unsupported"]) == 20
    assert data["verdict"].startswith("conformant on 3 of 23 steps (20 declared unsupported")
