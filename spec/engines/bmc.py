"""Bounded model checking of the spec's Z3 reading (``movecheck bmc --depth K``).

Incremental: the solver holds the initial state and k copies of the
transition relation; at each depth it asks (push/pop) whether some state
breaks a one-state invariant or the last transition breaks a two-state
property.  The first depth with an answer gives a shortest trace.  The cloud's
own numbers are used (capacities, flavor sizes, host up flags): BMC explores
the same cloud ``movecheck explore`` does, by a solver instead of a BFS.

Each transition is one disjunct per step kind, selected by a ``kind``
variable, with that kind's parameters free; device picks are free Bools
constrained to the legal picks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from movecheck.spec import REFUSED, Refusal, State
from movecheck.spec.interpret import z3 as SI
from movecheck.spec.interpret.terms import AND, NOT, OR
from movecheck.spec.interpret.z3 import (
    Params,
    StepArgs,
    SymbolicSpec,
    SymState,
    concrete_params,
    decode,
    fresh_state,
)
from movecheck.spec.state import VM_NONE
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import Cloud, Step

KINDS = tuple(STEPS)


@dataclass
class TraceStep:
    step: Step
    picks: tuple[str, ...]
    state: State  # after the step


@dataclass
class BMCResult:
    depth: int  # deepest depth fully checked (or the depth of the violation)
    seconds: float
    invariant: str | None = None  # the first broken invariant, None if none
    broken: list[str] = field(default_factory=list)  # every invariant broken at the end
    initial: State | None = None
    trace: list[TraceStep] = field(default_factory=list)
    cloud: Cloud | None = None
    complete: bool = True  # False when the time budget stopped the search

    def trace_json(self) -> list[dict[str, Any]]:
        out = []
        for t in self.trace:
            d = t.step.to_json()
            if isinstance(t.picks, Refusal):
                d["expected"] = "rejected"
            elif t.picks:
                d["picks"] = list(t.picks)
            out.append(d)
        return out


class BMC:
    def __init__(self, cloud: Cloud, sym_cls: type[SymbolicSpec] = SymbolicSpec,
                 params: Params | None = None, symmetry: bool = True):
        """``symmetry``: instances are booted in slot order.  Sound for targets that do not
        care which instance is which (every invariant, every vacuity target): any trace can
        be renamed so that instances boot in order.  Off when looking for one given state."""
        self.cloud = cloud
        self.symmetry = symmetry
        self.P = params or concrete_params(cloud)
        self.sym = sym_cls(self.P)
        self.solver = z3.Solver()
        self.solver.add(*self.P.constraints)
        self.states: list[SymState] = [fresh_state(self.P, "b0")]
        s0 = self.states[0]
        self.solver.add(self.sym.initial(s0))
        self.solver.add(*[u == h.up for u, h in zip(s0.up, cloud.hosts, strict=True)])
        self.steps: list[tuple[z3.ArithRef, list[StepArgs], list]] = []
        #: per transition, per action: its outcome is accepted (a term; False: a move
        #: the scheduler refused, which still writes its record).
        self.accepted: list[list[Any]] = []

    def _bad_now(self) -> tuple[Any, dict[str, Any]]:
        """The negation of every property at the last state/transition, by name."""
        s = self.states[-1]
        named = {n: NOT(f(self.sym, s)) for n, f in SI.STATE.items()}
        if self.steps:
            sel, actions, _ = self.steps[-1]
            prev = self.states[-2]
            for n, f in SI.TRANSITION.items():
                named[n] = OR(*[AND(sel == j, NOT(f(self.sym, prev, a, s)))
                                for j, a in enumerate(actions)])
        return OR(*named.values()), named

    def actions(self, s: SymState) -> list[StepArgs]:
        """Every step of the cloud with concrete indices; a new migration takes number
        nmig + 1; a migration step acts on one slot's latest record."""
        P = self.P
        F = len(P.flavors)
        out = []
        for i in range(P.N):
            sl = s.slots[i]
            nxt = s.nmig + 1
            out += [StepArgs("boot", instance=i, host=h, flavor=f) for h in range(P.H) for f in range(F)]
            out += [StepArgs(k, instance=i) for k, sd in STEPS.items() if sd.params == ("instance",)]
            for h in range(P.H):
                out += [StepArgs("resize_claim", migration=nxt, instance=i, dest=h, flavor=f)
                        for f in range(F)]
                out.append(StepArgs("live_claim", migration=nxt, instance=i, dest=h))
                out.append(StepArgs("evacuate_start", migration=nxt, instance=i, dest=h))
            out += [StepArgs(k, migration=sl.mid, only_slot=i) for k, sd in STEPS.items()
                    if sd.params == ("migration",)]
        for h in range(P.H):
            out += [StepArgs(k, host=h) for k in ("host_down", "host_up", "audit")]
        return out

    def _extend(self) -> None:
        """One more transition: a selector over the concrete actions; each field of the next
        state is an If-chain over only the actions that change it (the rest is frame)."""
        d = len(self.states)
        s, t = self.states[-1], fresh_state(self.P, f"b{d}")
        sel = z3.Int(f"act{d}")
        picks = [z3.Bool(f"b{d}_pick_{g}") for g in range(self.P.G)]
        actions = self.actions(s)
        pre = s.terms()
        chains: list[list[tuple[int, Any]]] = [[] for _ in pre]
        cons = [sel >= 0, sel < len(actions)]
        accepted = []
        for j, a in enumerate(actions):
            tr = self.sym.transition(s, a, picks)
            accepted.append(tr.accepted)
            cons.append(z3.Implies(sel == j, z3.And(_b(tr.enabled), _b(tr.picks_ok))))
            if self.symmetry and a.kind == "boot" and a.instance > 0:
                cons.append(z3.Implies(sel == j, s.slots[a.instance - 1].vm != VM_NONE))
            for p, (x, y) in enumerate(zip(pre, tr.post.terms(), strict=True)):
                if not _same(x, y):
                    chains[p].append((j, y))
        for p, (x, y) in enumerate(zip(pre, t.terms(), strict=True)):
            val = x
            for j, v in reversed(chains[p]):
                val = z3.If(sel == j, v, val)
            cons.append(y == val)
        self.solver.add(*cons)
        self.states.append(t)
        self.steps.append((sel, actions, picks))
        self.accepted.append(accepted)

    def run(self, depth: int, budget: float | None = None,
            progress: Callable[[int, float], None] | None = None) -> BMCResult:
        t0 = time.perf_counter()
        k = 0
        while True:
            bad, named = self._bad_now()
            self.solver.push()
            self.solver.add(bad)
            r = self.solver.check()
            if r == z3.sat:
                res = self._trace(self.solver.model(), named, k, time.perf_counter() - t0)
                self.solver.pop()
                return res
            self.solver.pop()
            # No violation up to depth k: every state (and step) so far satisfies every
            # property, and a shortest violation deeper down passes only through such
            # states; saying so prunes the deeper searches a lot.
            self.solver.add(NOT(bad))
            if progress is not None:
                progress(k, time.perf_counter() - t0)
            if k >= depth:
                return BMCResult(k, time.perf_counter() - t0, cloud=self.cloud)
            if budget is not None and time.perf_counter() - t0 > budget:
                return BMCResult(k, time.perf_counter() - t0, cloud=self.cloud, complete=False)
            self._extend()
            k += 1

    def reach(self, targets: dict[str, Any], depth: int, budget: float | None = None
              ) -> dict[str, BMCResult | None]:
        """Shortest witness trace for each target; ``targets[name](bmc)`` gives a term about
        the last state/transition (see :meth:`last_state`, :meth:`last_action_is`)."""
        t0 = time.perf_counter()
        found: dict[str, BMCResult | None] = {n: None for n in targets}
        k = 0
        while True:
            for name, target in targets.items():
                if found[name] is not None:
                    continue
                term = target(self)
                if term is False:
                    continue
                self.solver.push()
                self.solver.add(term)
                if self.solver.check() == z3.sat:
                    found[name] = self._trace(self.solver.model(), {}, k,
                                              time.perf_counter() - t0)
                self.solver.pop()
            if all(v is not None for v in found.values()) or k >= depth:
                return found
            if budget is not None and time.perf_counter() - t0 > budget:
                return found
            self._extend()
            k += 1

    def last_state(self) -> SymState:
        return self.states[-1]

    def last_action_is(self, kind: str):
        """The last transition took a step of ``kind``, accepted (False before any step)."""
        if not self.steps:
            return False
        sel, actions, _ = self.steps[-1]
        accepted = self.accepted[-1]
        return OR(*[AND(sel == j, accepted[j]) for j, a in enumerate(actions) if a.kind == kind])

    def _trace(self, m: z3.ModelRef, named: dict[str, Any], k: int, seconds: float) -> BMCResult:
        from movecheck.spec.engines.prove import _symbolic_step

        broken = [n for n, term in named.items()
                  if not isinstance(term, bool) and z3.is_true(m.eval(term, model_completion=True))]
        cloud, s0 = decode(self.P, m, self.states[0], self.cloud)
        trace = []
        for d, (sel, actions, picks) in enumerate(self.steps, 1):
            j = m.eval(sel, model_completion=True).as_long()
            a = actions[j]
            step = _symbolic_step(self.P, a.kind, m, a)
            chosen = ()
            acc = self.accepted[d - 1][j]
            if acc is False or (acc is not True and z3.is_false(m.eval(acc, model_completion=True))):
                chosen = REFUSED
            elif STEPS[a.kind].claims:
                chosen = tuple(self.P.devices[g][1] for g, p in enumerate(picks)
                               if z3.is_true(m.eval(p, model_completion=True)))
            trace.append(TraceStep(step, chosen, decode(self.P, m, self.states[d], self.cloud)[1]))
        return BMCResult(k, seconds, (broken[0] if broken else "?") if named else None, broken, s0,
                         trace, cloud)


