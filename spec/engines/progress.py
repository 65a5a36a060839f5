"""How far an engine has got: the figures a progress line shows and an interrupted run reports.

An engine calls :func:`report` at a coarse grain (once per proof obligation,
per BMC depth, per BFS level or every half second, never per state) with the
figures a user would want to see if the run stopped now::

    progress.report("bmc", depth=k, max_depth=n)

Nothing is shown from here: the command line listens (:func:`listening`) and
draws a live line on a terminal, and when a run is interrupted (Ctrl-C,
SIGTERM) it reports the latest figures of each engine as the partial result
(see :class:`movecheck.spec.errors.Interrupted`).  With nobody listening a
report costs one dictionary update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]

#: The latest figures each engine reported in this process, by engine name.
LATEST: dict[str, dict[str, Any]] = {}
_listeners: list[Listener] = []


def report(engine: str, **figures: Any) -> None:
    """Record ``engine``'s figures so far and pass them to every listener."""
    LATEST[engine] = figures
    for fn in list(_listeners):
        fn(engine, figures)


def snapshot() -> dict[str, dict[str, Any]]:
    """A copy of the latest figures of every engine that reported."""
    return {k: dict(v) for k, v in LATEST.items()}


@contextmanager
def listening(fn: Listener | None = None) -> Iterator[None]:
    """Forget earlier figures, call ``fn`` on every report inside the block."""
    LATEST.clear()
    if fn is not None:
        _listeners.append(fn)
    try:
        yield
    finally:
        if fn is not None:
            _listeners.remove(fn)


__all__ = ["report", "snapshot", "listening", "LATEST"]
