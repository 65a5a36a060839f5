"""Induction proofs of the spec's invariants (``movecheck prove``, issue 3).

For a bounded cloud whose capacities, flavor sizes, flavor device counts and
migration bound are free (:func:`movecheck.spec.interpret.z3.symbolic_params`):

- initiation: every initial state satisfies every one-state invariant;
- consecution: for every step kind and every invariant, a state satisfying
  ALL one-state invariants (those of docs/spec.md, the auxiliary ones of
  spec/invariants.py and the encoding's facts of spec/interpret/z3.py)
  and taking the step reaches a state satisfying the invariant; two-state
  properties are checked on the same transition.

One obligation per (invariant, step); one incremental solver per step kind
(the hypothesis is asserted once, each goal is pushed and popped).  The
acting instance is slot 0 by symmetry (instance slots are interchangeable:
the invariants and the transition relation are invariant under permuting
them), which keeps each formula about one moving instance and N-1 frame
instances.  Results: proved, counterexample (a counterexample to induction,
decoded to domain words) or unknown (solver timeout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import z3

from movecheck.spec import Spec, State
from movecheck.spec.engines import progress
from movecheck.spec.interpret import z3 as SI
from movecheck.spec.interpret.terms import AND, EQ, NOT, SUM, ite
from movecheck.spec.interpret.z3 import (
    RC,
    Params,
    SymbolicSpec,
    SymState,
    all_step_args,
    decode,
    fresh_state,
    symbolic_params,
)
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import Cloud, Step

PROVED, COUNTEREXAMPLE, UNKNOWN = "proved", "counterexample", "unknown"
INIT = "(initial states)"


@dataclass
class CTI:
    """A counterexample to induction: a pre-state satisfying every invariant, a step, and
    a post-state breaking ``invariant``; in domain words."""

    invariant: str
    step: Step
    cloud: Cloud  # with the model's capacities and flavor sizes
    before: State | None
    after: State
    picks: tuple[str, ...] = ()
    reachable: bool | None = None  # pre-state reachable by a small BMC (None: not tried)

    def to_json(self) -> dict[str, Any]:
        from movecheck.spec.describe import describe_state

        spec = Spec(self.cloud)
        return {
            "invariant": self.invariant,
            "step": self.step.to_json(),
            "before": describe_state(spec, self.before) if self.before is not None else None,
            "after": describe_state(spec, self.after),
            "cloud": self.cloud.to_json(),
            "pre_state_reachable": self.reachable,
        }


@dataclass
class Obligation:
    invariant: str
    step: str  # a step kind, or INIT
    status: str
    seconds: float
    cti: CTI | None = None


@dataclass
class InvariantResult:
    name: str
    kind: str  # state | transition | abstraction
    status: str
    seconds: float
    obligations: list[Obligation] = field(default_factory=list)

    @property
    def cti(self) -> CTI | None:
        return next((o.cti for o in self.obligations if o.cti is not None), None)


def _hypothesis(sym: SymbolicSpec, s: SymState) -> list:
    return [f(sym, s) for f in list(SI.STATE.values()) + list(SI.ABSTRACTION.values())]


def _goals() -> dict[str, tuple[str, Any]]:
    """Every goal, in the order they are checked: abstraction facts and conservation first,
    because each goal proved for a step is a lemma for the later ones."""
    goals: dict[str, tuple[str, Any]] = {n: ("abstraction", f) for n, f in SI.ABSTRACTION.items()}
    goals["conservation"] = ("state", SI.STATE["conservation"])
    goals.update({n: ("state", f) for n, f in SI.STATE.items() if n != "conservation"})
    goals.update({n: ("transition", f) for n, f in SI.TRANSITION.items()})
    return goals


#: One-state invariants that follow from others in ANY state (checked once per run by
#: :meth:`Prover.corollaries`): name -> the invariants that imply it.
COROLLARIES = {"non_negative": ("well_typed", "conservation")}


def _symbolic_step(P: Params, kind: str, model: z3.ModelRef, a) -> Step:
    """The step of a model, with names."""
    def name(x, names):
        if x is None:
            return None
        k = x if isinstance(x, int) else model.eval(x, model_completion=True).as_long()
        return names[k] if 0 <= k < len(names) else f"#{k}"

    mig = None
    if a.migration is not None:
        x = a.migration
        mig = f"m{x if isinstance(x, int) else model.eval(x, model_completion=True)}"
    return Step(kind, migration=mig, instance=name(a.instance, P.instances), host=name(a.host, P.hosts),
                dest=name(a.dest, P.hosts), flavor=name(a.flavor, P.flavors))


class Prover:
    """The obligations of one cloud, for one symbolic spec (the spec or a spec mutant)."""

    #: Which proof this is, in progress reports ("prove bounded", "prove parametric").
    label = "bounded"

    def __init__(self, cloud: Cloud, sym_cls: type[SymbolicSpec] = SymbolicSpec,
                 timeout: float = 60.0, symmetric: bool = True, smt2_dir: str | None = None):
        self.cloud = cloud
        self.P = symbolic_params(cloud)
        self.sym = sym_cls(self.P)
        self.timeout = timeout
        self.symmetric = symmetric
        self.smt2_dir = Path(smt2_dir) if smt2_dir else None
        if self.smt2_dir:
            self.smt2_dir.mkdir(parents=True, exist_ok=True)
        # One pre-state and one hypothesis for every step kind (built once).
        self.pre = self._fresh("pre")
        self.hypothesis = _hypothesis(self.sym, self.pre) + self._summary_facts(self.pre)

    # Hooks for the parametric proof (movecheck.spec.engines.parametric).
    def _fresh(self, tag: str) -> SymState:
        return fresh_state(self.P, tag)

    def _summary_facts(self, s: SymState) -> list:
        return []

    def _host_symmetry(self, a) -> list:
        """With capacities free, hosts that have as many devices are interchangeable: the
        step's host (or dest) parameter may be the first host."""
        if len({len(h.devices) for h in self.cloud.hosts}) != 1:
            return []
        return [x == 0 for x in (a.host, a.dest) if x is not None and not isinstance(x, int)]

    def _transition(self, s: SymState, a, kind: str):
        """(transition, release): ``release`` is the summarised instances' usage release
        per host (parametric host_up), or None."""
        return self.sym.transition(s, a), None

    def _solver(self) -> z3.Solver:
        s = z3.Solver()
        s.set("timeout", max(1, int(self.timeout * 1000)))
        s.add(*self.P.constraints)
        return s

    def _check(self, solver: z3.Solver, goal, label: str) -> tuple[str, float]:
        solver.push()
        solver.add(NOT(goal) if not isinstance(goal, bool) else z3.BoolVal(not goal))
        if self.smt2_dir is not None:
            (self.smt2_dir / f"{label}.smt2").write_text(
                "(set-logic ALL)\n" + solver.to_smt2(), encoding="utf-8")
        t0 = time.perf_counter()
        r = solver.check()
        dt = time.perf_counter() - t0
        status = PROVED if r == z3.unsat else COUNTEREXAMPLE if r == z3.sat else UNKNOWN
        return status, dt

    # -------------------------------------------------------------- obligations

    def initiation(self, names=None) -> list[Obligation]:
        s = self._fresh("init")
        solver = self._solver()
        solver.add(self.sym.initial(s), *self._summary_facts(s))
        if s.others_usage is not None:  # nobody else holds anything initially
            solver.add(*[u == 0 for row in s.others_usage for u in row],
                       *[z3.Not(d) for d in s.others_dev])
        out = []
        for name, (kind, f) in _goals().items():
            if kind == "transition" or (names is not None and name not in names):
                continue
            status, dt = self._check(solver, f(self.sym, s), f"init__{name}")
            cti = None
            if status == COUNTEREXAMPLE:
                cti = self._cti(name, solver, None, s, None, "boot")
            solver.pop()
            out.append(Obligation(name, INIT, status, dt, cti))
        return out

    def consecution(self, kind: str, names=None) -> list[Obligation]:
        P, sym = self.P, self.sym
        s = self.pre
        only = 0 if self.symmetric and ("instance" in STEPS[kind].params
                                        or "migration" in STEPS[kind].params) else None
        a, cons = all_step_args(P, kind, f"arg_{kind}", only_slot=only)
        cons += self._host_symmetry(a)
        tr, release = self._transition(s, a, kind)
        solver = self._solver()
        solver.add(*cons, *self.hypothesis, tr.enabled, tr.picks_ok)
        t = tr.post
        out = []
        proved: dict[str, bool] = {}
        for name, (gkind, f) in _goals().items():
            if names is not None and name not in names:
                continue
            if gkind == "transition":
                # The summarised instances' releases are theirs, not the explicit ones'.
                t_own = t if release is None else replace(t, usage=[
                    [t.usage[h][r] + release[h][r] for r in range(RC)] for h in range(P.H)])
                goal = f(sym, s, a, t_own)
            else:
                goal = f(sym, t)
            status, dt, cti = UNKNOWN, 0.0, None
            if name in COROLLARIES and self.corollaries()[name] and all(
                    proved.get(n) for n in COROLLARIES[name]):
                status = PROVED  # implied by goals already proved for this step
            if name == "conservation" and tr.slot_deltas is not None:
                status, dt = self._check(solver, self._local_conservation(s, tr, release),
                                         f"{kind}__conservation_local")
                solver.pop()
            if status != PROVED:  # the plain obligation (also the fallback of the local one)
                status, dt2 = self._check(solver, goal, f"{kind}__{name}")
                dt += dt2
                if status == COUNTEREXAMPLE:
                    cti = self._cti(name, solver, s, t, a, kind, tr.picks)
                solver.pop()
            proved[name] = status == PROVED
            if status == PROVED:
                # A goal proved for this transition is a fact about it: later goals may use it.
                solver.add(goal)
            out.append(Obligation(name, kind, status, dt, cti))
        return out

    def corollaries(self) -> dict[str, bool]:
        """Whether each corollary holds in every state (one query each, cached)."""
        if not hasattr(self, "_corollaries"):
            self._corollaries = {}
            s = self._fresh("any")
            for name, premises in COROLLARIES.items():
                solver = self._solver()
                solver.add(*self._summary_facts(s), *[_goals()[n][1](self.sym, s) for n in premises])
                status, _ = self._check(solver, _goals()[name][1](self.sym, s), f"corollary__{name}")
                solver.pop()
                self._corollaries[name] = status == PROVED
        return self._corollaries

    def _local_conservation(self, s: SymState, tr, release=None) -> Any:
        """Conservation, compositionally (docs/proofs.md): every usage write is attributed to
        a slot, and the acting slot's recomputed charge changes by exactly its attributed
        amount.  Slots other than 0 are unchanged, or (host_up) act like slot 0 by symmetry."""
        P, sym = self.P, self.sym
        t = tr.post
        conds = []
        all_deltas = [d for dl in tr.slot_deltas.values() for d in dl]
        for h in range(P.H):
            for r in range(RC):
                rel = 0 if release is None else release[h][r]
                conds.append(t.usage[h][r] == s.usage[h][r] - rel + SUM(
                    [ite(AND(c, EQ(hh, h)), sg * P.fvec(f, r), 0) for c, hh, f, sg in all_deltas]))
                if t.others_usage is not None:
                    conds.append(t.others_usage[h][r] == s.others_usage[h][r] - rel)
        for i, (x, y) in enumerate(zip(s.slots, t.slots, strict=True)):
            if i != 0 and y is x:
                continue  # unchanged slot: same charge, no delta
            if i != 0 and not self.symmetric:
                return False  # no symmetry to lean on: use the plain obligation
            if i != 0:
                continue  # acts like slot 0 (host_up): covered by symmetry
            cx, cy = sym.slot_charge(x), sym.slot_charge(y)
            dl = tr.slot_deltas.get(i, [])
            for h in range(P.H):
                for r in range(RC):
                    conds.append(cy[h][r] == cx[h][r] + SUM(
                        [ite(AND(c, EQ(hh, h)), sg * P.fvec(f, r), 0) for c, hh, f, sg in dl]))
        return AND(*conds)

    def _cti(self, name, solver, s, t, a, kind, picks=()) -> CTI:
        """Decode the current model (call before pop); small numbers when they do."""
        m = solver.model()
        P = self.P
        solver.push()  # prefer a readable counterexample: small sizes and capacities
        solver.add(*[x <= 8 for row in P.vec for x in row], *[x <= 16 for row in P.cap for x in row])
        if solver.check() == z3.sat:
            m = solver.model()
        solver.pop()
        cloud, after = decode(self.P, m, t, self.cloud)
        before = decode(self.P, m, s, self.cloud)[1] if s is not None else None
        step = _symbolic_step(self.P, kind, m, a) if a is not None else Step("(initial)")
        chosen = tuple(self.P.devices[g][1] for g, p in enumerate(picks)
                       if z3.is_true(m.eval(p, model_completion=True)))
        return CTI(name, step, cloud, before, after, chosen)

    def run(self, names=None, steps=None) -> list[InvariantResult]:
        kinds = list(steps or STEPS)

        def report(done: int, current: str) -> None:
            # The figures a progress line shows and an interrupted run reports.
            progress.report(f"prove {self.label}", steps_done=done, steps_total=len(kinds) + 1,
                            current=current, obligations=len(obligations),
                            proved=sum(o.status == PROVED for o in obligations),
                            not_proved=sorted({o.invariant for o in obligations
                                               if o.status != PROVED}))

        obligations: list[Obligation] = []
        report(0, "initiation")
        obligations = self.initiation(names)
        for i, kind in enumerate(kinds, 1):
            report(i, kind)
            obligations += self.consecution(kind, names)
        report(len(kinds) + 1, "done")
        goals = _goals()
        results = []
        for name, (kind, _) in goals.items():
            if names is not None and name not in names:
                continue
            obs = [o for o in obligations if o.invariant == name]
            statuses = {o.status for o in obs}
            status = (COUNTEREXAMPLE if COUNTEREXAMPLE in statuses
                      else UNKNOWN if UNKNOWN in statuses else PROVED)
            results.append(InvariantResult(name, kind, status, sum(o.seconds for o in obs), obs))
        return results


