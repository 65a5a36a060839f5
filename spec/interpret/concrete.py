"""The concrete reading of the spec: the rules run with plain Python values (docs/one-spec.md).

A :class:`Spec` is bound to one :class:`~movecheck.spec.vocab.Cloud`.  It runs
the rules of :mod:`movecheck.spec.steps` and :mod:`movecheck.spec.invariants`
on :class:`~movecheck.spec.state.State` values: hosts, flavors and devices are
names, ``x.up(s, host)`` is a tuple lookup, a guard's conjuncts are checked
one by one and the first false one is the reason a step is rejected.  Fast
enough to be the oracle of every conformance step and of exhaustive search.

Nothing here is specific to one step or one invariant: this module supplies
the operations a rule is written with (the cloud's numbers, vectors, device
sets, state updates) and the generic parts of a step (finding the acting
slot, checking parameter names, enumerating device picks, retiring the
previous migration record when a new one is created).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from itertools import combinations
from typing import NamedTuple

from movecheck.spec.allocations import expected_allocations
from movecheck.spec.state import ST, STATUSES, TY, Slot, State, Vector
from movecheck.spec.statuses import STATUS_MACHINES, TERMINAL
from movecheck.spec.steps import REASONS, STEPS, StepDef, charges, device_holds, say
from movecheck.spec.vocab import (
    RESOURCE_CLASSES,
    VM_DELETED,
    Cloud,
    Instance,
    Migration,
    Observation,
    Step,
)

ZERO: Vector = (0,) * len(RESOURCE_CLASSES)

# Three resource classes, spelled out: these run for every successor.
assert len(RESOURCE_CLASSES) == 3


class Rejection(NamedTuple):
    """Why the spec rejects a step, as data: a stable ``code`` a program can branch on
    (the guard conjunct that failed; every code is in ``movecheck.spec.steps.REASONS``)
    and a ``message`` for people.

    Codes: ``unknown_step``, ``bad_parameter``, ``unknown_host``, ``unknown_flavor``,
    ``unknown_instance``, ``unknown_migration``, ``no_instance`` (never booted or
    deleted), ``already_booted``, ``in_progress`` (the instance already has a move),
    ``not_active``, ``same_host``, ``source_up`` (evacuating from a host that is up),
    ``not_fresh`` (the migration id exists), ``migration_limit``, ``wrong_type``,
    ``wrong_status``, ``host_down``, ``already_down``, ``already_up``, ``does_not_fit``
    (capacity) and ``no_free_devices``.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _reject(code: str, *args) -> Rejection:
    return Rejection(code, say(REASONS[code], *args))


