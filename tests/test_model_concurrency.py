"""Concurrency: moves on several hosts from several threads at once, with a periodic
audit thread; afterwards every host's usage equals the audit's recomputation, and the
order in which the steps took effect replays on the spec with the same outcomes."""

from __future__ import annotations

import random
import sys
import threading
import time

from movecheck.model import ReferenceTracker
from movecheck.model.compute import NovaCloud, Rejected
from movecheck.spec import Spec
from movecheck.spec.cloudfile import DEFAULT_FLAVORS
from movecheck.spec.vocab import Cloud, Host, Inventory, Step

HOSTS = ("h1", "h2", "h3", "h4")
INSTANCES = ("i1", "i2", "i3", "i4", "i5", "i6")


class LoggingCloud(NovaCloud):
    """Records the order in which steps take effect (inside the step's transaction)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.log: list[tuple[Step, tuple[str, ...] | None]] = []

    def perform(self, step):
        with self.store.transaction():
            try:
                picks = super().perform(step)
            except Rejected:
                self.log.append((step, None))
                raise
            self.log.append((step, picks))
            return picks


class LoggingTracker(ReferenceTracker):
    cloud_class = LoggingCloud


def big_host(name: str) -> Host:
    """Room for every instance at once: the threads race, they do not fill the hosts."""
    return Host(name, (("VCPU", Inventory(16)), ("MEMORY_MB", Inventory(8192, 512)),
                       ("DISK_GB", Inventory(200))), devices=("pci0", "pci1", "pci2", "pci3"))


def mover(t: ReferenceTracker, iid: str, ids: list[str], seed: int, errors: list,
          start: threading.Barrier) -> None:
    rng = random.Random(seed)
    try:
        start.wait()
        home = HOSTS[seed % len(HOSTS)]
        t.apply(Step("boot", instance=iid, host=home, flavor=rng.choice(("small", "large"))))
        for mid in ids:
            dest = rng.choice(HOSTS)
            if rng.random() < 0.6:
                claim = Step("resize_claim", migration=mid, instance=iid, dest=dest,
                             flavor=rng.choice(("small", "large")))
                rest = ["resize_migrate", "resize_migrated", "finish_resize",
                        *rng.choice((("confirm", "confirm_finish"), ("revert", "revert_finish")))]
            else:
                claim = Step("live_claim", migration=mid, instance=iid, dest=dest)
                rest = ["live_queue", "live_prepare", "live_run",
                        rng.choice(("live_complete", "live_abort"))]
            if not t.apply(claim).accepted:
                continue
            for kind in rest:
                if rng.random() < 0.03:
                    kind = "fail"
                time.sleep(0)  # let another thread's step in between this move's steps
                assert t.apply(Step(kind, migration=mid)).accepted, (iid, mid, kind)
                if kind == "fail":
                    break
    except BaseException as e:  # reported by the main thread
        errors.append(e)


def auditor(t: ReferenceTracker, stop: threading.Event, errors: list) -> None:
    try:
        while not stop.is_set():
            for h in HOSTS:
                assert t.apply(Step("audit", host=h)).accepted
            time.sleep(0.0005)
    except BaseException as e:
        errors.append(e)


def _owner(step: Step) -> str:
    return step.instance or step.migration[-2:]


def test_threads_moving_and_auditing():
    cloud = Cloud(hosts=tuple(big_host(h) for h in HOSTS), flavors=DEFAULT_FLAVORS,
                  instances=INSTANCES, max_migrations=6 * 12)
    t = LoggingTracker()
    t.reset(cloud)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, inside steps too
    errors: list = []
    stop = threading.Event()
    start = threading.Barrier(len(INSTANCES))
    try:
        movers = [threading.Thread(target=mover, args=(
            t, iid, [f"m{k}{iid}" for k in range(12)], k, errors, start))
            for k, iid in enumerate(INSTANCES)]
        audits = [threading.Thread(target=auditor, args=(t, stop, errors)) for _ in range(2)]
        for th in movers + audits:
            th.start()
        for th in movers:
            th.join(timeout=120)
        stop.set()
        for th in audits:
            th.join(timeout=120)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[0]

    before = t.observe()
    for h in HOSTS:
        assert t.apply(Step("audit", host=h)).accepted
    after = t.observe()
    assert before == after  # usage == the audit's recomputation, on every host

    moves = [s for s, p in t.nova.log if p is not None and s.kind in ("resize_claim", "live_claim")]
    assert len(moves) >= 30  # the threads really moved instances
    switches = sum(1 for (a, _), (b, _) in zip(t.nova.log, t.nova.log[1:], strict=False)
                   if "audit" not in (a.kind, b.kind) and _owner(a) != _owner(b))
    assert switches >= 50  # ... at the same time: their steps interleave
    # Replay the order the steps took effect on the spec: same outcomes, same end state.
    spec = Spec(cloud)
    state = spec.initial()
    for step, picks in t.nova.log:
        assert (spec.why_rejected(state, step) is None) == (picks is not None), step
        if picks is not None:
            state = spec.next_state(state, step, picks)
    assert spec.observe(state) == after
