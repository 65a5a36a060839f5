"""Exhaustive explicit-state search of the concrete spec (``movecheck explore``).

Breadth-first from the initial state, like TLC's and Stateright's BFS, level
by level: every reachable state is checked against every one-state
invariant and every transition against every two-state property; a violation
comes with a shortest trace.  The search sees the spec only through the
narrow :class:`~movecheck.spec.engines.model.Model` interface.

Three things make it scale (docs/explore.md):

- **symmetry**: interchangeable hosts and instances (:mod:`movecheck.spec.symmetry`);
  one canonical representative per orbit is stored and expanded, and the
  full counts are the sums of the orbit sizes;
- **fingerprints**: the visited set holds a 64-bit fingerprint and the
  parent's fingerprint per state, not the state (``full_states`` keeps
  states, for certainty); the report gives TLC's estimate of the odds that a
  fingerprint collision hid a state;
- **workers**: several processes share the fingerprint table
  (:mod:`movecheck.spec.engines.parallel`); counts do not depend on how many.

A trace is rebuilt from the parent fingerprints: starting from the initial
state, each step is the concrete successor whose canonical fingerprint is
the next one on the path, so the trace is a real run of the spec in the
cloud's own names, replayable as it stands.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from movecheck.spec import Spec, State
from movecheck.spec.engines.fingerprints import collision_probability, fingerprint
from movecheck.spec.engines.model import Model, SpecModel
from movecheck.spec.invariants import transition_violations, violations
from movecheck.spec.vocab import Step

#: At most this many successor fingerprints are remembered as already canonicalised.
ALIASES = 1 << 22

#: Complete, or why not.
COMPLETE = "complete"
STATE_LIMIT = "max-states"
VIOLATION = "violation"
INTERRUPTED = "interrupted"


@dataclass
class Violation:
    invariant: str
    messages: list[str]
    trace: list[tuple[Step, tuple[str, ...]]]  # (step, picks) from the initial state


@dataclass
class Progress:
    """A snapshot of a running search, for progress lines."""

    states: int  # distinct (canonical) states so far
    full_states: int
    transitions: int
    depth: int  # the BFS level being expanded
    queue: int  # states waiting to be expanded (this level's rest + the next level)
    seconds: float

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ExploreResult:
    states: int  # distinct states of the whole state space (sum of orbit sizes)
    transitions: int
    depth: int
    seconds: float
    violations: list[Violation] = field(default_factory=list)
    complete: bool = True  # False when a state limit or an interrupt stopped the search
    stopped: str = COMPLETE  # complete | max-states | violation | interrupted
    reduced_states: int = 0  # canonical representatives stored and expanded
    reduced_transitions: int = 0
    symmetry: bool = False
    group_size: int = 1
    workers: int = 1
    full_states_kept: bool = False  # True: the visited set held states, not fingerprints
    generated: int = 0  # successors looked up in the visited set (+1 for the initial state)

    @property
    def states_per_second(self) -> float:
        """Distinct stored states per second (what the machine did)."""
        return self.reduced_states / self.seconds if self.seconds > 0 else float("inf")

    @property
    def collision_probability(self) -> float | None:
        """TLC's "calculated (optimistic)" odds that a fingerprint collision hid a state."""
        if self.full_states_kept:
            return None
        return collision_probability(self.reduced_states, self.generated)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("violations")
        d["violations"] = len(self.violations)
        d["states_per_second"] = round(self.states_per_second)
        d["collision_probability"] = self.collision_probability
        d["seconds"] = round(self.seconds, 3)
        return d