class Refusal(tuple):
    """The device picks of a transition that is a refusal: the step is rejected, yet
    the state changes (a claim the scheduler refused leaves its migration ``error``;
    ``movecheck.spec.steps``, ``refused``).  Empty, like "no picks"; tell it apart
    with ``isinstance`` (it survives pickling, identity does not)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REFUSED"


#: The picks of a refusal transition in :meth:`Spec.successors` and explore traces.
REFUSED = Refusal()


class Spec:
    """The spec for one cloud, read concretely: guards, effects, holds, invariants.

    ``rules`` replaces the step table (a spec mutant is an edited copy of it); a
    subclass may set the class attribute ``rules`` instead.
    """

    rules: dict[str, StepDef] = STEPS

    NONE = None  # no flavor
    NO_HOST = None  # no host
    NO_DEVICES: tuple[str, ...] = ()
    ZERO = ZERO

    def __init__(self, cloud: Cloud, rules: dict[str, StepDef] | None = None):
        self.cloud = cloud
        if rules is not None:
            self.rules = rules
        self.hosts = cloud.host_names
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
        self.devices = {h.name: h.devices for h in cloud.hosts}
        self._devset = {h: frozenset(d) for h, d in self.devices.items()}
        self.migration_ids = cloud.migration_ids()
        self.max_migrations = cloud.max_migrations
        self._holds_cache: tuple[State | None, dict] = (None, {})
        self._held_cache: tuple[State | None, list] = (None, [])
        self._step_cache: dict[tuple, tuple[Step, ...]] = {}

    # ------------------------------------------------------------ the operations rules use

    def up(self, s: State, host: str) -> bool:
        return s.up[self.host_index[host]]

    def usage(self, s: State, host: str) -> Vector:
        return s.usage[self.host_index[host]]

    usage_at = usage

    def fvec(self, flavor: str) -> Vector:
        return self.vec[flavor]

    def fdev(self, flavor: str) -> int:
        return self.ndev[flavor]

    def cap(self, host: str) -> Vector:
        return self.int_capacity[self.host_index[host]]

    def cap_exact(self, host: str, r: int) -> Fraction:
        return self.capacity[self.host_index[host]][r]

    @staticmethod
    def vadd(a: Vector, b: Vector) -> Vector:
        return (a[0] + b[0], a[1] + b[1], a[2] + b[2])

    @staticmethod
    def vsub(a: Vector, b: Vector) -> Vector:
        return (a[0] - b[0], a[1] - b[1], a[2] - b[2])

    @staticmethod
    def vle(a: Vector, b: Vector) -> bool:
        return a[0] <= b[0] and a[1] <= b[1] and a[2] <= b[2]

    @staticmethod
    def veq(a: Vector, b: Vector) -> bool:
        return a == b

    @staticmethod
    def at(table, host):
        return table[host]

    @staticmethod
    def dev_count(devs) -> int:
        return len(devs)

    @staticmethod
    def dev_eq(a, b) -> bool:
        return a == b

    def dev_on(self, devs, host) -> bool:
        """Every device of ``devs`` is a device of ``host``."""
        return not devs or (host in self._devset and self._devset[host].issuperset(devs))

    def held(self, s: State) -> list[tuple[str, str, str]]:
        """Every (host, device, holder instance) the records say is held, with repeats."""
        cached_state, cached = self._held_cache
        if cached_state is s:
            return cached
        out = []
        for sl in s.slots:
            for c, host, devs in device_holds(self, sl):
                if c:
                    for d in devs:
                        out.append((host, d, sl.iid))
        self._held_cache = (s, out)
        return out

    def holder_counts(self, s: State):
        """(device, number of holders) for every device held more than once."""
        counts = Counter((h, d) for h, d, _ in self.held(s))
        return [(f"{h}/{d}", n) for (h, d), n in counts.items() if n > 1]

    def free_devices(self, s: State, host: str) -> tuple[str, ...]:
        held = {d for h, d, _ in self.held(s) if h == host}
        return tuple(d for d in self.devices[host] if d not in held)

    def free_count(self, s: State, host: str) -> int:
        return len(self.free_devices(s, host))

    def none_held(self, s: State, host: str, devs) -> bool:
        return not any(h == host and d in devs for h, d, _ in self.held(s))

    def holds(self, s: State, charges_of=None) -> dict[str, Vector]:
        """The reconciliation equation: per host, the usage recomputed from the records."""
        if charges_of is None or charges_of is charges:
            cached_state, cached = self._holds_cache
            if cached_state is s:  # several invariants ask for the same state in a row
                return cached
        usage = dict.fromkeys(self.hosts, ZERO)
        for sl in s.slots:
            for c, host, flavor in (charges_of or charges)(self, sl):
                if c:
                    v, u = self.vec[flavor], usage[host]
                    usage[host] = (u[0] + v[0], u[1] + v[1], u[2] + v[2])
        if charges_of is None or charges_of is charges:
            self._holds_cache = (s, usage)
        return usage

    def fits(self, s: State, host: str, flavor: str) -> bool:
        """The claim test of the rules (``movecheck.spec.steps.fits``): usage + flavor <=
        capacity on ``host``."""
        from movecheck.spec.steps import fits

        return fits(self, s, host, flavor)

    def fresh(self, s: State, mid: str) -> bool:
        return not any(sl.mx and sl.mid == mid for sl in s.slots) and not any(
            m.id == mid for _, m in s.retired)

    @staticmethod
    def nmig(s: State) -> int:
        return s.nmig

    @staticmethod
    def changed(s: State, t: State):
        """(before, after) of every slot the step changed (a slot it left alone is the
        same object: the step's conjuncts about it hold trivially)."""
        if s.slots is t.slots:
            return ()
        return [(a, b) for a, b in zip(s.slots, t.slots, strict=True) if a is not b]

    def set_up(self, s: State, host: str, value: bool) -> State:
        up = list(s.up)
        up[self.host_index[host]] = value
        return s._replace(up=tuple(up))

    def with_usage(self, s: State, host: str, vec: Vector) -> State:
        usage = list(s.usage)
        usage[self.host_index[host]] = tuple(vec)
        return s._replace(usage=tuple(usage))

    def each_slot(self, s: State, acts, effect) -> State:
        """Apply ``effect`` to every slot for which ``acts`` holds."""
        slots, usage = list(s.slots), None
        for i, sl in enumerate(s.slots):
            if acts(sl):
                slots[i], ch = effect(sl)
                if ch:
                    usage = self._charge(usage or list(s.usage), ch)
        return State(s.up, s.usage if usage is None else tuple(usage), tuple(slots), s.retired)

    def _charge(self, usage: list, ch) -> list:
        for c, host, flavor, sign in ch:
            if c:
                k, v = self.host_index[host], self.vec[flavor]
                u = usage[k]
                usage[k] = ((u[0] + v[0], u[1] + v[1], u[2] + v[2]) if sign > 0
                            else (u[0] - v[0], u[1] - v[1], u[2] - v[2]))
        return usage

    # ------------------------------------------------------------ reading invariants

    def messages(self, rule, *args) -> list[str]:
        """The message of every false conjunct of an invariant's rule."""
        out = []
        for t in rule(self, *args):
            if not t[0]:
                msg = t[1]
                out.append(msg(*t[2:]) if callable(msg) else say(msg, *t[2:]))
        return out

    # ------------------------------------------------------------ basics

    def initial(self) -> State:
        """The initial state: no instances, no migrations, hosts as configured."""
        return State(
            up=tuple(h.up for h in self.cloud.hosts),
            usage=tuple(ZERO for _ in self.cloud.hosts),
            slots=tuple(Slot.empty(i) for i in self.cloud.instances),
            retired=(),
        )

    def instance(self, state: State, iid: str | None) -> Instance | None:
        k = self.slot.get(iid) if iid is not None else None
        return None if k is None else state.slots[k].instance()

    def migration(self, state: State, mid: str | None) -> Migration | None:
        for sl in state.slots:
            if sl.mx and sl.mid == mid:
                return sl.migration()
        for _, m in state.retired:
            if m.id == mid:
                return m
        return None

    def in_progress_of(self, state: State, iid: str) -> Migration | None:
        """The instance's in-progress migration (the spec keeps at most one)."""
        k = self.slot.get(iid)
        if k is None:
            return None
        from movecheck.spec.steps import in_progress

        sl = state.slots[k]
        return sl.migration() if in_progress(sl) else None

    def is_up(self, state: State, host: str) -> bool:
        return state.up[self.host_index[host]]

    def device_holds(self, state: State) -> list[tuple[str, str, str]]:
        return self.held(state)

    def charged_flavor(self, state: State, inst: Instance) -> str | None:
        """The flavor an instance charges its own host (None once deleted)."""
        from movecheck.spec.steps import alive, charged_flavor

        sl = state.slots[self.slot[inst.id]]
        return charged_flavor(self, sl) if alive(sl) else None

    # ------------------------------------------------------------ guards

    def _acting_slot(self, s: State, sd: StepDef, step: Step):
        """(slot index, slot) the step acts on; None for a host step or an unknown migration."""
        if sd.acts == "instance":
            k = self.slot[step.instance]
            return k, s.slots[k]
        if sd.acts == "migration":
            mid = step.migration
            for k, sl in enumerate(s.slots):
                if sl.mx and sl.mid == mid:
                    return k, sl
            for seq, m in s.retired:
                if m.id == mid:
                    # A retired record: finished, so every migration step's guard refuses
                    # it, with its status as the reason (the slot's facts about its
                    # latest move, ``gone`` and the context, are not this record's).
                    k = self.slot[m.instance]
                    return k, s.slots[k]._replace(
                        mid=m.id, mseq=seq, mtype=TY[m.migration_type], mst=ST[m.status],
                        msrc=m.source, mdst=m.dest, mold=m.old_flavor, mnew=m.new_flavor,
                        gone=False, mc=False)
        return None

    def _check_names(self, step: Step) -> Rejection | None:
        sd = self.rules.get(step.kind)
        if sd is None:
            return _reject("unknown_step", step.kind)
        for p in sd.params:
            value = getattr(step, p)
            if value is None:
                return _reject("bad_parameter", f"missing parameter {p}")
            if not isinstance(value, str):
                return _reject("bad_parameter", f"parameter {p} must be a name, not {value!r}")
        if step.host is not None and step.host not in self.host_index:
            return _reject("unknown_host", step.host)
        if step.dest is not None and step.dest not in self.host_index:
            return _reject("unknown_host", step.dest)
        if step.flavor is not None and step.flavor not in self.flavors:
            return _reject("unknown_flavor", step.flavor)
        if step.instance is not None and step.instance not in self.slot:
            return _reject("unknown_instance", step.instance)
        return None

    def _guard(self, s: State, sd: StepDef, step: Step, acting) -> tuple | None:
        """The first false conjunct of the step's guard (None: enabled)."""
        if sd.acts == "host":
            conjuncts = sd.when(self, s, step)
        elif acting is None:
            return ("unknown_migration", False, step.migration)
        else:
            conjuncts = sd.conjuncts(self, s, acting[1], step)
        for t in conjuncts:
            if not t[1]:
                return t
        return None

    def _refused_by(self, s: State, sd: StepDef, step: Step, acting) -> str | None:
        """Who refuses a step the scheduler may refuse: "api" (a false ``when``
        conjunct), "scheduler" (a false ``schedule`` conjunct), or None (enabled);
        each conjunct is read once."""
        sl = acting[1]
        for t in sd.when(self, s, sl, step):
            if not t[1]:
                return "api"
        for t in sd.schedule(self, s, sl, step):
            if not t[1]:
                return "scheduler"
        return None

    def _refuse(self, s: State, sd: StepDef, step: Step, acting) -> State | None:
        """The state a step refused by the scheduler leaves (its API checks hold, a
        scheduling conjunct is false), or None (enabled, or refused by the API)."""
        if sd.refused is None or acting is None:
            return None
        if self._refused_by(s, sd, step, acting) != "scheduler":
            return None
        return self._commit(s, sd, acting, *sd.refused(self, s, acting[1], step))

    def refusal(self, state: State, step: Step) -> State | None:
        """The state a move the scheduler refused leaves (rejected, its record written
        ``error``: docs/spec.md, "Refused claims"); None for any other step."""
        if self._check_names(step) is not None:
            return None
        sd = self.rules[step.kind]
        return self._refuse(state, sd, step, self._acting_slot(state, sd, step))

    def after_rejection(self, state: State, step: Step) -> State:
        """The state after the spec rejects ``step``: unchanged, except for a move the
        scheduler refused, which leaves its record ``error``."""
        after = self.refusal(state, step)
        return state if after is None else after

    def step_transitions(self, state: State, step: Step) -> list[tuple[tuple[str, ...], State]]:
        """Every (picks, successor) of ``step`` in ``state``, as :meth:`successors` labels
        them: the legal picks of an enabled step, ``(REFUSED, state)`` for a refusal,
        else none."""
        if self.enabled(state, step):
            return [(p, self.next_state(state, step, p)) for p in self.legal_picks(state, step)]
        after = self.refusal(state, step)
        return [] if after is None else [(REFUSED, after)]

    def take(self, state: State, step: Step, picks: tuple[str, ...] | None = None) -> State:
        """The state after a transition labelled (``step``, ``picks``) as
        :meth:`successors` labels it: :data:`REFUSED` picks mean the step was rejected."""
        if isinstance(picks, Refusal):
            return self.after_rejection(state, step)
        return self.next_state(state, step, picks)

    def rejection(self, state: State, step: Step) -> Rejection | None:
        """None if ``step`` is enabled in ``state``, else why it is rejected (code and sentence)."""
        r = self._check_names(step)
        if r is not None:
            return r
        sd = self.rules[step.kind]
        t = self._guard(state, sd, step, self._acting_slot(state, sd, step))
        return None if t is None else _reject(t[0], *t[2:])

    def why_rejected(self, state: State, step: Step) -> str | None:
        """None if ``step`` is enabled in ``state``, else the reason it is rejected."""
        r = self.rejection(state, step)
        return None if r is None else r.message

    def enabled(self, state: State, step: Step) -> bool:
        return self.rejection(state, step) is None

    # ------------------------------------------------------------ picks

    def claim_target(self, state: State, step: Step) -> tuple[str, str] | None:
        """(host, flavor) a claiming step claims on, or None for other steps."""
        sd = self.rules[step.kind]
        if sd.claim is None:
            return None
        acting = self._acting_slot(state, sd, step)
        return sd.claim(self, state, acting[1], step)

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

    # ------------------------------------------------------------ effects

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
        sd = self.rules[step.kind]
        return self._apply(state, sd, step, self._acting_slot(state, sd, step), picks)

    def _apply(self, s: State, sd: StepDef, step: Step, acting, picks) -> State:
        if sd.acts == "host":
            return sd.then(self, s, step, picks)
        return self._commit(s, sd, acting, *sd.then(self, s, acting[1], step, picks))

    def _commit(self, s: State, sd: StepDef, acting, new: Slot, ch) -> State:
        """The state with the acting slot's new value and its usage changes."""
        k, sl = acting
        usage = tuple(self._charge(list(s.usage), ch)) if ch else s.usage
        retired = s.retired
        if sd.creates:
            new = new._replace(mseq=s.nmig + 1)
            if sl.mx:  # the previous record (terminal) is retired, kept for its status
                retired = retired + ((sl.mseq, sl.migration()),)
        return State(s.up, usage, s.slots[:k] + (new,) + s.slots[k + 1:], retired)

    # ------------------------------------------------------------ steps to try

    def candidate_steps(self, state: State) -> Iterator[Step]:
        """Every step worth trying in ``state`` (a superset of the enabled ones).

        New migrations always take the next unused id, so exploration does not
        branch on names.
        """
        n = state.nmig
        fresh = self.migration_ids[n] if n < len(self.migration_ids) else None
        for sl in state.slots:
            if sl.vm == 0:  # never booted
                yield from self._steps("boot", sl.iid)
            elif sl.vm != 3:  # not deleted
                yield from self._steps("instance", sl.iid)
                if fresh is not None:
                    yield from self._steps("move", sl.iid, fresh)
        moving = sorted((sl.mseq, sl) for sl in state.slots
                        if sl.mx and STATUSES[sl.mst] not in _TERMINAL_BY_CODE[sl.mtype])
        for _, sl in moving:
            yield from self._steps("migration", sl.mtype, sl.mid)
        yield from self._steps("hosts")

    def _steps(self, *key) -> tuple[Step, ...]:
        """The candidate steps of one kind, built once per cloud (Step values are immutable)."""
        out = self._step_cache.get(key)
        if out is None:
            hosts, flavors = self.hosts, self.cloud.flavor_names
            what = key[0]
            if what == "boot":
                out = tuple(Step("boot", instance=key[1], host=h, flavor=f)
                            for h in hosts for f in flavors)
            elif what == "instance":  # delete, reset_state: steps on the instance alone
                out = tuple(Step(k, instance=key[1]) for k, sd in self.rules.items()
                            if sd.params == ("instance",))
            elif what == "move":
                iid, mid = key[1], key[2]
                out = tuple(s for h in hosts for s in (
                    *[Step("resize_claim", migration=mid, instance=iid, dest=h, flavor=f)
                      for f in flavors],
                    Step("live_claim", migration=mid, instance=iid, dest=h),
                    Step("evacuate_start", migration=mid, instance=iid, dest=h)))
            elif what == "migration":
                out = tuple(Step(k, migration=key[2]) for k in _MOVE_STEPS[key[1]] + ("fail",))
            else:
                out = tuple(Step(k, host=h) for h in hosts for k in ("host_down", "host_up", "audit"))
            self._step_cache[key] = out
        return out

    def successors(self, state: State) -> Iterator[tuple[Step, tuple[str, ...], State]]:
        """Every (step, picks, successor) of ``state``; picks are :data:`REFUSED` for a
        step the scheduler refused (rejected, its record left ``error``)."""
        rules = self.rules
        for step in self.candidate_steps(state):
            sd = rules[step.kind]
            acting = self._acting_slot(state, sd, step)
            if sd.refused is not None and acting is not None:
                who = self._refused_by(state, sd, step, acting)
                if who == "scheduler":
                    new, ch = sd.refused(self, state, acting[1], step)
                    yield step, REFUSED, self._commit(state, sd, acting, new, ch)
                    continue
                if who == "api":
                    continue
            elif self._guard(state, sd, step, acting) is not None:
                continue
            # Candidates name known hosts, flavors and instances, and legal_picks
            # only yields legal picks: the effect is applied directly.
            if sd.claim is None:
                yield step, (), self._apply(state, sd, step, acting, ())
                continue
            host, flavor = sd.claim(self, state, acting[1], step)
            for picks in combinations(self.free_devices(state, host), self.ndev[flavor]):
                yield step, picks, self._apply(state, sd, step, acting, picks)

    # ------------------------------------------------------------ observation

    def observe(self, state: State) -> Observation:
        """The full observation of a spec state (every capability)."""
        usage = {
            h.name: dict(zip(RESOURCE_CLASSES, state.usage[k], strict=True))
            for k, h in enumerate(self.cloud.hosts)
        }
        devices: dict[str, dict[str, str | None]] = {
            h.name: {d: None for d in h.devices} for h in self.cloud.hosts
        }
        for host, d, holder in self.held(state):
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


_TERMINAL_BY_CODE = {TY[t]: TERMINAL[t] for t in TERMINAL}

_MOVE_STEPS = {
    TY[t]: tuple(
        s for s in dict.fromkeys(
            step for _, _, d in STATUS_MACHINES[t].edges(data=True) for step in d["steps"]
        )
        if s != "fail" and STEPS[s].acts == "migration"
    )
    for t in STATUS_MACHINES
}

__all__ = ["REFUSED", "Refusal", "Rejection", "Spec", "State", "ZERO"]
