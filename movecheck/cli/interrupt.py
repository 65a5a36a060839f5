"""Ctrl-C and SIGTERM stop any command within a second, Z3 calls included.

Python runs its signal handlers between bytecodes, so a long call into Z3 (or
any C code) would hold a Ctrl-C until it returns, and Z3's own Ctrl-C handler
turns the signal into an ``unknown`` result that looks like a verdict.  So,
while a command runs:

- Z3's own handler is off (``ctrl_c=false``);
- SIGINT and SIGTERM raise :class:`KeyboardInterrupt` in the main thread;
- the C-level handler also writes the signal number to a socket
  (:func:`signal.set_wakeup_fd`), which a watcher thread reads at once and
  answers by interrupting Z3's context, so the solver call returns and the
  pending Python handler raises;
- should that KeyboardInterrupt be lost (raised inside a ``__del__`` or a
  callback, or caught by a library), the watcher interrupts the main thread
  again every half second until the command line has stopped.

The command line then reports what was done (:class:`Interrupted`).
"""

from __future__ import annotations

import _thread
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The signals that stop a run; a stopped run exits with 128 + SIGINT = 130.
SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_INTERRUPTED = 130


class Received:
    """Which signal stopped the run, if any."""

    def __init__(self) -> None:
        self.signum: int | None = None
        #: Set by the command line once it has turned the interrupt into a report.
        self.handled = threading.Event()

    def acknowledge(self) -> None:
        """The run has stopped: no more interrupts while the partial report is written."""
        self.handled.set()
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                signal.signal(s, signal.SIG_IGN)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "SIGINT"


def quiet_z3() -> None:
    """Switch off Z3's own Ctrl-C handler (it would turn Ctrl-C into ``unknown``)."""
    import z3

    z3.set_param("ctrl_c", False)


def _interrupt_z3() -> None:
    z3 = sys.modules.get("z3")
    if z3 is None:
        return
    try:
        z3.main_ctx().interrupt()
    except Exception:  # noqa: BLE001 - best effort from a watcher thread
        pass


@contextmanager
def stop_on_signals() -> Iterator[Received]:
    """Inside the block, SIGINT/SIGTERM raise KeyboardInterrupt and interrupt Z3."""
    got = Received()
    if threading.current_thread() is not threading.main_thread():
        yield got  # signals are delivered to the main thread only: nothing to install
        return

    def handler(signum, frame):
        if got.signum is None:
            got.signum = signum
        raise KeyboardInterrupt

    previous = {s: signal.getsignal(s) for s in SIGNALS}
    rsock, wsock = socket.socketpair()
    wsock.setblocking(False)
    old_fd = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                data = rsock.recv(16)
            except OSError:
                return
            if not data or stop.is_set():
                return
            if any(b in (int(signal.SIGINT), int(signal.SIGTERM)) for b in data):
                if got.signum is None:
                    got.signum = data[0]
                _interrupt_z3()
                # The KeyboardInterrupt may be raised where it cannot propagate (a __del__,
                # a callback) or be swallowed by a library: until the command line says it
                # has stopped, interrupt the main thread again.
                while not got.handled.wait(0.5) and not stop.is_set():
                    _interrupt_z3()
                    _thread.interrupt_main()

    def unraisable(u) -> None:
        # The handler may fire inside a ctypes callback (Z3's error handler) or a
        # constructor, where an exception cannot propagate, and half-built objects then
        # fail in __del__; the interrupt is already recorded in ``got``: stay quiet.
        if got.signum is None:
            old_hook(u)

    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    watcher = threading.Thread(target=watch, name="movecheck-signals", daemon=True)
    for s in SIGNALS:
        signal.signal(s, handler)
    watcher.start()
    try:
        yield got
    finally:
        if got.signum is None:  # after an interrupt, objects freed later may still complain
            sys.unraisablehook = old_hook
        stop.set()
        signal.set_wakeup_fd(old_fd)
        for s, h in previous.items():
            signal.signal(s, h)
        wsock.close()  # wakes the watcher: recv returns b""
        watcher.join(timeout=0.5)
        rsock.close()


__all__ = ["stop_on_signals", "quiet_z3", "Received", "EXIT_INTERRUPTED"]
