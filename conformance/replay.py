"""A counterexample as an executable pytest program, and what such a program runs.

``movecheck conform`` prints a failing run the way Hypothesis prints a failing
state machine: a program, one line per step, that a person can read, paste
and run.  The same text is the ``--replay-out`` file:

    from movecheck.conformance.replay import Replay

    CLOUD = {...}


    def test_counterexample():
        state = Replay('spec_tracker:leaky_factory', CLOUD)
        state.boot(instance='i1', host='h1', flavor='small')
        state.resize_claim(migration='m1', instance='i1', dest='h2', flavor='large')
        ...
        state.teardown()

Each ``state.<step>(...)`` applies the step to the tracker and to the spec in
lock step (:class:`movecheck.conformance.checker.Checker`) and fails with the
readable report of :mod:`movecheck.conformance.counterexample` at the first
difference, so the program fails while the tracker has the bug and passes
once it is fixed.  ``MOVECHECK_REPLAY_TRACKER=reference pytest FILE`` runs it
against another tracker.
"""

from __future__ import annotations

import os
import pprint
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from movecheck.conformance.checker import Checker, Discrepancy
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import Cloud, Step

#: Environment variable that overrides the tracker a replay file names.
TRACKER_ENV = "MOVECHECK_REPLAY_TRACKER"

#: Trace-entry fields that are not step parameters.
ENTRY_EXTRAS = ("expected", "picks")


def step_of(entry: dict[str, Any]) -> Step:
    """The :class:`Step` of a trace entry (unknown step names included, unchecked)."""
    params = {k: v for k, v in entry.items() if k != "step" and k not in ENTRY_EXTRAS}
    return Step(entry["step"], **params)


def replay_steps(cloud: Cloud, tracker: Any, steps: list[Step], timeout: float | None,
                 ) -> Discrepancy | None:
    """Run ``steps`` against the tracker in lock step with the spec; the discrepancy or None."""
    checker = Checker(cloud, tracker, timeout=timeout)
    try:
        checker.reset()
        for step in steps:
            checker.apply(step)
    except Discrepancy as d:
        return d
    return None


class Replay:
    """The tracker named ``tracker`` (as ``--tracker`` takes it) in lock step
    with the spec on ``cloud``; ``state.<step name>(**parameters)`` applies a step."""

    def __init__(self, tracker: str, cloud: dict[str, Any] | Cloud, timeout: float | None = 10.0):
        from movecheck.conformance.adapters import resolve_tracker

        self.name = os.environ.get(TRACKER_ENV) or tracker
        self.cloud = cloud if isinstance(cloud, Cloud) else Cloud.from_json(cloud)
        self.tracker = resolve_tracker(self.name, timeout=timeout)()
        self.checker = Checker(self.cloud, self.tracker, timeout=timeout)
        self._check(self.checker.reset)

    def _check(self, fn, *args) -> None:
        from movecheck.conformance.counterexample import render_text

        try:
            fn(*args)
        except Discrepancy as d:
            self.teardown()
            raise AssertionError("\n" + render_text(self.cloud, d, self.name)) from None

    def apply(self, kind: str, **params: str) -> None:
        """Apply the step ``kind`` (any name, known to the spec or not)."""
        self._check(self.checker.apply, Step(kind, **params))

    def __getattr__(self, kind: str):
        if kind.startswith("_") or kind not in STEPS:
            raise AttributeError(kind)
        return lambda **params: self.apply(kind, **params)

    def teardown(self) -> None:
        close = getattr(self.tracker, "close", None)
        if callable(close):
            close()


def _call(entry: dict[str, Any]) -> str:
    step = step_of(entry)
    args = ", ".join(f"{p}={getattr(step, p)!r}" for p in Step._fields[1:]
                     if getattr(step, p) is not None)
    if step.kind in STEPS:
        line = f"state.{step.kind}({args})"
    else:
        line = f"state.apply({step.kind!r}{', ' if args else ''}{args})"
    if entry.get("expected") == "rejected":
        line += "  # the spec rejects this step"
    return line


def program(tracker: str, cloud: Cloud, d: Discrepancy) -> str:
    """The counterexample ``d`` as a pytest program (the replay file's text)."""
    about = (f"Invariants broken: {', '.join(d.invariants) or 'none named'}; Nova bugs "
             f"they guard against: {', '.join(d.bugs) or 'none'}.")
    steps = "\n".join(f"    {_call(e)}" for e in d.trace)
    title = str(d).replace('"""', "'''")
    return f'''"""movecheck counterexample: {title}

{textwrap.fill(about, 88)}
Run it with pytest: it fails while the tracker disagrees with the spec.
MOVECHECK_REPLAY_TRACKER=reference runs it against another tracker.
"""

from movecheck.conformance.replay import Replay

CLOUD = {pprint.pformat(cloud.to_json(), width=88, sort_dicts=False)}


def test_counterexample():
    state = Replay({tracker!r}, CLOUD)
{steps}
    state.teardown()
'''


def write_program(path: str | Path, text: str) -> Path:
    """Write a replay program atomically."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, p)
    return p


def replay_counterexample(tracker: str, cloud: dict[str, Any], trace: list[dict[str, Any]],
                          timeout: float | None = 10.0) -> None:
    """Raise AssertionError (with the report) if ``tracker`` diverges from the spec on
    ``trace`` (the replay files written before replays were programs call this)."""
    state = Replay(tracker, cloud, timeout)
    for entry in trace:
        step = step_of(entry)
        state.apply(step.kind, **{p: getattr(step, p) for p in Step._fields[1:]
                                  if getattr(step, p) is not None})
    state.teardown()
