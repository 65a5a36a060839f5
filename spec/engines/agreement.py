"""The agreement check between the concrete and the Z3 reading of the spec (docs/one-spec.md).

For one concrete state and one step (enabled or not), :func:`agreement_problems`
lists every way the two interpretations disagree:

- the Z3 guard evaluated on the encoded state differs from ``Spec.enabled``;
- an encoded concrete successor (one per legal device pick) does not satisfy
  the Z3 transition relation;
- the Z3 relation admits a successor that is none of the concrete ones;
- a one-state invariant, or a two-state property on a concrete transition,
  differs by name; or an abstraction invariant fails on a concrete state.

``tests/test_symbolic_agreement.py`` runs it on Hypothesis-generated reachable
states and steps; ``movecheck check`` can run it as a self-check
(:func:`self_check`).
"""

from __future__ import annotations

import random

import z3

from movecheck.spec import Spec, State
from movecheck.spec.interpret import z3 as SI
from movecheck.spec.interpret.z3 import (
    SymbolicSpec,
    concrete_params,
    encode_state,
    fresh_state,
    states_equal,
    step_args,
    to_bool,
)
from movecheck.spec.invariants import transition_violations, violations
from movecheck.spec.vocab import Step


def agreement_problems(spec: Spec, state: State, step: Step,
                       sym: SymbolicSpec | None = None) -> list[str]:
    """Every disagreement between the two interpretations on ``state`` and ``step``."""
    sym = sym or SymbolicSpec(concrete_params(spec.cloud))
    P = sym.P
    out: list[str] = []
    es = encode_state(spec, state)
    viol = violations(spec, state)
    for name, inv in SI.STATE.items():
        if to_bool(inv(sym, es)) != (name not in viol):
            out.append(f"invariant {name}: concrete says {'broken' if name in viol else 'holds'}")
    if not viol:
        for name, inv in SI.ABSTRACTION.items():
            if not to_bool(inv(sym, es)):
                out.append(f"abstraction invariant {name} fails on a concrete state")
    a = step_args(spec, step)
    concrete_enabled = spec.enabled(state, step)
    if a is None:  # a name the cloud does not have: the concrete spec must reject it
        if concrete_enabled:
            out.append(f"{step}: enabled with an unknown name")
        return out
    tr = sym.transition(es, a)
    # A transition exists for an enabled step and for a move the scheduler refused.
    succs = spec.step_transitions(state, step)
    if to_bool(tr.enabled) != bool(succs):
        out.append(f"{step}: Z3 guard {to_bool(tr.enabled)}, concrete "
                   f"{spec.why_rejected(state, step) or 'enabled'}")
        return out
    if succs and to_bool(tr.accepted) != concrete_enabled:
        out.append(f"{step}: Z3 outcome {'accepted' if to_bool(tr.accepted) else 'refused'}, "
                   f"concrete {spec.why_rejected(state, step) or 'enabled'}")
        return out
    post = fresh_state(P)
    solver = z3.Solver()
    solver.add(tr.enabled, tr.picks_ok, states_equal(post, tr.post))
    if not succs:
        if solver.check() != z3.unsat:
            out.append(f"{step}: disabled, but the Z3 relation has a successor")
        return out
    encoded = []
    for picks, t in succs:
        et = encode_state(spec, t)
        encoded.append(et)
        solver.push()
        solver.add(states_equal(post, et))
        if solver.check() != z3.sat:
            out.append(f"{step} picks {picks}: the concrete successor is not a Z3 successor")
        solver.pop()
        tv = transition_violations(spec, state, step, t)
        for name, prop in SI.TRANSITION.items():
            if to_bool(prop(sym, es, a, et)) != (name not in tv):
                out.append(f"{step}: two-state property {name}: concrete says "
                           f"{'broken' if name in tv else 'holds'}")
    solver.add(*[z3.Not(states_equal(post, et)) for et in encoded])
    if solver.check() != z3.unsat:
        out.append(f"{step}: the Z3 relation admits a successor the concrete spec does not")
    return out


