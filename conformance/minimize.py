"""Deleting concrete steps from a counterexample until no single deletion keeps it.

Hypothesis shrinks the *draws* of the driver; because a drawn step that is not
enabled falls back to another step by position, deleting an early draw can
change what later draws mean, and Hypothesis stops at a local minimum.  This
pass works on the concrete steps instead (Zeller's delta debugging, one step
at a time): replay the trace without step k against a freshly reset tracker;
keep the deletion if a discrepancy of the same kind still shows.  A step
that the spec now rejects is still sent (the tracker must reject it too).
"""

from __future__ import annotations

from typing import Any

from movecheck.conformance.checker import Checker, Discrepancy
from movecheck.spec.vocab import Cloud, Step

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


def _signature(d: Discrepancy) -> tuple:
    return (d.category, d.trace[-1]["step"] if d.trace else None)


def minimize(cloud: Cloud, tracker: Any, found: Discrepancy, timeout: float | None,
             budget: int = 400) -> Discrepancy:
    """A discrepancy with as short a trace as single-step deletions reach (at most
    ``budget`` replays)."""
    best = found
    replays = 0
    changed = True
    while changed and replays < budget:
        changed = False
        k = len(best.trace) - 2  # never delete the diverging step itself
        while k >= 0 and replays < budget:
            steps = [step_of(e) for j, e in enumerate(best.trace) if j != k]
            replays += 1
            d = replay_steps(cloud, tracker, steps, timeout)
            if d is not None and _signature(d) == _signature(best) and len(d.trace) < len(best.trace):
                best = d
                changed = True
                k = min(k, len(best.trace) - 1)
            k -= 1
    return best
