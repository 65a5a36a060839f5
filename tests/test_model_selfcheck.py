"""Self-check: the reference tracker agrees with the spec step by step on random walks.

Seeded random walks over the spec's candidate steps (mostly enabled ones, some
that the spec rejects, a few naming unknown hosts, instances and migrations);
after every step the outcome and every observation part must be equal.  The
tracker's device picks are checked by the spec and then followed.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from movecheck.model import ReferenceTracker
from movecheck.spec import Spec
from movecheck.spec.cloudfile import DEFAULT_FLAVORS, default_cloud, default_host
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import Cloud, Flavor, Host, Inventory, Step

BOGUS = [
    Step("boot", instance="nope", host="h1", flavor="small"),
    Step("boot", instance="i1", host="h9", flavor="small"),
    Step("boot", instance="i1", host="h1", flavor="huge"),
    Step("confirm", migration="m99"),
    Step("fail", migration="zz"),
    Step("audit", host="h9"),
    Step("live_claim", migration="m1", instance="i1", dest="nowhere"),
    Step("resize_claim", migration="m7", instance="i2", dest="h1", flavor="large"),
]

#: Relative weight of each step kind in the walk (move steps not listed: 6).
WEIGHT = {"host_down": 1, "host_up": 2, "audit": 2, "fail": 1, "delete": 1, "boot": 3,
          "resize_claim": 3, "live_claim": 3, "evacuate_start": 4}


def wide_cloud() -> Cloud:
    return Cloud(
        hosts=(default_host("h1", devices=2), default_host("h2"), default_host("h3", devices=0)),
        flavors=DEFAULT_FLAVORS,
        instances=("i1", "i2", "i3"),
        max_migrations=6,
    )


def odd_cloud() -> Cloud:
    """Fractional allocation ratios, reserved amounts, a two-device flavor, a host
    that starts down."""
    def host(name, devices, up=True):
        return Host(name, (("VCPU", Inventory(3, 0, 1.5)), ("MEMORY_MB", Inventory(2048, 256, 0.9)),
                           ("DISK_GB", Inventory(50, 5, 1.0))),
                    devices=tuple(f"{name}-dev{k}" for k in range(devices)), up=up)

    return Cloud(
        hosts=(host("a", 3), host("b", 2), host("c", 1, up=False)),
        flavors=DEFAULT_FLAVORS + (Flavor("gpu2", vcpus=1, memory_mb=256, disk_gb=5, devices=2),),
        instances=("x", "y", "z"),
        max_migrations=5,
    )


def walk(cloud: Cloud, seed: int, episodes: int, length: int, accepted: Counter | None = None) -> int:
    rng = random.Random(seed)
    spec = Spec(cloud)
    tracker = ReferenceTracker()
    steps = 0
    for _ in range(episodes):
        tracker.reset(cloud)
        state = spec.initial()
        for _ in range(length):
            candidates = list(spec.candidate_steps(state))
            enabled = [s for s in candidates if spec.why_rejected(state, s) is None]
            r = rng.random()
            if r < 0.03:
                step = rng.choice(BOGUS)
            elif r < 0.2 or not enabled:
                step = rng.choice(candidates)
            else:
                # Weighted by step kind, not uniform over steps: host and audit
                # steps would otherwise crowd out the moves' later steps.
                kinds = sorted({s.kind for s in enabled})
                kind = rng.choices(kinds, [WEIGHT.get(k, 6) for k in kinds])[0]
                step = rng.choice([s for s in enabled if s.kind == kind])
            reason = spec.why_rejected(state, step)
            out = tracker.apply(step)
            context = f"seed {seed}, step {steps}: {step}"
            assert out.accepted == (reason is None), (context, reason, out)
            if out.accepted:
                if accepted is not None:
                    accepted[step.kind] += 1
                assert spec.pick_error(state, step, out.devices) is None, (context, out)
                state = spec.next_state(state, step, out.devices)
            else:
                state = spec.after_rejection(state, step)  # a refused move's record
            got = tracker.observe()
            want = spec.observe(state)
            assert got.usage == want.usage, context
            assert got.devices == want.devices, context
            assert got.migrations == want.migrations, context
            assert got.instances == want.instances, context
            steps += 1
    tracker.close()
    return steps


@pytest.mark.parametrize("seed", range(4))
def test_default_cloud_random_walk(seed):
    assert walk(default_cloud(), seed, episodes=25, length=40) == 1000


@pytest.mark.parametrize("seed", range(3))
def test_wide_cloud_random_walk(seed):
    assert walk(wide_cloud(), 100 + seed, episodes=12, length=80) == 960


@pytest.mark.parametrize("seed", range(3))
def test_odd_cloud_random_walk(seed):
    assert walk(odd_cloud(), 200 + seed, episodes=12, length=80) == 960


def test_walks_accept_every_step_kind():
    accepted: Counter = Counter()
    walk(wide_cloud(), 7, episodes=25, length=80, accepted=accepted)
    walk(default_cloud(), 8, episodes=20, length=40, accepted=accepted)
    assert set(accepted) == set(STEPS)
