"""The ``nova`` tracker: real Nova 34 (API, conductor, scheduler, nova-compute with its
ResourceTracker, Placement) in a subprocess, driven over the jsonl protocol.

Nova patches its process with eventlet, so it never runs inside movecheck's
process: :mod:`.server` runs under a Python that has the ``nova`` extra
(``pip install 'movecheck[nova]'``), which is movecheck's own Python or the one
named by the environment variable ``MOVECHECK_NOVA_PYTHON`` (a virtual
environment of its own, when Nova's pins do not suit yours).  This module is
the jsonl adapter pointed at that server, with a process group so that a
killed run leaves no Nova behind, and fault messages that say "Nova crashed" or
"Nova hung".  docs/nova.md describes the mapping of steps to Nova and what it found.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from movecheck.conformance.adapters.jsonl import JsonlTracker
from movecheck.conformance.faults import TrackerFault
from movecheck.spec.errors import InputError

SERVER = Path(__file__).with_name("server.py")

#: The install command every "missing extra" message names.
INSTALL = "pip install 'movecheck[nova]'"

#: Modules the server imports that ``pip install nova`` alone does not bring
#: (Nova's functional harness needs its test requirements and Placement).
HARNESS_MODULES = ("nova", "placement", "oslotest", "testtools", "fixtures", "wsgi_intercept",
                   "requests_mock", "ddt")

#: Seconds the first reset may take: it imports Nova (3 s on a quiet 2-core
#: machine, 15 s under load) and sets up every service.
STARTUP_TIMEOUT = 180.0

#: Per-call timeout floor: one step is a chain of Nova RPC handlers, a few
#: seconds on a loaded 2-core machine (``MOVECHECK_NOVA_MIN_TIMEOUT`` overrides).
MIN_TIMEOUT = float(os.environ.get("MOVECHECK_NOVA_MIN_TIMEOUT", "60"))

_CHECK = """
import importlib.util, sys
missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]
if not missing:
    from importlib.metadata import version
    major, minor = (int(x) for x in version("SQLAlchemy").split(".")[:2])
    if (major, minor) >= (2, 1):
        missing.append("SQLAlchemy<2.1 (found %s)" % version("SQLAlchemy"))
print(" ".join(missing))
"""


def nova_python() -> str:
    """The Python that runs Nova: ``MOVECHECK_NOVA_PYTHON`` or movecheck's own."""
    return os.environ.get("MOVECHECK_NOVA_PYTHON") or sys.executable


def check_extra(python: str | None = None) -> str:
    """The Nova Python, or InputError naming the install command (exit 2 on the command line)."""
    python = python or nova_python()
    where = (f"MOVECHECK_NOVA_PYTHON={python}" if os.environ.get("MOVECHECK_NOVA_PYTHON")
             else f"this Python ({python})")
    try:
        out = subprocess.run([python, "-c", _CHECK, *HARNESS_MODULES], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InputError(f"the nova tracker cannot run {where}: {e}") from None
    if out.returncode != 0:
        raise InputError(f"the nova tracker cannot run {where}: "
                         f"{(out.stderr.strip().splitlines() or ['failed'])[-1]}")
    missing = out.stdout.split()
    if missing:
        raise InputError(f"the nova tracker needs the nova extra ({INSTALL}) in {where}; "
                         f"missing: {', '.join(missing)}")
    return python


class NovaTracker(JsonlTracker):
    """Real Nova behind the jsonl protocol (``--tracker nova``).

    ``unsupported`` names steps not to generate (on top of those the server
    declares); campaigns use it to look past a known discrepancy.
    """

    def __init__(self, python: str | None = None, timeout: float | None = None,
                 unsupported: tuple[str, ...] | None = None, min_timeout: float | None = None):
        self.python = python or nova_python()
        floor = MIN_TIMEOUT if min_timeout is None else min_timeout
        super().__init__(shlex.join([self.python, str(SERVER)]),
                         timeout=max(timeout or 0.0, floor))
        env = os.environ.get("MOVECHECK_NOVA_UNSUPPORTED", "")
        self.extra_unsupported = frozenset(unsupported if unsupported is not None
                                           else [s for s in env.split(",") if s.strip()])
        self._started = False

    def apply(self, step):
        """A step with a parameter missing is refused here, as Nova's REST API refuses a
        request its JSON schema rejects (``nova/api/validation``): the server's handlers
        read every parameter of their step."""
        from movecheck.spec.steps import STEPS
        from movecheck.spec.vocab import Outcome

        sd = STEPS.get(step.kind)
        missing = [] if sd is None else [p for p in sd.params if getattr(step, p) is None]
        if missing:
            return Outcome("rejected", f"missing parameter {missing[0]}", ())
        return super().apply(step)

    # -------------------------------------------------------------- process group

    def _start(self) -> None:
        """As the jsonl adapter, but in a new session: the group is killed as one."""
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONDONTWRITEBYTECODE="1")
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, bufsize=0, env=env,
                                         start_new_session=True)
        except OSError as e:
            raise TrackerFault(f"cannot start Nova ({self.python}): {e.strerror or e}") from None
        import selectors

        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)
        self._started = False

    def _kill(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        super()._kill()
        self._started = False  # the next reset starts (and imports) Nova afresh

    def _fault(self, message: str, timeout: bool = False) -> TrackerFault:
        message = message.replace("the jsonl tracker", "Nova")
        if timeout:
            message = f"Nova hung: {message}"
        elif "exited" in message:
            message = f"Nova crashed: {message}"
        return super()._fault(message, timeout=timeout)

    def _call(self, request: dict[str, Any], what: str, shape: str) -> dict[str, Any]:
        if request["op"] == "reset" and not self._started:
            saved, self.timeout = self.timeout, max(self.timeout, STARTUP_TIMEOUT)
            try:
                return super()._call(request, what, shape)
            finally:
                self.timeout = saved
                self._started = self.proc is not None
        return super()._call(request, what, shape)

    # -------------------------------------------------------------- Tracker

    def reset(self, cloud) -> None:
        from movecheck.spec.vocab import CAPABILITIES

        # As the jsonl adapter, telling the server which observation parts this
        # movecheck knows (``allocations`` is newer than the protocol's first version).
        request = {"op": "reset", "cloud": cloud.to_json(), "known_capabilities": list(CAPABILITIES)}
        reply = self._call(request, "reset", "reset_reply")
        self.capabilities = frozenset(reply.get("capabilities", ["usage"])) | {"usage"}
        self.unsupported_steps = frozenset(reply.get("unsupported_steps", ())) | self.extra_unsupported

    def details(self) -> dict[str, Any]:
        """ComputeNode counters, Placement allocations per consumer, vm_states, parked
        messages (the parts the jsonl observation has no field for)."""
        import json

        if self.proc is None:
            return {}
        self.proc.stdin.write(b'{"op":"details"}\n')
        return json.loads(self._readline("details"))

    def close(self) -> None:
        super().close()


def nova_factory(timeout: float | None = None) -> NovaTracker:
    """The built-in ``nova`` tracker (checks the extra first: InputError if missing)."""
    python = check_extra()
    return NovaTracker(python, timeout=timeout)


factory = nova_factory

__all__ = ["INSTALL", "NovaTracker", "check_extra", "factory", "nova_factory", "nova_python"]