def bmc(cloud: Cloud, depth: int, sym_cls: type[SymbolicSpec] = SymbolicSpec,
        budget: float | None = None, progress=None) -> BMCResult:
    """Shortest violation within ``depth`` steps of ``cloud`` (the Python API of ``movecheck bmc``)."""
    return BMC(cloud, sym_cls).run(depth, budget, progress)


def bmc_table(result: BMCResult):
    """A rich Table like spec.describe.trace_table, from the BMC's own states (so that a spec
    mutant's trace shows what the mutant did)."""
    from rich.table import Table

    from movecheck.spec.describe import fmt_vector

    table = Table(show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("step")
    for h in result.cloud.hosts:
        table.add_column(f"{h.name} usage", justify="right")
    table.add_column("statuses")
    for n, ts in enumerate(result.trace, 1):
        s = ts.state
        label = str(ts.step) + (f" picks {','.join(ts.picks)}" if ts.picks else "")
        if isinstance(ts.picks, Refusal):
            label += " (rejected: refused by the scheduler)"
        cells = [fmt_vector(u) + ("" if s.up[k] else " (down)") for k, u in enumerate(s.usage)]
        table.add_row(str(n), label, *cells, " ".join(f"{m.id}:{m.status}" for m in s.migrations))
    return table


def _b(x):
    return z3.BoolVal(x) if isinstance(x, bool) else x


def _same(x, y) -> bool:
    """Syntactically the same term (Z3 terms are hash-consed)."""
    if isinstance(x, z3.ExprRef) and isinstance(y, z3.ExprRef):
        return x.eq(y)
    return x is y


__all__ = ["bmc", "BMC", "BMCResult", "TraceStep", "bmc_table"]
