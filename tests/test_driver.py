"""The driver's situations (conformance/driver.py): what each offers, read from the spec."""

from __future__ import annotations

import random

import pytest
import spec_tracker

from movecheck.conformance.driver import (
    SWARM_KINDS,
    _Run,
    _verdicts,
    conformance_machine,
    run_conformance,
)
from movecheck.model import reference_factory
from movecheck.spec import Spec
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.statuses import FINISHED
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import Cloud, Host, Inventory, Step

CLOUD = default_cloud()


def _machine(cloud: Cloud, steps: list[Step] = ()):
    """A driver machine on ``cloud`` with nothing switched off, after ``steps``."""
    run = _Run(cloud, reference_factory(), 10.0, None, None)
    m = conformance_machine(run)()
    m.start(cloud, (0,) * len(SWARM_KINDS))
    for s in steps:
        m.apply(s)
    return m


def test_verdicts_read_from_the_guard_are_the_specs_rejection_codes():
    spec, rng = Spec(CLOUD), random.Random(0)
    checked = 0
    for _ in range(40):
        state = spec.initial()
        for _ in range(10):
            for step, code in _verdicts(spec, state):
                r = spec.rejection(state, step)
                assert code == (None if r is None else r.code), step
                checked += 1
            successors = list(spec.successors(state))
            if not successors:
                break
            state = rng.choice(successors)[2]
    assert checked > 1000


def test_malformed_steps_cover_every_step_of_the_spec_and_the_spec_and_reference_refuse_them():
    m = _machine(CLOUD)
    malformed = m.malformed()
    assert {s.kind for s in malformed} == set(STEPS)  # a new step is picked up as it is
    assert len(malformed) == sum(len(d.params) for d in STEPS.values())
    for s in malformed:
        assert m.checker.spec.rejection(m.checker.state, s).code == "bad_parameter"
        m.apply(s)  # the reference refuses it too, and changes nothing


BOOT = Step("boot", instance="i1", host="h1", flavor="small")


def test_renamed_moves_take_a_taken_id_below_the_limit_and_a_fresh_one_at_it():
    first = Step("live_claim", migration="m1", instance="i1", dest="h2")
    m = _machine(CLOUD, [BOOT, first, Step("fail", migration="m1")])
    spec, state = m.checker.spec, m.checker.state
    assert [mig.status in FINISHED[mig.migration_type] for mig in state.migrations] == [True]
    renamed = m.renamed_moves()
    assert renamed and {s.migration for s in renamed} == {"m1"}
    assert {spec.rejection(state, s).code for s in renamed} == {"not_fresh"}
    for s in renamed:
        m.apply(s)
    m.apply(Step("live_claim", migration="m2", instance="i1", dest="h2"))
    m.apply(Step("boot", instance="i2", host="h1", flavor="small"))  # idle: only the limit stops it
    at_limit = m.renamed_moves()
    state = m.checker.state
    assert at_limit and {s.migration for s in at_limit} == {"m3"}
    codes = {spec.rejection(state, s).code for s in at_limit}
    assert "migration_limit" in codes


def test_refused_new_moves_include_the_instances_own_host_and_moves_off_a_down_host():
    m = _machine(CLOUD, [BOOT, Step("host_down", host="h1")])
    refused = {(s, code) for s, code in m.pools().refused if STEPS[s.kind].creates}
    codes = {code for _, code in refused}
    assert "same_host" in codes or "host_down" in codes
    assert any(s.kind in ("resize_claim", "live_claim") and code == "host_down"
               for s, code in refused)


def _host(name, vcpus, devices):
    inv = (("VCPU", Inventory(total=vcpus)), ("MEMORY_MB", Inventory(total=4096)),
           ("DISK_GB", Inventory(total=100)))
    return Host(name, inv, tuple(f"pci{k}" for k in range(devices)))


def test_claims_at_the_edge_are_told_apart_by_capacity_alone_and_devices_alone():
    # h1: room for one large by devices but not by VCPU once small is there; h2: no device.
    cloud = Cloud((_host("h1", 4, 2), _host("h2", 8, 0)), CLOUD.flavors, CLOUD.instances,
                  CLOUD.max_migrations)
    m = _machine(cloud)
    fits, capacity, devices = m.pools().edge()
    spec, state = m.checker.spec, m.checker.state
    for c in capacity:
        host, flavor = spec.claim_target(state, c)
        assert len(spec.free_devices(state, host)) >= spec.ndev[flavor] or not spec.fits(
            state, host, flavor)
    for c in devices:
        host, flavor = spec.claim_target(state, c)
        assert spec.fits(state, host, flavor)
        assert len(spec.free_devices(state, host)) < spec.ndev[flavor]
    assert any(c.host == "h2" for c in devices)  # large fits h2 by capacity, it has no device


def test_a_new_move_of_an_instance_whose_move_failed_is_offered():
    m = _machine(CLOUD, [BOOT, Step("live_claim", migration="m1", instance="i1", dest="h2")])
    assert [s.kind for s in m.move_again(None)] and all(
        s.migration == "m1" for s in m.move_again(None))
    m.apply(Step("live_queue", migration="m1"))
    m.apply(Step("fail", migration="m1"))  # failed (after the destination's claim)
    ended = m.checker.state.migrations[0]
    assert ended.status in FINISHED[ended.migration_type]
    again = m.move_again(None)
    assert again and {s.instance for s in again} == {"i1"}
    assert all(STEPS[s.kind].creates for s in again)


def test_shrinking_is_bounded_and_the_report_says_so():
    r = run_conformance(spec_tracker.leaky_factory, CLOUD, examples=100, steps=30, seed=1,
                        shrink_budget=0)
    assert r.discrepancy is not None
    assert r.note and "shrinking stopped after 0 examples" in r.note
    unbounded = run_conformance(spec_tracker.leaky_factory, CLOUD, examples=100, steps=30,
                                seed=1, shrink_budget=None)
    assert unbounded.note is None
    assert len(unbounded.discrepancy.trace) <= len(r.discrepancy.trace)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reference_conforms_on_generated_clouds(seed):
    r = run_conformance(reference_factory, None, seed=seed)
    assert r.ok, r.discrepancy and r.discrepancy.message
    assert r.coverage.rejected  # refused steps were sent


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_default_run_accepts_every_step(seed):
    """Every step kind is accepted at least once by a default run: at 200 examples
    seed 1 never reached revert_finish, because one swarm choice dominated."""
    r = run_conformance(reference_factory, None, seed=seed)
    assert r.ok
    never = r.coverage.to_json()["steps_never_accepted"]
    assert never == [], f"seed {seed} never accepted {never}"