def default_workers() -> int:
    """The cores this process may run on (``sched_getaffinity``, else ``cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def explore(
    spec: Spec | Model,
    *,
    max_states: int | None = None,
    stop_at_first: bool = True,
    check: bool = True,
    progress: Callable[[Progress], None] | None = None,
    keep_graph: bool = False,
    symmetry: bool = True,
    workers: int = 1,
    full_states: bool = False,
) -> tuple[ExploreResult, dict | None]:
    """Explore every reachable state.

    ``spec`` is a :class:`Spec` (seen through :class:`SpecModel`) or any
    :class:`Model`.  Returns the result and, if ``keep_graph``,
    ``{"states": [State...], "edges": [(src, dst, step, picks)...]}`` for
    pictures (then without symmetry, in one process).  ``max_states`` bounds
    the canonical states stored.  Raises
    :class:`~movecheck.spec.errors.Interrupted` on Ctrl-C, with the counts so
    far.
    """
    if keep_graph:
        return _explore_graph(spec, max_states=max_states, check=check)
    progress = _reporting(progress)
    model = SpecModel(spec, symmetry=symmetry) if isinstance(spec, Spec) else spec
    # Workers stop at the first violation; collecting every violation runs in one process.
    if workers > 1 and not full_states and stop_at_first:
        from movecheck.spec.engines.parallel import explore_parallel

        return explore_parallel(model, workers=workers, max_states=max_states, check=check,
                                progress=progress), None
    with no_gc():
        return _explore_one(model, max_states=max_states, stop_at_first=stop_at_first,
                            check=check, progress=progress, full_states=full_states), None


@contextmanager
def no_gc():
    """The cyclic garbage collector off: states are acyclic tuples, freed by reference
    counting, and a collector pass over millions of live tuples costs more than the search."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _reporting(callback: Callable[[Progress], None] | None) -> Callable[[Progress], None]:
    """Progress goes to :mod:`movecheck.spec.engines.progress` (what the command line
    shows, and reports if the run is interrupted) and to ``callback``."""
    from movecheck.spec.engines import progress as shared

    def report(p: Progress) -> None:
        shared.report("explore", states=p.states, full_states=p.full_states,
                      transitions=p.transitions, depth=p.depth, queue=p.queue,
                      states_per_second=round(p.states_per_second), seconds=round(p.seconds, 1))
        if callback is not None:
            callback(p)
    return report


def _explore_one(model: Model, *, max_states, stop_at_first, check, progress,
                 full_states) -> ExploreResult:
    """The search in this process: a dict from key to parent key is the visited set."""

    t0 = time.perf_counter()
    canonical = model.canonical
    orbit = model.orbit_size
    successors = model.successors
    state_violations = model.state_violations
    trans_violations = model.transition_violations
    key = (lambda c: c) if full_states else fingerprint
    new_violations = _successor_violations(model, stop_at_first)
    init = canonical(model.initial())
    k0 = key(init)
    parent: dict = {k0: None}
    res = ExploreResult(states=orbit(init), transitions=0, depth=0, seconds=0.0,
                        symmetry=model.group_size > 1, group_size=model.group_size,
                        full_states_kept=full_states, reduced_states=1, generated=1)
    found: list[tuple[str, list[str], Any, Any, Any]] = []  # name, msgs, key, label, child key
    if check:
        for name, msgs in state_violations(init).items():
            found.append((name, msgs, k0, None, None))
    frontier = [(init, k0, res.states)]
    full_states_n = res.states
    full_trans = 0
    transitions = 0
    level = 0
    last = t0
    stopped = COMPLETE
    # Fingerprints of successors that were not canonical, whose canonical
    # representative is already stored: the same successor is generated again
    # and again, and a hit here skips canonicalising it (fingerprint mode only).
    aliases: set[int] = set()
    cache = not full_states and res.symmetry
    try:
        while frontier:
            if found and stop_at_first:
                stopped = VIOLATION
                break
            nxt: list[tuple[Any, Any, int]] = []
            for n, (s, ks, os_) in enumerate(frontier):
                out = 0
                for label, t in successors(s):
                    out += 1
                    if check:
                        bad = trans_violations(s, label, t)
                        for name, msgs in bad.items():
                            found.append((name, msgs, ks, label, key(canonical(t))))
                    if cache:
                        h = fingerprint(t)
                        if h in parent or h in aliases:
                            continue
                        c = canonical(t)
                        if c is t:
                            kc = h
                        else:
                            kc = fingerprint(c)
                            if len(aliases) < ALIASES:
                                aliases.add(h)
                    else:
                        c = canonical(t)
                        kc = key(c)
                    if kc not in parent:
                        parent[kc] = ks
                        o = orbit(c)
                        nxt.append((c, kc, o))
                        full_states_n += o
                        if check:
                            bad = new_violations(s, t, c)
                            for name, msgs in bad.items():
                                found.append((name, msgs, kc, None, None))
                transitions += out
                full_trans += out * os_
                if found and stop_at_first:
                    break
                if max_states is not None and len(parent) >= max_states:
                    stopped = STATE_LIMIT
                    break
                if progress is not None and not n & 255:
                    now = time.perf_counter()
                    if now - last > 0.5:
                        last = now
                        progress(Progress(len(parent), full_states_n, transitions, level,
                                          len(frontier) - n + len(nxt), now - t0))
            if stopped != COMPLETE:
                break
            if nxt:
                level += 1
            frontier = nxt
        if found and stop_at_first:
            stopped = VIOLATION
    except KeyboardInterrupt:
        raise _interrupted(res, t0, (len(parent), full_states_n, transitions, full_trans),
                           level) from None
    return _done(res, t0, (len(parent), full_states_n, transitions, full_trans), level, stopped,
                 lambda: [_violation(model, parent.get, key, f) for f in
                          (found[:1] if stop_at_first else found)])


