"""The concrete interpretation of the spec: plain Python, fast enough to be the
oracle of every conformance step and of exhaustive search (docs/proofs.md).

A :class:`Spec` is bound to one :class:`~movecheck.spec.vocab.Cloud`.  States are
:class:`State` tuples: per host an up flag and a usage vector (the tracker's
counters, updated step by step as Nova's ResourceTracker does), per instance
slot an :class:`Instance` record or None (never booted), and the migration
records in creation order.

The accounting rule the whole spec rests on is :meth:`Spec.holds`: what each
host must be charged, recomputed from the records (Nova's
``update_available_resource``, ``nova/compute/resource_tracker.py``):

- an instance that exists charges its host its flavor; while a resize has
  landed but is not finished (post-migrating) the new flavor is charged: the
  Placement-level figure (the instance consumer holds it on the dest since
  scheduling).  Nova's ComputeNode counters charge the old one there after an
  audit; bug 1953359's fix applies the MigrationContext for NUMA and PCI only
  (docs/spec.md, "Two levels of usage");
- an in-progress migration that has not landed charges the destination the
  new flavor (the move claim); one that has landed charges the source the old
  flavor (held for a revert; for an evacuation, held because the source is
  down); an accepted evacuation charges nothing yet.

Same-host resize follows from the same rule: the node holds old + new.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from itertools import combinations
from typing import NamedTuple

from movecheck.spec.allocations import expected_allocations
from movecheck.spec.statuses import (
    DEST_CLAIMED,
    FAILURE_STATUS,
    LANDED,
    STATUS_MACHINES,
    TERMINAL,
)
from movecheck.spec.steps import CREATING_STEPS, STEPS
from movecheck.spec.vocab import (
    EVACUATION,
    LIVE_MIGRATION,
    MIGRATION,
    RESIZE,
    RESOURCE_CLASSES,
    VM_ACTIVE,
    VM_DELETED,
    VM_RESIZED,
    Cloud,
    Instance,
    Migration,
    MigrationContext,
    Observation,
    Step,
)

Vector = tuple[int, ...]
ZERO: Vector = (0,) * len(RESOURCE_CLASSES)


class Rejection(NamedTuple):
    """Why the spec rejects a step, as data: a stable ``code`` a program can
    branch on and a ``message`` for people.

    Codes: ``unknown_step``, ``bad_parameter``, ``unknown_host``,
    ``unknown_flavor``, ``unknown_instance``, ``unknown_migration``,
    ``no_instance`` (never booted or deleted), ``already_booted``,
    ``in_progress`` (the instance already has a move), ``not_active``,
    ``same_host``, ``source_up`` (evacuating from a host that is up),
    ``not_fresh`` (the migration id exists), ``migration_limit``,
    ``wrong_type``, ``wrong_status``, ``host_down``, ``already_down``,
    ``already_up``, ``does_not_fit`` (capacity) and ``no_free_devices``.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


class State(NamedTuple):
    """One state of the cloud; hashable and compact (the explorer stores millions)."""

    up: tuple[bool, ...]  # per host, in cloud order
    usage: tuple[Vector, ...]  # per host: one int per resource class
    instances: tuple[Instance | None, ...]  # per instance slot; None = never booted
    migrations: tuple[Migration, ...]  # in creation order


# Three resource classes, spelled out: these run for every successor.
assert len(RESOURCE_CLASSES) == 3


def _add(a: Vector, b: Vector) -> Vector:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _sub(a: Vector, b: Vector) -> Vector:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


