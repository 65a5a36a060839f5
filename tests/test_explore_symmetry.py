"""Symmetry reduction: the canonical form is one per orbit, orbit sizes are exact, and a
violation found on canonical states comes back as a real trace in the cloud's own names."""

import dataclasses
from itertools import permutations

import pytest

from movecheck.spec import Spec, default_cloud
from movecheck.spec.cloudfile import DEFAULT_FLAVORS
from movecheck.spec.describe import replay
from movecheck.spec.engines.explore import explore
from movecheck.spec.invariants import violations
from movecheck.spec.steps import STEPS
from movecheck.spec.symmetry import symmetry_of
from movecheck.spec.vocab import Cloud, Host, Inventory


def _reachable(spec, limit=None):
    _, graph = explore(spec, check=False, keep_graph=True, max_states=limit)
    return graph["states"]


def _group(sym, n_instances):
    for p in sym.host_perms:
        for order in permutations(range(n_instances)):
            yield p, order


@pytest.mark.parametrize("shape", [(2, 2, 1), (3, 2, 1)])
def test_every_image_has_the_same_canonical_form_and_the_orbit_size_counts_them(shape):
    spec = Spec(default_cloud(*shape))
    sym = symmetry_of(spec)
    assert sym.group_size == len(list(_group(sym, shape[1])))
    for s in _reachable(spec, limit=4000)[::7]:
        images = {sym.apply(s, p, order) for p, order in _group(sym, shape[1])}
        canon = {sym.canonical(t) for t in images}
        assert len(canon) == 1, s
        assert sym.orbit_size(s) == len(images)
        assert canon.pop() in images  # the representative is in the orbit


def _host(name, memory=2048, devices=("pci0",)):
    return Host(name, (("VCPU", Inventory(4)), ("MEMORY_MB", Inventory(memory, 512)),
                       ("DISK_GB", Inventory(40))), devices)


def test_hosts_differ_in_inventory_are_not_interchangeable():
    cloud = Cloud((_host("a"), _host("b"), _host("c", memory=4096)), DEFAULT_FLAVORS,
                  ("i1",), max_migrations=1)
    sym = symmetry_of(Spec(cloud))
    assert sym.host_classes == [[0, 1], [2]] and sym.group_size == 2
    plain, _ = explore(Spec(cloud), symmetry=False)
    reduced, _ = explore(Spec(cloud))
    assert (reduced.states, reduced.transitions) == (plain.states, plain.transitions)
    assert reduced.reduced_states < plain.states


def test_devices_are_renamed_by_position_with_their_host():
    """Devices named per host: a host permutation permutes its devices by position."""
    cloud = Cloud((_host("a", devices=("gpu-a0", "gpu-a1")),
                   _host("b", devices=("gpu-b0", "gpu-b1"))),
                  DEFAULT_FLAVORS, ("i1", "i2"), max_migrations=1)
    plain, _ = explore(Spec(cloud), symmetry=False)
    reduced, _ = explore(Spec(cloud))
    assert (reduced.states, reduced.transitions, reduced.depth) == (
        plain.states, plain.transitions, plain.depth)
    assert reduced.reduced_states * 3 < plain.states
    spec = Spec(cloud)
    sym = symmetry_of(spec)
    for s in _reachable(spec, limit=3000)[::5]:
        for p, order in _group(sym, 2):
            t = sym.apply(s, p, order)
            assert violations(spec, t) == {} and sym.canonical(t) == sym.canonical(s)


def _charges_dest_again(step):
    """An edit of the one definition of ``step``: it also charges the migration's
    destination its new flavor."""
    def then(x, s, sl, p, picks):
        new, ch = STEPS[step].then(x, s, sl, p, picks)
        return new, list(ch) + [(True, sl.mdst, sl.mnew, +1)]
    return {**STEPS, step: dataclasses.replace(STEPS[step], then=then)}


class LeakyRevert(Spec):
    """revert_finish forgets to free the destination (as bug 1607219)."""

    rules = _charges_dest_again("revert_finish")


class EvacuationDoubleCharge(Spec):
    """rebuild_claim charges the destination twice."""

    rules = _charges_dest_again("rebuild_claim")


@pytest.mark.parametrize("mutant", [LeakyRevert, EvacuationDoubleCharge])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_violation_on_canonical_states_replays_in_the_clouds_names(mutant, workers):
    spec = mutant(default_cloud(3, 2, 1))
    r, _ = explore(spec, workers=workers)
    plain, _ = explore(mutant(default_cloud(3, 2, 1)), symmetry=False)
    v = r.violations[0]
    # Shortest: as long as the plain search's trace.
    assert len(v.trace) == len(plain.violations[0].trace)
    states = replay(spec, v.trace)  # next_state raises on a step that is not enabled
    last = states[-1]
    if v.trace and v.invariant in violations(spec, last):
        assert violations(spec, last)[v.invariant] == v.messages
    else:
        from movecheck.spec.invariants import transition_violations

        step, _ = v.trace[-1]
        assert v.invariant in transition_violations(spec, states[-2], step, last)
    names = {str(x) for step, _ in v.trace for x in step[1:] if x is not None}
    assert names <= set(spec.cloud.host_names) | set(spec.cloud.instances) | \
        set(spec.cloud.flavor_names) | set(spec.cloud.migration_ids())


def _verdict(spec, inv, s):
    check = getattr(inv, "check", None)  # a rule read by the spec, in the one-definition spec
    return check(spec, s) if check is not None else spec.messages(inv.rule, s)


@pytest.mark.parametrize("shape", [(2, 2, 1), (3, 1, 1)])
def test_only_the_listed_invariants_read_up_flags(shape):
    """The explorer checks a state reached by changing only up flags against READS_UP
    alone: flipping a host's up flag changes no other one-state invariant's verdict."""
    from movecheck.spec.engines.model import READS_UP
    from movecheck.spec.invariants import INVARIANTS, STATE_INVARIANTS

    spec = Spec(default_cloud(*shape))
    others = [INVARIANTS[n] for n in STATE_INVARIANTS if n not in READS_UP]
    flips = 0
    for s in _reachable(spec, limit=6000)[::3]:
        for k in range(len(s.up)):
            t = s._replace(up=s.up[:k] + (not s.up[k],) + s.up[k + 1:])
            for inv in others:
                assert bool(_verdict(spec, inv, s)) == bool(_verdict(spec, inv, t)), (inv.name, s)
            flips += 1
    assert flips > 1000
