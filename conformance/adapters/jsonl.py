"""A tracker in any language: a subprocess speaking one JSON object per line.

Requests go to the process's stdin, one per line; each gets exactly one reply
line on stdout (docs/adapters.md, schema docs/schemas/trace.schema.json):

- ``{"op": "reset", "cloud": CLOUD}`` → ``{"ok": true, "capabilities": [...],
  "usage_level": "placement", "unsupported_steps": [...]}`` (all optional;
  capabilities default to usage, usage_level to placement)
- ``{"op": "apply", "step": STEP}`` → an Outcome ``{"result": "accepted",
  "devices": [...]}`` or ``{"result": "rejected", "reason": "..."}``
- ``{"op": "observe"}`` → an Observation ``{"usage": {...}, ...}``
- ``{"op": "close"}`` → no reply needed; the process should exit.

Any reply may be ``{"error": "..."}``.  Every reply is validated against the
schema; a reply that is not JSON, does not fit, does not come within the
per-call timeout, or a process that exits, is a :class:`TrackerFault` naming
the request and carrying the last lines of the process's stderr.  After a
fault the process is killed; the next ``reset`` starts a fresh one.
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import subprocess
import tempfile
import time
from typing import Any

from movecheck.conformance.faults import TrackerFault
from movecheck.conformance.protocol import first_error
from movecheck.spec.errors import InputError
from movecheck.spec.vocab import Cloud, Observation, Outcome, Step

STDERR_TAIL = 20  # lines of the tracker's stderr quoted in a fault

#: Seconds a freshly started process has to answer its first ``reset``: an
#: interpreter starting on a busy machine (``pytest -n``) can take longer
#: than a per-call timeout meant for one step.
STARTUP_TIMEOUT = 30.0

#: Why a tracker that never answers its first ``reset`` usually does not.
FLUSH_HINT = ("a jsonl tracker must write each reply as one line and flush stdout after "
              "every reply (docs/adapters.md); a buffered stdout never reaches movecheck")


class JsonlTracker:
    """The jsonl adapter (``--tracker jsonl:COMMAND``)."""

    handles_timeout = True  # the per-call timeout is enforced here, on the pipe

    def __init__(self, command: str, timeout: float | None = 10.0,
                 startup_timeout: float = STARTUP_TIMEOUT):
        try:
            self.argv = shlex.split(command)
        except ValueError as e:
            raise InputError(f"cannot parse the jsonl command {command!r}: {e}") from None
        if not self.argv:
            raise InputError("the jsonl command is empty")
        self.command = command
        self.timeout = timeout if timeout is not None else 10.0
        self.startup_timeout = max(self.timeout, startup_timeout)
        self._starting = False
        self.capabilities: frozenset[str] = frozenset({"usage"})
        self.usage_level = "placement"
        self.unsupported_steps: frozenset[str] = frozenset()
        self.proc: subprocess.Popen | None = None
        self._buf = b""
        self._stderr = None

    # ------------------------------------------------------------------ process

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, bufsize=0)
        except OSError as e:
            raise TrackerFault(f"cannot start jsonl tracker {self.command!r}: "
                               f"{e.strerror or e} (is the command's path right?)") from None
        self._starting = True
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").splitlines()
        except (OSError, ValueError):
            return ""
        return "\n".join(lines[-STDERR_TAIL:])

    def _kill(self) -> None:
        if self.proc is not None:
            try:
                self.proc.kill()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._sel.close()
            self.proc = None

    def _fault(self, message: str, timeout: bool = False) -> TrackerFault:
        tail = self.stderr_tail()
        self._kill()
        if tail:
            message += f"; the tracker's stderr ends with:\n{tail}"
        return TrackerFault(message, timeout=timeout)

    def _exited(self, what: str) -> TrackerFault:
        code = self.proc.wait(timeout=2) if self.proc is not None else None
        if self._starting:
            return self._fault(f"the jsonl tracker exited (status {code}) before answering its "
                               f"first {what}: is the command's path right, and does the "
                               "program start?")
        return self._fault(f"the jsonl tracker exited (status {code}) while answering {what}")

    def _readline(self, what: str) -> bytes:
        limit = self.startup_timeout if self._starting else self.timeout
        deadline = time.monotonic() + limit
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                hint = f": {FLUSH_HINT}" if self._starting else ""
                raise self._fault(f"no reply to {what} within {limit:g} s{hint}", timeout=True)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._exited(what)
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _call(self, request: dict[str, Any], what: str, shape: str) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            if request["op"] != "reset":
                raise self._fault(f"the jsonl tracker is not running ({what})")
            self._kill()
            self._start()
        try:
            self.proc.stdin.write(json.dumps(request, separators=(",", ":")).encode() + b"\n")
        except (BrokenPipeError, OSError):
            raise self._exited(what) from None
        line = self._readline(what)
        self._starting = False
        try:
            reply = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self._fault(f"the reply to {what} is not JSON: {line[:200]!r}") from None
        if isinstance(reply, dict) and "error" in reply:
            raise TrackerFault(f"the tracker answered {what} with an error: {reply['error']}")
        problem = first_error(shape, reply)
        if problem is not None:
            raise TrackerFault(f"the reply to {what} does not fit the protocol ({problem}): "
                               f"{json.dumps(reply)[:300]}")
        return reply

    # ------------------------------------------------------------------ Tracker

    def reset(self, cloud: Cloud) -> None:
        reply = self._call({"op": "reset", "cloud": cloud.to_json()}, "reset", "reset_reply")
        self.capabilities = frozenset(reply.get("capabilities", ["usage"])) | {"usage"}
        self.usage_level = reply.get("usage_level", "placement")
        self.unsupported_steps = frozenset(reply.get("unsupported_steps", ()))

    def apply(self, step: Step) -> Outcome:
        reply = self._call({"op": "apply", "step": step.to_json()}, f"apply({step})", "outcome")
        return Outcome(reply["result"], reply.get("reason"), tuple(reply.get("devices", ())))

    def observe(self) -> Observation:
        return Observation.from_json(self._call({"op": "observe"}, "observe", "observation"))

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.write(b'{"op":"close"}\n')
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()