def prove_all(cloud: Cloud, timeout: float = 60.0, sym_cls: type[SymbolicSpec] = SymbolicSpec,
              smt2_dir: str | None = None, names=None, steps=None,
              compositional: bool | None = None) -> list[InvariantResult]:
    """Prove every invariant of ``cloud``'s shape by induction (capacities, sizes free).

    ``compositional`` (default: when the cloud has more than two instances)
    keeps two instance slots explicit and summarises the others, as the
    parametric proof does (docs/proofs.md): a proof for the cloud's hosts and
    ANY number of instances, so also for this cloud, and linear rather than
    exponential in the number of instances.  ``compositional=False`` is the
    direct encoding with every instance explicit.

    The Python API behind ``movecheck prove``; ``movecheck check`` calls it too.
    """
    if compositional is None:
        compositional = len(cloud.instances) > 2
    if compositional:
        from movecheck.spec.engines.parametric import ParametricProver

        two = Cloud(cloud.hosts, cloud.flavors, cloud.instances[:2], cloud.max_migrations,
                    cloud.options)
        prover = ParametricProver(two, sym_cls, timeout, smt2_dir=smt2_dir)
        prover.label = "bounded"
        results = prover.run(names, steps)
        if names is None and (steps is None or "host_up" in steps):
            lic = prover.releases_only()
            results.append(InvariantResult(lic.invariant, "abstraction", lic.status, lic.seconds,
                                           [lic]))
            if lic.status != PROVED:
                for r in results:
                    if r.status == PROVED:
                        r.status = UNKNOWN
        return results
    return Prover(cloud, sym_cls, timeout, smt2_dir=smt2_dir).run(names, steps)


__all__ = ["prove_all", "Prover", "InvariantResult", "Obligation", "CTI", "PROVED",
           "COUNTEREXAMPLE", "UNKNOWN", "AND"]