def _interrupted(res: ExploreResult, t0: float, counts: tuple[int, int, int, int],
                 level: int):
    """The Interrupted a stopped search raises: its counts so far, marked incomplete
    (the sequential and the parallel search alike)."""
    from movecheck.spec.errors import Interrupted

    res.seconds = time.perf_counter() - t0
    partial = _finish(res, *counts, level, INTERRUPTED)
    return Interrupted(partial.to_json(),
                       f"interrupted after {partial.reduced_states:,} states at depth "
                       f"{level}: the search is not exhaustive")


def _done(res: ExploreResult, t0: float, counts: tuple[int, int, int, int], level: int,
          stopped: str, violations: Callable[[], list[Violation]]) -> ExploreResult:
    """The result of a search that ended (``counts``: canonical states stored, full
    states, canonical transitions, full transitions); traces rebuilt last."""
    res.seconds = time.perf_counter() - t0
    _finish(res, *counts, level, stopped)
    res.violations = violations()
    res.seconds = time.perf_counter() - t0
    return res


def _successor_violations(model: Model, stop_at_first: bool):
    """How to check a new state reached from ``before`` (which broke nothing, when the
    search stops at the first violation): the model's shortcut, if it has one."""
    hook = getattr(model, "successor_violations", None)
    if hook is not None and stop_at_first:
        return hook
    plain = model.state_violations
    return lambda before, after, canonical: plain(canonical)


def _finish(res: ExploreResult, stored: int, full: int, transitions: int, full_trans: int,
            level: int, stopped: str) -> ExploreResult:
    res.reduced_states = stored
    res.states = full
    res.reduced_transitions = transitions
    res.transitions = full_trans
    res.generated = transitions + 1
    res.depth = level
    res.stopped = stopped
    res.complete = stopped in (COMPLETE, VIOLATION)
    return res


def _path(parent_of, k) -> list:
    path = [k]
    while True:
        p = parent_of(k)
        if p is None or p == 0:
            break
        path.append(p)
        k = p
    return path[::-1]


def _violation(model: Model, parent_of, key, found) -> Violation:
    """Rebuild a concrete trace for a violation found on canonical states.

    Walk the parent keys back to the initial state, then replay from the real
    initial state: at each level take the concrete successor whose canonical
    key is the next on the path.  The trace is in the cloud's own names and
    the messages are recomputed on the concrete states."""
    name, msgs, k, label, child = found
    path = _path(parent_of, k)
    s = model.initial()
    trace = []
    for want in path[1:]:
        for lab, t in model.successors(s):
            if key(model.canonical(t)) == want:
                trace.append(lab)
                s = t
                break
        else:  # pragma: no cover - a fingerprint collision on the path
            raise RuntimeError("could not replay the path to a violation")
    if label is None:
        msgs = model.state_violations(s).get(name, msgs)
        return Violation(name, msgs, trace)
    for lab, t in model.successors(s):
        if key(model.canonical(t)) == child:
            bad = model.transition_violations(s, lab, t)
            if name in bad:
                return Violation(name, bad[name], trace + [lab])
    return Violation(name, msgs, trace + [label])  # pragma: no cover


def _explore_graph(spec: Spec, *, max_states, check) -> tuple[ExploreResult, dict]:
    """Every state and edge kept, no symmetry: for pictures of tiny clouds."""
    t0 = time.perf_counter()
    init = spec.initial()
    index: dict[State, int] = {init: 0}
    states: list[State] = [init]
    edges: list[tuple[int, int, Step, tuple[str, ...]]] = []
    found: list[Violation] = []
    if check:
        found += [Violation(n, m, []) for n, m in violations(spec, init).items()]
    frontier = [0]
    depth = 0
    transitions = 0
    complete = True
    while frontier:
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
                    nxt.append(j)
                    if check:
                        found += [Violation(n, m, []) for n, m in violations(spec, t).items()]
                if check:
                    found += [Violation(n, m, []) for n, m in
                              transition_violations(spec, s, step, t).items()]
                edges.append((k, j, step, picks))
            if max_states is not None and len(states) >= max_states:
                complete = False
                break
        if not complete:
            break
        if nxt:
            depth += 1
        frontier = nxt
    res = ExploreResult(states=len(states), transitions=transitions, depth=depth,
                        seconds=time.perf_counter() - t0, violations=found, complete=complete,
                        stopped=COMPLETE if complete else STATE_LIMIT,
                        reduced_states=len(states), reduced_transitions=transitions,
                        full_states_kept=True, generated=transitions + 1)
    return res, {"states": states, "edges": edges}
