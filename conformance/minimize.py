"""Deleting concrete steps from a counterexample until no single deletion keeps it.

Hypothesis shrinks the *draws* of the driver; because each step is drawn from
what the state allows (a move's next step exists only once the move does),
deleting an early step can change what later draws mean, and Hypothesis
stops at a local minimum (two moves in parallel where one shows the bug).  This
pass works on the concrete steps instead (Zeller's delta debugging, one step
at a time): replay the trace without step k against a freshly reset tracker;
keep the deletion if a discrepancy of the same kind still shows.  A step
that the spec now rejects is still sent (the tracker must reject it too).
"""

from __future__ import annotations

from typing import Any

from movecheck.conformance.checker import Discrepancy
from movecheck.conformance.replay import replay_steps, step_of
from movecheck.spec.vocab import Cloud


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
