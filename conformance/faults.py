"""Calling a tracker safely: a tracker that raises, returns garbage or hangs is
a finding about the tracker (a discrepancy naming the step), never a crash of
movecheck (issue 5, "Bad input and faults").

In-process trackers get a per-call timeout from ``SIGALRM`` (``setitimer``):
it costs one system call per call, unlike a watchdog thread, and it can
interrupt pure-Python loops.  Off the main thread (where signals cannot be
used) calls run without a timeout.  Adapters that enforce their own timeout
(the jsonl subprocess adapter) say so with ``handles_timeout = True``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


class TrackerFault(Exception):
    """The tracker raised, returned garbage, crashed or did not answer (``timeout``)."""

    def __init__(self, message: str, timeout: bool = False):
        super().__init__(message)
        self.timeout = timeout


class _Timeout(BaseException):
    # BaseException so that a tracker's own ``except Exception`` cannot swallow it.
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


class no_local_constants:
    """Hypothesis (6.131 and later) mixes into about 5% of its draws constants mined
    from every *local* module imported so far (``HypothesisProvider._local_constants``),
    so the examples a seed names would depend on what else the process imported: a
    test module, a plugin, the ``.hypothesis/constants`` cache of the working
    directory.  For the run, the local pool is empty (Hypothesis's own global
    constants stay): ``movecheck conform --seed S`` draws the same examples from the
    command line, in pytest, under xdist and in any directory.  A Hypothesis without
    the hook is left alone."""

    def __enter__(self):
        try:
            from hypothesis.internal.conjecture import providers
        except ImportError:  # pragma: no cover - a Hypothesis that moved it
            self.providers = None
            return self
        self.providers = providers
        self.old = getattr(providers, "_get_local_constants", None)
        if self.old is None or not hasattr(providers, "Constants"):
            self.providers = None
            return self
        empty = providers.Constants()
        providers._get_local_constants = lambda: empty
        self._clear()
        return self

    def _clear(self) -> None:
        cache = getattr(self.providers, "CONSTANTS_CACHE", None)
        clear = getattr(getattr(cache, "cache", cache), "clear", None)
        if clear is not None:
            clear()

    def __exit__(self, *exc):
        if self.providers is not None:
            self.providers._get_local_constants = self.old
            self._clear()


class alarm_handler:
    """Install the SIGALRM handler once for a whole run (not once per call)."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGALRM, _on_alarm)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


def guarded_call(fn: Callable[..., Any], arg: Any, *, what: str, timeout: float | None,
                 own_timeout: bool = False) -> Any:
    """``fn(arg)`` (or ``fn()`` when arg is ``...``), with faults as :class:`TrackerFault`."""
    use_alarm = (timeout is not None and not own_timeout
                 and threading.current_thread() is threading.main_thread())
    old = None
    try:
        if use_alarm:
            if signal.getsignal(signal.SIGALRM) is not _on_alarm:
                old = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        return fn() if arg is ... else fn(arg)
    except _Timeout:
        raise TrackerFault(f"{what} did not return within {timeout:g} s", timeout=True) from None
    except TrackerFault:
        raise
    except Exception as e:  # noqa: BLE001 - any tracker exception is a finding
        raise TrackerFault(f"{what} raised {type(e).__name__}: {e}") from e
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if old is not None:
                signal.signal(signal.SIGALRM, old)
