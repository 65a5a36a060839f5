"""Exhaustive explicit-state search of the concrete spec (``movecheck explore``).

Breadth-first from the initial state, like TLC's and Stateright's BFS: every
reachable state is checked against every one-state invariant and every
transition against every two-state property; on a violation the shortest
trace is rebuilt from parent pointers.  States are :class:`State` tuples,
hashed as they are (tuples hash in C); the parent map stores, per state, the
index of its parent and the step that reached it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from movecheck.spec import Spec, State
from movecheck.spec.invariants import transition_violations, violations
from movecheck.spec.vocab import Step


@dataclass
class Violation:
    invariant: str
    messages: list[str]
    trace: list[tuple[Step, tuple[str, ...]]]  # (step, picks) from the initial state


@dataclass
class ExploreResult:
    states: int
    transitions: int
    depth: int
    seconds: float
    violations: list[Violation] = field(default_factory=list)
    complete: bool = True  # False when a state limit stopped the search

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float("inf")


def explore(
    spec: Spec,
    *,
    max_states: int | None = None,
    stop_at_first: bool = True,
    check: bool = True,
    progress: Callable[[int, int, int], None] | None = None,
    keep_graph: bool = False,
) -> tuple[ExploreResult, dict | None]:
    """Explore every reachable state.  Returns the result and, if ``keep_graph``,
    ``{"states": [State...], "edges": [(src, dst, step, picks)...]}`` for pictures."""
    t0 = time.perf_counter()
    init = spec.initial()
    index: dict[State, int] = {init: 0}
    states: list[State] = [init]
    parent: list[tuple[int, Step | None, tuple[str, ...]]] = [(-1, None, ())]
    edges: list[tuple[int, int, Step, tuple[str, ...]]] | None = [] if keep_graph else None
    result = ExploreResult(states=0, transitions=0, depth=0, seconds=0.0)
    found: list[Violation] = []

    def trace_to(k: int) -> list[tuple[Step, tuple[str, ...]]]:
        out = []
        while parent[k][0] >= 0:
            p, step, picks = parent[k]
            out.append((step, picks))
            k = p
        return out[::-1]

    if check:
        for name, msgs in violations(spec, init).items():
            found.append(Violation(name, msgs, []))
    frontier = [0]
    depth = 0
    transitions = 0
    last = t0
    while frontier and not (found and stop_at_first):
        nxt: list[int] = []
        for k in frontier:
            s = states[k]
            for step, picks, t in spec.successors(s):
                transitions += 1
                j = index.get(t)
                if j is None:
                    j = len(states)
                    index[t] = j
                    states.append(t)
                    parent.append((k, step, picks))
                    nxt.append(j)
                    if check:
                        for name, msgs in violations(spec, t).items():
                            found.append(Violation(name, msgs, trace_to(j)))
                if check:
                    for name, msgs in transition_violations(spec, s, step, t).items():
                        found.append(Violation(name, msgs, trace_to(k) + [(step, picks)]))
                if edges is not None:
                    edges.append((k, j, step, picks))
            if found and stop_at_first:
                break
            if max_states is not None and len(states) >= max_states:
                break
        if progress is not None and time.perf_counter() - last > 0.5:
            last = time.perf_counter()
            progress(len(states), transitions, depth)
        if max_states is not None and len(states) >= max_states:
            result.complete = False
            frontier = []
            depth += 1
            break
        if nxt:
            depth += 1
        frontier = nxt
    result.states = len(states)
    result.transitions = transitions
    result.depth = depth
    result.seconds = time.perf_counter() - t0
    result.violations = found
    graph = {"states": states, "edges": edges} if keep_graph else None
    return result, graph
