"""Exhaustive exploration: pinned state-space sizes (as TLC's and Stateright's examples do).

Each small cloud is pinned twice: the full counts (every state, every
transition) and the counts up to symmetry (one state per orbit of
interchangeable hosts and instances).  Both must hold with and without
symmetry and with one or two worker processes: the full counts of a reduced
search come from orbit sizes, so they check the symmetry code against the
plain search.
"""

import dataclasses
import json

import pytest

from movecheck.cli import main
from movecheck.spec import Spec, default_cloud
from movecheck.spec.engines.explore import explore
from movecheck.spec.engines.twophase import TwoPhase
from movecheck.spec.steps import STEPS

# (hosts, instances, max_migrations) -> (distinct states, transitions, depth,
#                                        states up to symmetry, transitions up to symmetry).
# A change here is a change of the spec's semantics: say why in the commit.
PINNED = {
    (1, 1, 1): (50, 137, 9, 50, 137),
    (2, 1, 1): (1068, 4522, 10, 535, 2266),
    (1, 2, 1): (384, 1180, 11, 196, 602),
    (3, 1, 1): (5816, 33336, 11, 1020, 5864),
    (2, 2, 1): (17844, 85776, 12, 4473, 21515),
}
SMALL = [(1, 1, 1), (2, 1, 1), (1, 2, 1), (3, 1, 1)]


@pytest.mark.parametrize("shape", sorted(PINNED))
@pytest.mark.parametrize("symmetry", [True, False], ids=["symmetry", "no-symmetry"])
def test_pinned_state_space(shape, symmetry):
    r, _ = explore(Spec(default_cloud(*shape)), symmetry=symmetry)
    states, transitions, depth, reduced, reduced_tr = PINNED[shape]
    assert (r.states, r.transitions, r.depth) == (states, transitions, depth)
    if symmetry:
        assert (r.reduced_states, r.reduced_transitions) == (reduced, reduced_tr)
    else:
        assert (r.reduced_states, r.reduced_transitions) == (states, transitions)
    assert r.violations == [] and r.complete and r.stopped == "complete"


@pytest.mark.parametrize("shape", SMALL + [(2, 2, 1)])
@pytest.mark.parametrize("symmetry", [True, False], ids=["symmetry", "no-symmetry"])
def test_two_workers_count_what_one_counts(shape, symmetry):
    r, _ = explore(Spec(default_cloud(*shape)), symmetry=symmetry, workers=2)
    states, transitions, depth, reduced, reduced_tr = PINNED[shape]
    assert (r.states, r.transitions, r.depth) == (states, transitions, depth)
    assert r.reduced_states == (reduced if symmetry else states)
    assert r.workers == 2 and r.complete and r.violations == []


@pytest.mark.parametrize("shape", SMALL)
def test_full_states_count_what_fingerprints_count(shape):
    r, _ = explore(Spec(default_cloud(*shape)), full_states=True)
    assert (r.states, r.transitions, r.depth) == PINNED[shape][:3]
    assert r.full_states_kept and r.collision_probability is None


@pytest.mark.slow
def test_pinned_default_cloud():
    """The default cloud (2 hosts x 2 instances x 2 migrations) with both cores."""
    r, _ = explore(Spec(default_cloud(2, 2, 2)), workers=2)
    assert (r.states, r.transitions, r.depth) == (756100, 3813684, 18)
    assert r.reduced_states == 189037 and r.complete and not r.violations


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("symmetry", [True, False], ids=["symmetry", "no-symmetry"])
def test_two_phase_commit_has_288_states(workers, symmetry):
    """The yardstick model: 288 states for 3 resource managers, as TLC and Stateright."""
    r, _ = explore(TwoPhase(3, symmetry=symmetry), workers=workers)
    assert (r.states, r.transitions, r.depth) == (288, 761, 10)
    assert r.reduced_states == (80 if symmetry else 288)
    assert not r.violations


def test_collision_probability_is_tlcs_optimistic_estimate():
    r, _ = explore(Spec(default_cloud(2, 1, 1)))
    assert r.generated == r.reduced_transitions + 1
    assert r.collision_probability == pytest.approx(
        r.reduced_states * (r.generated - r.reduced_states) / 2**64)


def test_explore_command_report(tmp_path):
    out = tmp_path / "r.json"
    assert main(["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1",
                 "--workers", "1", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["command"] == "explore" and r["ok"] is True
    assert (r["states"], r["transitions"], r["depth"], r["violations"]) == (1068, 4522, 10, 0)
    assert (r["reduced_states"], r["group_size"], r["workers"]) == (535, 2, 1)
    assert r["complete"] is True and 0 < r["collision_probability"] < 1e-9
    assert {"seconds", "movecheck_version"} <= set(r)


def test_state_limit_is_reported_incomplete(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["explore", "--max-states", "100", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["complete"] is False and r["stopped"] == "max-states"
    assert r["reduced_states"] >= 100
    text = capsys.readouterr().out
    assert "every reachable state" not in text and "every invariant" not in text
    assert f"NOT EXHAUSTIVE: stopped at --max-states: {r['states']:,} states " \
           f"({r['reduced_states']:,} stored), depth {r['depth']}; not exhaustive" in text
    assert r["stopped_at"].endswith("not exhaustive")


def test_explore_finds_a_planted_violation_with_shortest_trace():
    """A spec whose confirm forgets to free the source: BFS gives the shortest trace."""

    def leaky_confirm(x, s, sl, p, picks):  # an edit of the one definition of confirm_finish
        new, freed = STEPS["confirm_finish"].then(x, s, sl, p, picks)
        return new, list(freed) + [(True, sl.msrc, sl.mold, +1)]

    rules = {**STEPS, "confirm_finish": dataclasses.replace(STEPS["confirm_finish"], then=leaky_confirm)}
    spec = Spec(default_cloud(2, 1, 1), rules=rules)
    r, _ = explore(spec)
    assert r.violations and r.stopped == "violation"
    v = r.violations[0]
    assert v.invariant in ("conservation", "exactly_once", "no_ghosts", "confirm_frees_source")
    assert [s.kind for s, _ in v.trace] == [
        "boot", "resize_claim", "resize_migrate", "resize_migrated", "finish_resize", "confirm",
        "confirm_finish"]