def extra_steps(spec: Spec, state: State) -> list[Step]:
    """Steps beyond ``candidate_steps`` that must be rejected or decided alike: steps on
    every migration id (used, terminal, unknown) and creating steps with used ids."""
    from movecheck.spec.steps import CREATING_STEPS, STEPS

    ids = [f"m{k}" for k in range(1, spec.cloud.max_migrations + 2)]
    out = []
    for kind, sd in STEPS.items():
        if sd.params == ("migration",):
            out += [Step(kind, migration=m) for m in ids]
    for m in state.migrations:
        for iid in spec.cloud.instances:
            for kind in CREATING_STEPS:
                dest = spec.cloud.host_names[0]
                flavor = spec.cloud.flavor_names[0] if kind == "resize_claim" else None
                out.append(Step(kind, migration=m.id, instance=iid, dest=dest, flavor=flavor))
    return out


def self_check(spec: Spec, walks: int = 20, depth: int = 12, seed: int = 0) -> list[str]:
    """Random walks of enabled steps; the agreement check on one step per visited state."""
    rng = random.Random(seed)
    sym = SymbolicSpec(concrete_params(spec.cloud))
    problems: list[str] = []
    for _ in range(walks):
        s = spec.initial()
        for _ in range(rng.randrange(depth + 1)):
            succ = list(spec.successors(s))
            if not succ:
                break
            s = rng.choice(succ)[2]
        steps = list(spec.candidate_steps(s)) + extra_steps(spec, s)
        problems += agreement_problems(spec, s, rng.choice(steps), sym)
    return problems


def value_agreement_problems(spec: Spec, state: State, steps, sym: SymbolicSpec) -> list[str]:
    """The agreement check with the Z3 reading run on Python values (``sym`` built from
    ``concrete_params(cloud, python=True)``): no solver, so it is cheap enough to run on
    every reachable state and every step of a small cloud.

    It compares everything the two readings do differently — names against indices,
    device tuples against per-device Bools, finding the acting slot, merging,
    device picks (every subset of the cloud's devices is tried), migration numbering
    — while :func:`agreement_problems` checks the same rules with real Z3 terms.
    """
    out: list[str] = []
    es = encode_state(spec, state, python=True)
    viol = violations(spec, state)
    for name, inv in SI.STATE.items():
        if inv(sym, es) is not (name not in viol):
            out.append(f"invariant {name}: concrete says {'broken' if name in viol else 'holds'}")
    if not viol:
        for name, inv in SI.ABSTRACTION.items():
            if inv(sym, es) is not True:
                out.append(f"abstraction invariant {name} fails on a concrete state")
    G = sym.P.G
    pick_vectors = [[bool(n >> g & 1) for g in range(G)] for n in range(2 ** G)]
    for step in steps:
        a = step_args(spec, step)
        succs = spec.step_transitions(state, step)
        enabled = bool(succs)  # the step has a transition (accepted, or a refused move)
        accepted = enabled and spec.enabled(state, step)
        if a is None:
            if enabled:
                out.append(f"{step}: enabled with an unknown name")
            continue
        posts = set()
        for picks in pick_vectors:
            tr = sym.transition(es, a, picks)
            if tr.enabled is not enabled:
                out.append(f"{step}: Z3 reading's guard {tr.enabled}, concrete "
                           f"{spec.why_rejected(state, step) or 'enabled'}")
                break
            if enabled and tr.accepted is not accepted:
                out.append(f"{step}: Z3 reading's outcome accepted={tr.accepted}, concrete "
                           f"{spec.why_rejected(state, step) or 'enabled'}")
                break
            if enabled and tr.picks_ok is True:
                posts.add(tuple(tr.post.terms()))
        if not enabled or out:
            continue
        want = set()
        for _picks, t in succs:
            et = encode_state(spec, t, python=True)
            want.add(tuple(et.terms()))
            tv = transition_violations(spec, state, step, t)
            for name, prop in SI.TRANSITION.items():
                if prop(sym, es, a, et) is not (name not in tv):
                    out.append(f"{step}: two-state property {name}: concrete says "
                               f"{'broken' if name in tv else 'holds'}")
        if posts != want:
            out.append(f"{step}: successors differ: {len(posts - want)} only in the Z3 reading, "
                       f"{len(want - posts)} only in the concrete one")
    return out
