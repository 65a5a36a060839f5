"""One spec, two interpretations: the Z3 encoding agrees with the concrete spec.

Hypothesis generates reachable states (random walks of enabled steps, with
every legal device pick) and a step (enabled or not: every candidate step,
steps on used/terminal/unknown migration ids, creating steps with used ids),
sometimes on a state whose usage was knocked off by a random amount (so that
invariants that are broken are compared too).  ``agreement_problems`` must
return nothing.
"""

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movecheck.spec import Spec, default_cloud, make_step
from movecheck.spec.engines.agreement import agreement_problems, extra_steps, self_check
from movecheck.spec.engines.spec_mutants import MUTANTS
from movecheck.spec.interpret.z3 import STATE, SymbolicSpec, concrete_params, encode_state, to_bool
from movecheck.spec.steps import STEPS

CLOUDS = {
    "default": default_cloud(),
    "3x2": default_cloud(hosts=3, instances=2, max_migrations=3),
}
SPECS = {k: Spec(c) for k, c in CLOUDS.items()}
SYMS = {k: SymbolicSpec(concrete_params(c)) for k, c in CLOUDS.items()}


@st.composite
def state_and_step(draw, name):
    spec = SPECS[name]
    s = spec.initial()
    for _ in range(draw(st.integers(0, 14))):
        succ = list(spec.successors(s))
        if not succ:
            break
        s = succ[draw(st.integers(0, len(succ) - 1))][2]
    if draw(st.integers(0, 9)) == 0:  # knock usage off: compare broken invariants too
        k = draw(st.integers(0, len(s.usage) - 1))
        r = draw(st.integers(0, 2))
        usage = [list(u) for u in s.usage]
        usage[k][r] += draw(st.sampled_from([-1, 1, 512, -512, 5000]))
        s = s._replace(usage=tuple(tuple(u) for u in usage))
    steps = list(spec.candidate_steps(s)) + extra_steps(spec, s)
    return s, steps[draw(st.integers(0, len(steps) - 1))]


@pytest.mark.parametrize("name", ["default", "3x2"])
def test_z3_and_concrete_agree(name):
    n = {"default": 700, "3x2": 300}[name]  # 1000 cases in all

    @settings(max_examples=n, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(state_and_step(name))
    def check(case):
        s, step = case
        assert agreement_problems(SPECS[name], s, step, SYMS[name]) == []

    check()


def test_agreement_sees_a_broken_guard():
    """The check is not vacuous: a symbolic spec whose confirm needs no finished migration
    disagrees with the concrete spec on a state where the migration is migrating."""

    Drifted = MUTANTS["confirm_from_migrating"]
    spec = SPECS["default"]
    S = make_step
    s = spec.initial()
    for step in (S("boot", instance="i1", host="h1", flavor="small"),
                 S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
                 S("resize_migrate", migration="m1")):
        s = spec.next_state(s, step)
    problems = agreement_problems(spec, s, S("confirm", migration="m1"),
                                  Drifted(concrete_params(spec.cloud)))
    assert problems and "Z3 guard True" in problems[0]


def test_agreement_sees_a_broken_effect():
    class Drifted(SymbolicSpec):  # an audit that takes the host down
        rules = {**STEPS, "audit": dataclasses.replace(STEPS["audit"], then=STEPS["host_down"].then)}

    spec = SPECS["default"]
    s = spec.next_state(spec.initial(), make_step("boot", instance="i1", host="h1", flavor="small"))
    problems = agreement_problems(spec, s, make_step("audit", host="h1"),
                                  Drifted(concrete_params(spec.cloud)))
    assert any("not a Z3 successor" in p for p in problems)


def test_every_invariant_has_a_symbolic_twin():
    from movecheck.spec.interpret.z3 import TRANSITION
    from movecheck.spec.invariants import INVARIANTS, STATE_INVARIANTS, TRANSITION_INVARIANTS

    assert set(STATE) == set(STATE_INVARIANTS)
    assert set(TRANSITION) == set(TRANSITION_INVARIANTS)
    assert set(STATE) | set(TRANSITION) == set(INVARIANTS)


def test_encoded_initial_state_is_an_initial_state():
    spec = SPECS["default"]
    sym = SYMS["default"]
    assert to_bool(sym.initial(encode_state(spec, spec.initial())))


def test_self_check_finds_nothing():
    assert self_check(SPECS["default"], walks=5) == []


@pytest.mark.slow
def test_readings_agree_on_every_state_and_step_of_a_two_host_cloud():
    """Exhaustive: every reachable state of 2 hosts x 1 instance (1 migration) and every
    step tried there (every candidate, enabled or not, and the extra steps on used,
    terminal and unknown migration ids), with the Z3 reading run on Python values
    (no solver; every device pick tried).  The sampled test above runs real Z3 terms."""
    from movecheck.spec.engines.agreement import value_agreement_problems
    from movecheck.spec.engines.explore import explore

    spec = Spec(default_cloud(2, 1, 1))
    sym = SymbolicSpec(concrete_params(spec.cloud, python=True))
    _, graph = explore(spec, keep_graph=True)
    cases, problems = 0, []
    for s in graph["states"]:
        steps = list(spec.candidate_steps(s)) + extra_steps(spec, s)
        cases += len(steps)
        problems += value_agreement_problems(spec, s, steps, sym)
    assert (len(graph["states"]), cases) == (1068, 47552)
    assert problems == []


def test_value_agreement_sees_a_drifted_rule():
    from movecheck.spec.engines.agreement import value_agreement_problems

    spec = SPECS["default"]
    sym = MUTANTS["confirm_from_migrating"](concrete_params(spec.cloud, python=True))
    s = spec.initial()
    for step in (make_step("boot", instance="i1", host="h1", flavor="small"),
                 make_step("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
                 make_step("resize_migrate", migration="m1")):
        s = spec.next_state(s, step)
    problems = value_agreement_problems(spec, s, [make_step("confirm", migration="m1")], sym)
    assert problems and "guard True" in problems[0]
