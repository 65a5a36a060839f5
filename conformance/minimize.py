"""Deleting concrete steps from a counterexample until no deletion tried keeps it.

Hypothesis shrinks the *draws* of the driver; because each step is drawn from
what the state allows (a move's next step exists only once the move does),
deleting an early step can change what later draws mean, and Hypothesis
stops at a local minimum (two moves in parallel where one shows the bug).  This
pass works on the concrete steps instead (Zeller's delta debugging): replay
the trace without some steps against a freshly reset tracker; keep the
deletion if a discrepancy of the same kind still shows.  It tries, in turn,

1. every step naming one instance or one migration at once (a whole move
   that plays no part: its steps are useless alone, and deleting any one of
   them makes the next one refused, so one step at a time never removes it);
2. runs of consecutive steps, halving their length down to one step.

A step that the spec now rejects is still sent (the tracker must reject it too).
"""

from __future__ import annotations

from typing import Any

from movecheck.conformance.checker import Discrepancy
from movecheck.conformance.replay import replay_steps, step_of
from movecheck.spec.vocab import Cloud


def _signature(d: Discrepancy) -> tuple:
    return (d.category, d.trace[-1]["step"] if d.trace else None)


def _groups(trace: list[dict]) -> list[set[int]]:
    """Positions of the steps naming each instance and each migration (the last,
    diverging step never among them), largest first."""
    by: dict[tuple[str, str], set[int]] = {}
    for k, e in enumerate(trace[:-1]):
        for p in ("instance", "migration"):
            if isinstance(e.get(p), str):
                by.setdefault((p, e[p]), set()).add(k)
    return sorted(by.values(), key=len, reverse=True)


def _runs(n: int) -> list[set[int]]:
    """Runs of consecutive positions below ``n``, from n/2 long down to one step."""
    out, size = [], max(1, n // 2)
    while True:
        out += [set(range(k, min(k + size, n))) for k in range(n - 1, -1, -size)]
        if size == 1:
            return out
        size //= 2


def minimize(cloud: Cloud, tracker: Any, found: Discrepancy, timeout: float | None,
             budget: int = 400) -> Discrepancy:
    """A discrepancy with as short a trace as the deletions reach (at most ``budget``
    replays)."""
    best = found
    replays = 0
    changed = True
    while changed and replays < budget:
        changed = False
        for drop in _groups(best.trace) + _runs(len(best.trace) - 1):
            if replays >= budget:
                break
            steps = [step_of(e) for j, e in enumerate(best.trace) if j not in drop]
            replays += 1
            d = replay_steps(cloud, tracker, steps, timeout)
            if d is not None and _signature(d) == _signature(best) and len(d.trace) < len(best.trace):
                best = d
                changed = True
                break  # positions moved: start again from the largest deletions
    return best
