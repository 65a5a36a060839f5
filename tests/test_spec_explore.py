"""Exhaustive exploration: pinned state-space sizes (as TLC's and Stateright's examples do)."""

import dataclasses
import json

import pytest

from movecheck.cli import main
from movecheck.spec import Spec, default_cloud
from movecheck.spec.engines.explore import explore
from movecheck.spec.steps import STEPS

# (hosts, instances, max_migrations) -> (distinct states, transitions, depth).
# A change here is a change of the spec's semantics: say why in the commit.
PINNED = {
    (1, 1, 1): (66, 189, 9),
    (2, 1, 1): (988, 4292, 10),
    (1, 2, 1): (496, 1518, 11),
    (3, 1, 1): (5144, 30036, 11),
}


@pytest.mark.parametrize("shape", sorted(PINNED))
def test_pinned_state_space(shape):
    r, _ = explore(Spec(default_cloud(*shape)))
    assert (r.states, r.transitions, r.depth) == PINNED[shape]
    assert r.violations == [] and r.complete


def test_explore_command_report(tmp_path):
    out = tmp_path / "r.json"
    assert main(["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1",
                 "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["command"] == "explore" and r["ok"] is True
    assert (r["states"], r["transitions"], r["depth"], r["violations"]) == (988, 4292, 10, 0)
    assert {"seconds", "movecheck_version"} <= set(r)


def test_state_limit_is_reported_incomplete(tmp_path):
    out = tmp_path / "r.json"
    assert main(["explore", "--max-states", "100", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["complete"] is False and r["states"] >= 100


def test_explore_finds_a_planted_violation_with_shortest_trace():
    """A spec whose confirm forgets to free the source: BFS gives the shortest trace."""

    def leaky_confirm(x, s, sl, p, picks):  # an edit of the one definition of confirm_finish
        new, freed = STEPS["confirm_finish"].then(x, s, sl, p, picks)
        return new, list(freed) + [(True, sl.msrc, sl.mold, +1)]

    rules = {**STEPS, "confirm_finish": dataclasses.replace(STEPS["confirm_finish"], then=leaky_confirm)}
    spec = Spec(default_cloud(2, 1, 1), rules=rules)
    r, _ = explore(spec)
    assert r.violations
    v = r.violations[0]
    assert v.invariant in ("conservation", "exactly_once", "no_ghosts", "confirm_frees_source")
    assert [s.kind for s, _ in v.trace] == [
        "boot", "resize_claim", "resize_migrate", "resize_migrated", "finish_resize", "confirm",
        "confirm_finish"]