class Spec:
    """The spec for one cloud: guards, effects, holds, invariants."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.host_index = {h.name: k for k, h in enumerate(cloud.hosts)}
        self.slot = {i: k for k, i in enumerate(cloud.instances)}
        self.flavors = {f.name: f for f in cloud.flavors}
        self.vec = {f.name: f.vector() for f in cloud.flavors}
        self.ndev = {f.name: f.devices for f in cloud.flavors}
        self.capacity: tuple[tuple[Fraction, ...], ...] = tuple(
            tuple(h.capacity(rc) for rc in RESOURCE_CLASSES) for h in cloud.hosts
        )
        # Usage is integral, so usage <= capacity iff usage <= floor(capacity):
        # the hot path compares ints, not Fractions.
        self.int_capacity: tuple[tuple[int, ...], ...] = tuple(
            tuple(math.floor(c) for c in caps) for caps in self.capacity
        )
        self._holds_cache: tuple[State | None, tuple[Vector, ...]] = (None, ())
        # Bound methods looked up once: the effect of each step.
        self._effect = {kind: getattr(self, "_do_" + kind) for kind in STEPS}
        self.devices = {h.name: h.devices for h in cloud.hosts}
        self.migration_ids = cloud.migration_ids()

    # ------------------------------------------------------------------ basics

    def initial(self) -> State:
        """The initial state: no instances, no migrations, hosts as configured."""
        return State(
            up=tuple(h.up for h in self.cloud.hosts),
            usage=tuple(ZERO for _ in self.cloud.hosts),
            instances=tuple(None for _ in self.cloud.instances),
            migrations=(),
        )

    def instance(self, state: State, iid: str | None) -> Instance | None:
        k = self.slot.get(iid) if iid is not None else None
        return None if k is None else state.instances[k]

    def migration(self, state: State, mid: str | None) -> Migration | None:
        for m in state.migrations:
            if m.id == mid:
                return m
        return None

    def in_progress_of(self, state: State, iid: str) -> Migration | None:
        """The instance's in-progress migration (the spec keeps at most one)."""
        for m in state.migrations:
            if m.instance == iid and m.status not in TERMINAL[m.migration_type]:
                return m
        return None

    def is_up(self, state: State, host: str) -> bool:
        return state.up[self.host_index[host]]

    # ------------------------------------------------------------------ holds

    def migration_hold(self, m: Migration) -> tuple[str, str] | None:
        """(host, flavor) the migration itself holds, apart from the instance, or None."""
        if m.status in TERMINAL[m.migration_type]:
            return None
        if m.status in LANDED[m.migration_type]:
            return (m.source, m.old_flavor)
        if m.status in DEST_CLAIMED[m.migration_type]:
            return (m.dest, m.new_flavor)
        return None

    def charged_flavor(self, state: State, inst: Instance) -> str | None:
        """The flavor an instance charges its own host (None once deleted)."""
        if inst.vm_state == VM_DELETED:
            return None
        mc = inst.migration_context
        if mc is not None and inst.new_flavor is not None:
            m = self.migration(state, mc.migration_id)
            if m is not None and m.status == "post-migrating":
                return inst.new_flavor  # Placement's figure; ComputeNode's is the old one
        return inst.flavor

    def holds(self, state: State) -> tuple[Vector, ...]:
        """The reconciliation equation: per host, the usage recomputed from the records."""
        cached_state, cached = self._holds_cache
        if cached_state is state:  # several invariants ask for the same state in a row
            return cached
        result = self._holds(state)
        self._holds_cache = (state, result)
        return result

    def _holds(self, state: State) -> tuple[Vector, ...]:
        usage = [ZERO] * len(self.cloud.hosts)
        for inst in state.instances:
            if inst is None:
                continue
            f = self.charged_flavor(state, inst)
            if f is not None:
                k = self.host_index[inst.host]
                usage[k] = _add(usage[k], self.vec[f])
        for m in state.migrations:
            hold = self.migration_hold(m)
            if hold is not None:
                k = self.host_index[hold[0]]
                usage[k] = _add(usage[k], self.vec[hold[1]])
        return tuple(usage)

    def device_holds(self, state: State) -> list[tuple[str, str, str]]:
        """Every (host, device, holder instance) the records say is held, with repeats."""
        out = []
        for inst in state.instances:
            if inst is not None and inst.vm_state != VM_DELETED:
                out.extend((inst.host, d, inst.id) for d in inst.devices)
        for m in state.migrations:
            hold = self.migration_hold(m)
            if hold is None:
                continue
            inst = self.instance(state, m.instance)
            mc = inst.migration_context if inst is not None else None
            if mc is None or mc.migration_id != m.id:
                continue
            devs = mc.old_devices if m.status in LANDED[m.migration_type] else mc.new_devices
            out.extend((hold[0], d, m.instance) for d in devs)
        return out

    def free_devices(self, state: State, host: str) -> tuple[str, ...]:
        held = {d for h, d, _ in self.device_holds(state) if h == host}
        return tuple(d for d in self.devices[host] if d not in held)

    def fits(self, state: State, host: str, flavor: str) -> bool:
        """The claim test (``Claim._test``/Placement ``_check_capacity_exceeded``)."""
        k = self.host_index[host]
        cap = self.int_capacity[k]
        return all(
            u + n <= c for u, n, c in zip(state.usage[k], self.vec[flavor], cap, strict=True)
        )

    # ------------------------------------------------------------------ guards

    def rejection(self, state: State, step: Step) -> Rejection | None:
        """None if ``step`` is enabled in ``state``, else why it is rejected, as data."""
        sd = STEPS.get(step.kind)
        if sd is None:
            return Rejection("unknown_step", f"unknown step {step.kind!r}")
        for p in sd.params:
            value = getattr(step, p)
            if value is None:
                return Rejection("bad_parameter", f"missing parameter {p}")
            if not isinstance(value, str):
                return Rejection("bad_parameter", f"parameter {p} must be a name, not {value!r}")
        if step.host is not None and step.host not in self.host_index:
            return Rejection("unknown_host", f"unknown host {step.host}")
        if step.dest is not None and step.dest not in self.host_index:
            return Rejection("unknown_host", f"unknown host {step.dest}")
        if step.flavor is not None and step.flavor not in self.flavors:
            return Rejection("unknown_flavor", f"unknown flavor {step.flavor}")
        if step.instance is not None and step.instance not in self.slot:
            return Rejection("unknown_instance", f"unknown instance {step.instance}")
        return getattr(self, "_guard_" + step.kind)(state, step)

    def why_rejected(self, state: State, step: Step) -> str | None:
        """None if ``step`` is enabled in ``state``, else the reason it is rejected (text)."""
        r = self.rejection(state, step)
        return None if r is None else r.message

    def enabled(self, state: State, step: Step) -> bool:
        return self.why_rejected(state, step) is None

    def _fresh(self, state: State, mid: str) -> Rejection | None:
        if any(m.id == mid for m in state.migrations):
            return Rejection("not_fresh", f"migration {mid} already exists")
        if len(state.migrations) >= self.cloud.max_migrations:
            return Rejection("migration_limit",
                             f"the cloud allows at most {self.cloud.max_migrations} migrations")
        return None

    def _movable(self, state: State, step: Step, need_host_up: bool = True) -> Rejection | None:
        inst = self.instance(state, step.instance)
        if inst is None or inst.vm_state == VM_DELETED:
            return Rejection("no_instance", f"instance {step.instance} does not exist")
        if self.in_progress_of(state, inst.id) is not None:
            return Rejection("in_progress", f"instance {inst.id} already has an in-progress migration")
        if need_host_up and not self.is_up(state, inst.host):
            return Rejection("host_down", f"host {inst.host} is down")
        if not self.is_up(state, step.dest):
            return Rejection("host_down", f"host {step.dest} is down")
        return self._fresh(state, step.migration)

    def _claim_check(self, state: State, host: str, flavor: str) -> Rejection | None:
        if not self.fits(state, host, flavor):
            return Rejection("does_not_fit", f"flavor {flavor} does not fit on {host}")
        if len(self.free_devices(state, host)) < self.ndev[flavor]:
            return Rejection("no_free_devices", f"not enough free devices on {host} for flavor {flavor}")
        return None

    def _guard_boot(self, state: State, step: Step) -> Rejection | None:
        if self.instance(state, step.instance) is not None:
            return Rejection("already_booted", f"instance {step.instance} was already booted")
        if not self.is_up(state, step.host):
            return Rejection("host_down", f"host {step.host} is down")
        return self._claim_check(state, step.host, step.flavor)

    def _guard_delete(self, state: State, step: Step) -> Rejection | None:
        inst = self.instance(state, step.instance)
        if inst is None or inst.vm_state == VM_DELETED:
            return Rejection("no_instance", f"instance {step.instance} does not exist")
        return None

    def _guard_resize_claim(self, state: State, step: Step) -> Rejection | None:
        r = self._movable(state, step)
        if r:
            return r
        inst = self.instance(state, step.instance)
        if inst.vm_state != VM_ACTIVE:
            return Rejection("not_active", f"instance {inst.id} is {inst.vm_state}, not active")
        if step.dest == inst.host and step.flavor == inst.flavor:
            return Rejection("same_host", "a cold migration must change host")
        return self._claim_check(state, step.dest, step.flavor)

    def _guard_live_claim(self, state: State, step: Step) -> Rejection | None:
        r = self._movable(state, step)
        if r:
            return r
        inst = self.instance(state, step.instance)
        if inst.vm_state != VM_ACTIVE:
            return Rejection("not_active", f"instance {inst.id} is {inst.vm_state}, not active")
        if step.dest == inst.host:
            return Rejection("same_host", "a live migration must change host")
        return self._claim_check(state, step.dest, inst.flavor)

    def _guard_evacuate_start(self, state: State, step: Step) -> Rejection | None:
        r = self._movable(state, step, need_host_up=False)
        if r:
            return r
        inst = self.instance(state, step.instance)
        if self.is_up(state, inst.host):
            return Rejection("source_up", f"cannot evacuate from {inst.host}: the host is up")
        if step.dest == inst.host:
            return Rejection("same_host", "an evacuation must change host")
        return None

    def _status_guard(self, state: State, step: Step, mtypes: tuple[str, ...],
                      statuses: tuple[str, ...], up: tuple[str, ...]) -> Rejection | None:
        m = self.migration(state, step.migration)
        if m is None:
            return Rejection("unknown_migration", f"unknown migration {step.migration}")
        if m.migration_type not in mtypes:
            return Rejection("wrong_type", f"migration {m.id} is a {m.migration_type}")
        if m.status not in statuses:
            return Rejection("wrong_status", f"migration {m.id} is {m.status}, not {' or '.join(statuses)}")
        for side in up:
            host = getattr(m, side)
            if not self.is_up(state, host):
                return Rejection("host_down", f"host {host} is down")
        return None

    def _guard_resize_migrate(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("pre-migrating",), ("source",))

    def _guard_resize_migrated(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("migrating",), ("source",))

    def _guard_finish_resize(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("post-migrating",), ("dest",))

    def _guard_confirm(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("finished",), ())

    def _guard_confirm_finish(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("confirming",), ("source",))

    def _guard_revert(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("finished",), ())

    def _guard_revert_finish(self, s, st):
        return self._status_guard(s, st, (RESIZE, MIGRATION), ("reverting",), ("dest", "source"))

    def _guard_live_queue(self, s, st):
        return self._status_guard(s, st, (LIVE_MIGRATION,), ("accepted",), ("source",))

    def _guard_live_prepare(self, s, st):
        return self._status_guard(s, st, (LIVE_MIGRATION,), ("queued",), ("source", "dest"))

    def _guard_live_run(self, s, st):
        return self._status_guard(s, st, (LIVE_MIGRATION,), ("preparing",), ("source",))

    def _guard_live_complete(self, s, st):
        return self._status_guard(s, st, (LIVE_MIGRATION,), ("running",), ("source", "dest"))

    def _guard_live_abort(self, s, st):
        return self._status_guard(
            s, st, (LIVE_MIGRATION,), ("queued", "preparing", "running"), ("source", "dest")
        )

    def _guard_rebuild_claim(self, s, st):
        r = self._status_guard(s, st, (EVACUATION,), ("accepted",), ("dest",))
        if r:
            return r
        m = self.migration(s, st.migration)
        return self._claim_check(s, m.dest, m.new_flavor)

    def _guard_finish_evacuation(self, s, st):
        return self._status_guard(s, st, (EVACUATION,), ("pre-migrating",), ("dest",))

    def _guard_fail(self, state: State, step: Step) -> Rejection | None:
        m = self.migration(state, step.migration)
        if m is None:
            return Rejection("unknown_migration", f"unknown migration {step.migration}")
        if m.status in TERMINAL[m.migration_type]:
            return Rejection("wrong_status", f"migration {m.id} is {m.status} (terminal)")
        return None

    def _guard_host_down(self, state: State, step: Step) -> Rejection | None:
        if self.is_up(state, step.host):
            return None
        return Rejection("already_down", f"host {step.host} is already down")

    def _guard_host_up(self, state: State, step: Step) -> Rejection | None:
        if self.is_up(state, step.host):
            return Rejection("already_up", f"host {step.host} is already up")
        return None

    def _guard_audit(self, state: State, step: Step) -> Rejection | None:
        return None if self.is_up(state, step.host) else Rejection("host_down", f"host {step.host} is down")

    # ------------------------------------------------------------------ picks

    def claim_target(self, state: State, step: Step) -> tuple[str, str] | None:
        """(host, flavor) a claiming step claims on, or None for other steps."""
        if step.kind == "boot":
            return (step.host, step.flavor)
        if step.kind == "resize_claim":
            return (step.dest, step.flavor)
        if step.kind == "live_claim":
            return (step.dest, self.instance(state, step.instance).flavor)
        if step.kind == "rebuild_claim":
            m = self.migration(state, step.migration)
            return (m.dest, m.new_flavor)
        return None

    def legal_picks(self, state: State, step: Step) -> list[tuple[str, ...]]:
        """Every legal device pick of an enabled step ([()] when it picks none)."""
        target = self.claim_target(state, step)
        if target is None:
            return [()]
        host, flavor = target
        return list(combinations(self.free_devices(state, host), self.ndev[flavor]))

    def pick_error(self, state: State, step: Step, picks: tuple[str, ...]) -> str | None:
        """None if ``picks`` is a legal device pick for the enabled ``step``."""
        target = self.claim_target(state, step)
        if target is None:
            return None if not picks else f"{step.kind} picks no devices, got {list(picks)}"
        host, flavor = target
        need = self.ndev[flavor]
        if len(picks) != need or len(set(picks)) != need:
            return f"{step.kind} must pick {need} distinct devices on {host}, got {list(picks)}"
        free = set(self.free_devices(state, host))
        bad = [d for d in picks if d not in free]
        if bad:
            return f"device {bad[0]} is not a free device of {host}"
        return None

    # ------------------------------------------------------------------ effects

    def next_state(self, state: State, step: Step, picks: tuple[str, ...] | None = None) -> State:
        """The successor of ``state`` under the enabled ``step``.

        ``picks`` are the devices a claim picked; None means the first legal
        pick (lowest names).  Raises ValueError on a disabled step or an
        illegal pick: callers check :meth:`why_rejected` and :meth:`pick_error`.
        """
        reason = self.why_rejected(state, step)
        if reason is not None:
            raise ValueError(f"{step} is not enabled: {reason}")
        if picks is None:
            picks = self.legal_picks(state, step)[0]
        else:
            picks = tuple(sorted(picks))
            err = self.pick_error(state, step, picks)
            if err:
                raise ValueError(err)
        return self._effect[step.kind](state, step, picks)

    # state surgery helpers
    def _charge(self, state: State, host: str, flavor: str, sign: int) -> State:
        k = self.host_index[host]
        v = self.vec[flavor]
        usage = list(state.usage)
        usage[k] = _add(usage[k], v) if sign > 0 else _sub(usage[k], v)
        return state._replace(usage=tuple(usage))

    def _set_instance(self, state: State, inst: Instance) -> State:
        instances = list(state.instances)
        instances[self.slot[inst.id]] = inst
        return state._replace(instances=tuple(instances))

    def _set_migration(self, state: State, m: Migration) -> State:
        return state._replace(
            migrations=tuple(m if x.id == m.id else x for x in state.migrations)
        )

    def _set_status(self, state: State, step: Step, status: str) -> State:
        m = self.migration(state, step.migration)
        return self._set_migration(state, m._replace(status=status))

    def _release_migration_hold(self, state: State, m: Migration) -> State:
        hold = self.migration_hold(m)
        return state if hold is None else self._charge(state, hold[0], hold[1], -1)

    def _do_boot(self, state: State, step: Step, picks) -> State:
        state = self._charge(state, step.host, step.flavor, +1)
        return self._set_instance(
            state, Instance(step.instance, VM_ACTIVE, step.host, step.flavor, devices=picks)
        )

    def _do_delete(self, state: State, step: Step, picks) -> State:
        m = self.in_progress_of(state, step.instance)
        if m is not None:
            state = self._fail(state, m)
        inst = self.instance(state, step.instance)
        state = self._charge(state, inst.host, inst.flavor, -1)
        return self._set_instance(
            state,
            inst._replace(vm_state=VM_DELETED, devices=(), old_flavor=None, new_flavor=None,
                          migration_context=None),
        )

    def _fail(self, state: State, m: Migration) -> State:
        """Roll the move back to where the instance is now; release the other side."""
        state = self._release_migration_hold(state, m)
        inst = self.instance(state, m.instance)
        landed = m.status in LANDED[m.migration_type]
        inst = inst._replace(
            vm_state=VM_ACTIVE,
            flavor=m.new_flavor if landed else inst.flavor,
            old_flavor=None,
            new_flavor=None,
            migration_context=None,
        )
        state = self._set_instance(state, inst)
        return self._set_migration(state, m._replace(status=FAILURE_STATUS[m.migration_type]))

    def _do_fail(self, state: State, step: Step, picks) -> State:
        return self._fail(state, self.migration(state, step.migration))

    def _create(self, state: State, step: Step, mtype: str, old: str, new: str,
                status: str) -> State:
        inst = self.instance(state, step.instance)
        m = Migration(step.migration, inst.id, mtype, inst.host, step.dest, old, new, status)
        return state._replace(migrations=state.migrations + (m,))

    def _claim_move(self, state: State, m: Migration, picks) -> State:
        """A MoveClaim: dest holds the new flavor; the MigrationContext records devices."""
        state = self._charge(state, m.dest, m.new_flavor, +1)
        inst = self.instance(state, m.instance)
        mc = MigrationContext(m.id, inst.devices, picks)
        return self._set_instance(state, inst._replace(migration_context=mc))

    def _do_resize_claim(self, state: State, step: Step, picks) -> State:
        inst = self.instance(state, step.instance)
        mtype = RESIZE if step.flavor != inst.flavor else MIGRATION
        state = self._create(state, step, mtype, inst.flavor, step.flavor, "pre-migrating")
        state = self._set_instance(
            state, inst._replace(old_flavor=inst.flavor, new_flavor=step.flavor)
        )
        return self._claim_move(state, self.migration(state, step.migration), picks)

    def _do_resize_migrate(self, state, step, picks):
        return self._set_status(state, step, "migrating")

    def _land(self, state: State, m: Migration) -> State:
        inst = self.instance(state, m.instance)
        return self._set_instance(
            state, inst._replace(host=m.dest, devices=inst.migration_context.new_devices)
        )

    def _do_resize_migrated(self, state, step, picks):
        state = self._set_status(state, step, "post-migrating")
        return self._land(state, self.migration(state, step.migration))

    def _do_finish_resize(self, state, step, picks):
        state = self._set_status(state, step, "finished")
        m = self.migration(state, step.migration)
        inst = self.instance(state, m.instance)
        return self._set_instance(state, inst._replace(flavor=m.new_flavor, vm_state=VM_RESIZED))

    def _do_confirm(self, state, step, picks):
        return self._set_status(state, step, "confirming")

    def _end_move(self, state: State, m: Migration, status: str, **inst_fields) -> State:
        """Release the migration's own hold, drop the context, set the final status."""
        state = self._release_migration_hold(state, m)
        inst = self.instance(state, m.instance)
        state = self._set_instance(
            state,
            inst._replace(old_flavor=None, new_flavor=None, migration_context=None,
                          vm_state=VM_ACTIVE, **inst_fields),
        )
        return self._set_migration(state, m._replace(status=status))

    def _do_confirm_finish(self, state, step, picks):
        return self._end_move(state, self.migration(state, step.migration), "confirmed")

    def _do_revert(self, state, step, picks):
        return self._set_status(state, step, "reverting")

    def _do_revert_finish(self, state, step, picks):
        m = self.migration(state, step.migration)
        inst = self.instance(state, m.instance)
        # Dest frees the new flavor the instance held there; the source's hold
        # for the migration becomes the instance's own (no usage change there).
        state = self._charge(state, m.dest, m.new_flavor, -1)
        state = self._set_instance(
            state,
            inst._replace(host=m.source, flavor=m.old_flavor, old_flavor=None, new_flavor=None,
                          devices=inst.migration_context.old_devices, migration_context=None,
                          vm_state=VM_ACTIVE),
        )
        return self._set_migration(state, m._replace(status="reverted"))

    def _do_live_claim(self, state, step, picks):
        inst = self.instance(state, step.instance)
        state = self._create(state, step, LIVE_MIGRATION, inst.flavor, inst.flavor, "accepted")
        return self._claim_move(state, self.migration(state, step.migration), picks)

    def _do_live_queue(self, state, step, picks):
        return self._set_status(state, step, "queued")

    def _do_live_prepare(self, state, step, picks):
        return self._set_status(state, step, "preparing")

    def _do_live_run(self, state, step, picks):
        return self._set_status(state, step, "running")

    def _do_live_complete(self, state, step, picks):
        m = self.migration(state, step.migration)
        # The instance takes over the dest claim; the source frees the flavor.
        state = self._charge(state, m.source, m.old_flavor, -1)
        state = self._land(state, m)
        inst = self.instance(state, m.instance)
        state = self._set_instance(state, inst._replace(migration_context=None))
        return self._set_migration(state, m._replace(status="completed"))

    def _do_live_abort(self, state, step, picks):
        m = self.migration(state, step.migration)
        return self._end_move(state, m, "cancelled")

    def _do_evacuate_start(self, state, step, picks):
        inst = self.instance(state, step.instance)
        return self._create(state, step, EVACUATION, inst.flavor, inst.flavor, "accepted")

    def _do_rebuild_claim(self, state, step, picks):
        state = self._set_status(state, step, "pre-migrating")
        m = self.migration(state, step.migration)
        return self._claim_move(state, m, picks)

    def _do_finish_evacuation(self, state, step, picks):
        state = self._set_status(state, step, "done")
        return self._land(state, self.migration(state, step.migration))

    def _do_host_down(self, state, step, picks):
        up = list(state.up)
        up[self.host_index[step.host]] = False
        return state._replace(up=tuple(up))

    def _do_host_up(self, state, step, picks):
        up = list(state.up)
        up[self.host_index[step.host]] = True
        state = state._replace(up=tuple(up))
        # init_host: _destroy_evacuated_instances (``nova/compute/manager.py``, bugs 1518200, 1764883).
        for m in state.migrations:
            if m.migration_type != EVACUATION or m.source != step.host:
                continue
            if m.status == "done":
                state = self._end_move(state, m, "completed")
            elif m.status not in TERMINAL[EVACUATION]:
                state = self._fail(state, m)
        return state

    def _do_audit(self, state, step, picks):
        k = self.host_index[step.host]
        usage = list(state.usage)
        usage[k] = self.holds(state)[k]
        return state._replace(usage=tuple(usage))

    # ------------------------------------------------------------------ steps to try

    def candidate_steps(self, state: State) -> Iterator[Step]:
        """Every step worth trying in ``state`` (a superset of the enabled ones).

        New migrations always take the next unused id, so exploration does not
        branch on names.
        """
        hosts = self.cloud.host_names
        fresh = (self.migration_ids[len(state.migrations)]
                 if len(state.migrations) < len(self.migration_ids) else None)
        for k, inst in enumerate(state.instances):
            iid = self.cloud.instances[k]
            if inst is None:
                for h in hosts:
                    for f in self.cloud.flavor_names:
                        yield Step("boot", instance=iid, host=h, flavor=f)
                continue
            if inst.vm_state == VM_DELETED:
                continue
            yield Step("delete", instance=iid)
            if fresh is not None:
                for h in hosts:
                    for f in self.cloud.flavor_names:
                        yield Step("resize_claim", migration=fresh, instance=iid, dest=h, flavor=f)
                    yield Step("live_claim", migration=fresh, instance=iid, dest=h)
                    yield Step("evacuate_start", migration=fresh, instance=iid, dest=h)
        for m in state.migrations:
            if m.status in TERMINAL[m.migration_type]:
                continue
            for kind in _MOVE_STEPS[m.migration_type]:
                yield Step(kind, migration=m.id)
            yield Step("fail", migration=m.id)
        for h in hosts:
            yield Step("host_down", host=h)
            yield Step("host_up", host=h)
            yield Step("audit", host=h)

    def successors(self, state: State) -> Iterator[tuple[Step, tuple[str, ...], State]]:
        """Every (step, picks, successor) of ``state``."""
        for step in self.candidate_steps(state):
            if self.why_rejected(state, step) is None:
                effect = self._effect[step.kind]
                # The guard was just checked and legal_picks only yields legal
                # picks, so the effect is applied directly (hot path of explore).
                for picks in self.legal_picks(state, step):
                    yield step, picks, effect(state, step, picks)

    # ------------------------------------------------------------------ observation

    def observe(self, state: State) -> Observation:
        """The full observation of a spec state (every capability)."""
        usage = {
            h.name: dict(zip(RESOURCE_CLASSES, state.usage[k], strict=True))
            for k, h in enumerate(self.cloud.hosts)
        }
        devices: dict[str, dict[str, str | None]] = {
            h.name: {d: None for d in h.devices} for h in self.cloud.hosts
        }
        for host, d, holder in self.device_holds(state):
            devices[host][d] = holder
        return Observation(
            usage=usage,
            devices=devices,
            migrations={m.id: m.status for m in state.migrations},
            instances={
                i.id: i.host for i in state.instances
                if i is not None and i.vm_state != VM_DELETED
            },
            allocations=expected_allocations(self, state),
        )


_MOVE_STEPS = {
    t: tuple(
        s for s in dict.fromkeys(
            step for _, _, d in STATUS_MACHINES[t].edges(data=True) for step in d["steps"]
        )
        if s not in ("fail", "delete", "host_up") and s not in CREATING_STEPS
    )
    for t in STATUS_MACHINES
}

__all__ = ["Rejection", "Spec", "State", "ZERO"]
