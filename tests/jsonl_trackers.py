"""Throwaway jsonl trackers for the fault and adapter tests (tests/test_faults.py,
tests/test_jsonl.py): a Python script that answers ``reset`` and ``observe``
like a conformant tracker of an empty cloud, and ``apply`` by a body the test
gives (one that hangs, crashes, writes garbage, ...)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

_SCRIPT = """
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
    sys.stdout.write(reply if isinstance(reply, str) else json.dumps(reply))
    sys.stdout.write("\\n")
    sys.stdout.flush()
"""


def jsonl_command(tmp_path: Path, body: str) -> str:
    """The command line of a jsonl tracker whose ``apply(step)`` is ``body``
    (indented by four spaces; it returns the reply, a dict or a raw string)."""
    p = tmp_path / "t.py"
    p.write_text(_SCRIPT.format(body=body))
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(p))}"
