"""The Z3 reading of the spec: the same rules run with Z3 terms (docs/one-spec.md).

The rules of :mod:`movecheck.spec.steps` and :mod:`movecheck.spec.invariants`
are run on a :class:`SymState` whose fields are Z3 terms, over a bounded cloud
(H hosts, N instance slots, the cloud's named devices, F flavors).  A guard's
conjuncts are conjoined, an effect's ``ite`` becomes ``If``, and the result is
a transition relation for proofs (:mod:`movecheck.spec.engines.prove`) and
bounded model checking (:mod:`movecheck.spec.engines.bmc`).  Capacities,
flavor sizes, flavor device counts and the migration bound are
:class:`Params`: Z3 constants taken from the cloud (:func:`concrete_params`)
or left free (:func:`symbolic_params`, for ``movecheck prove``).

Nothing here is specific to one step or one invariant.  The encoding
(docs/proofs.md, "The symbolic state"): the slots of
:class:`movecheck.spec.state.State` with names as indices (hosts, flavors;
-1 = no flavor), devices as one Bool per global (host, name) device,
migrations numbered in creation order (m1, m2, ...: a new migration must take
number ``nmig + 1``, the order in which ``Spec.candidate_steps`` hands ids
out), retired records summarised by ``older``; and capacity
(total - reserved) x allocation_ratio as one integer per host and resource
class (usage is an integer, so ``usage <= c`` iff ``usage <= floor(c)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import count
from typing import Any

import z3

from movecheck.spec.interpret.concrete import Spec
from movecheck.spec.interpret.terms import (
    AND,
    COUNT,
    EQ,
    IMP,
    IN,
    NOT,
    OR,
    SUM,
    Codes,
    is_py,
    ite,
    sel,
)
from movecheck.spec.invariants import ABSTRACTION as _SPEC_ABSTRACTION
from movecheck.spec.invariants import INVARIANTS
from movecheck.spec.state import ST, STATUSES, TY, VM_ACT, VM_ERR, VM_NAME, VM_NONE, VM_RSZ, State
from movecheck.spec.state import Slot as ConcreteSlot
from movecheck.spec.statuses import NEW
from movecheck.spec.statuses import STATUS_MACHINES as _SM
from movecheck.spec.steps import STEPS, StepDef, charges, device_holds
from movecheck.spec.vocab import (
    MIGRATION_TYPES,
    RESOURCE_CLASSES,
    Cloud,
    Flavor,
    Host,
    Inventory,
    Step,
)

RC = len(RESOURCE_CLASSES)
NONE = -1  # "no flavor" for old/new flavor

STATUS_OF_TYPE = Codes(((TY[t], ST[s]) for t, g in _SM.items() for s in g.nodes if s != NEW),
                       len(STATUSES))


def to_bool(x) -> bool:
    """A closed term (or Python value) as a Python bool."""
    if isinstance(x, bool):
        return x
    v = z3.simplify(x)
    if z3.is_true(v):
        return True
    if z3.is_false(v):
        return False
    raise ValueError(f"term is not closed: {v}")


# --------------------------------------------------------------------------- parameters


@dataclass
class Params:
    """The cloud's numbers: capacities, flavor sizes and device counts, migration bound."""

    hosts: tuple[str, ...]
    flavors: tuple[str, ...]
    instances: tuple[str, ...]
    devices: tuple[tuple[int, str], ...]  # global devices: (host index, name)
    cap: list[list[Any]]  # per host, per resource class: floor of the capacity
    vec: list[list[Any]]  # per flavor, per resource class
    ndev: list[Any]  # per flavor: devices it needs
    max_migrations: Any
    constraints: list = field(default_factory=list)

    @property
    def H(self) -> int:
        return len(self.hosts)

    @property
    def N(self) -> int:
        return len(self.instances)

    @property
    def G(self) -> int:
        return len(self.devices)

    def fvec(self, f, rc: int):
        return sel([v[rc] for v in self.vec], f)

    def fdev(self, f):
        return sel(self.ndev, f)


def _global_devices(cloud: Cloud) -> tuple[tuple[int, str], ...]:
    return tuple((k, d) for k, h in enumerate(cloud.hosts) for d in h.devices)


def concrete_params(cloud: Cloud, python: bool = False) -> Params:
    """The cloud's own numbers, as Z3 constants (``python``: as Python ints)."""
    spec = Spec(cloud)
    Iv = int if python else z3.IntVal
    return Params(
        hosts=cloud.host_names, flavors=cloud.flavor_names, instances=cloud.instances,
        devices=_global_devices(cloud),
        cap=[[Iv(int(c // 1)) for c in spec.capacity[k]] for k in range(len(cloud.hosts))],
        vec=[[Iv(x) for x in f.vector()] for f in cloud.flavors],
        ndev=[Iv(f.devices) for f in cloud.flavors],
        max_migrations=Iv(cloud.max_migrations),
    )


def symbolic_params(cloud: Cloud, tag: str = "") -> Params:
    """The cloud's shape (hosts, flavors, instance slots, named devices) with free numbers.

    Capacities and flavor sizes are any naturals; a flavor needs from 0 to as
    many devices as the largest host has; the migration bound is any natural.
    """
    H, F = len(cloud.hosts), len(cloud.flavors)
    cap = [[z3.Int(f"cap{tag}_{h}_{r}") for r in range(RC)] for h in range(H)]
    vec = [[z3.Int(f"size{tag}_{f}_{r}") for r in range(RC)] for f in range(F)]
    ndev = [z3.Int(f"ndev{tag}_{f}") for f in range(F)]
    k = z3.Int(f"max_migrations{tag}")
    maxdev = max(len(h.devices) for h in cloud.hosts)
    cons = [x >= 0 for row in cap + vec for x in row]
    cons += [z3.And(n >= 0, n <= maxdev) for n in ndev] + [k >= 0]
    return Params(cloud.host_names, cloud.flavor_names, cloud.instances, _global_devices(cloud),
                  cap, vec, ndev, k, cons)


# --------------------------------------------------------------------------- state


@dataclass
class Slot:
    """One instance slot and its latest migration record (the fields of
    :class:`movecheck.spec.state.Slot`, as terms; ``iid`` is the slot's name)."""

    iid: str
    vm: Any
    host: Any
    flavor: Any
    oldf: Any
    newf: Any
    dev: list  # per global device: held by the instance
    mc: Any  # has a MigrationContext (for the latest migration)
    mco: list  # MigrationContext old devices (global)
    mcn: list  # MigrationContext new devices (global)
    mx: Any  # a migration record exists
    mid: Any  # its number (mK)
    mtype: Any
    mst: Any
    msrc: Any
    mdst: Any
    mold: Any
    mnew: Any
    older: Any  # retired records still in progress (0 when single_move holds)
    gone: Any  # an evacuation's source dropped the instance before it landed
    wx: Any  # waiting for a source's clean-up
    wsrc: Any  # that source
    wflv: Any  # the flavor it holds
    wdev: list  # the devices it holds (global)
    bootf: Any  # the flavor it was booted with (its root disk: image_min_disk)

    SCALARS = ("vm", "host", "flavor", "oldf", "newf", "mc", "mx", "mid", "mtype", "mst", "msrc",
               "mdst", "mold", "mnew", "older", "gone", "wx", "wsrc", "wflv", "bootf")
    VECTORS = ("dev", "mco", "mcn", "wdev")
    BOOLS = ("mc", "mx", "gone", "wx")

    def _replace(self, **kw) -> Slot:
        return replace(self, **kw)

    def merge(self, c, other: Slot) -> Slot:
        """If(c, self, other) field by field."""
        kw: dict[str, Any] = {n: ite(c, getattr(self, n), getattr(other, n)) for n in Slot.SCALARS}
        kw.update({n: [ite(c, x, y) for x, y in zip(getattr(self, n), getattr(other, n), strict=True)]
                   for n in Slot.VECTORS})
        return Slot(self.iid, **kw)


@dataclass
class SymState:
    up: list
    usage: list  # per host: list of RC terms
    slots: list
    nmig: Any
    #: The parametric proof's summary of every instance beyond the explicit slots
    #: (docs/proofs.md): what they charge each host, and which devices they hold.
    others_usage: list | None = None
    others_dev: list | None = None
    #: per slot index: the usage changes a step attributes to that slot,
    #: [(condition, host, flavor, sign)]; None when usage was written unattributed (audit).
    deltas: dict | None = field(default_factory=dict, compare=False, repr=False)

    def terms(self) -> list:
        out = list(self.up) + [u for row in self.usage for u in row] + [self.nmig]
        if self.others_usage is not None:
            out += [u for row in self.others_usage for u in row] + list(self.others_dev)
        for s in self.slots:
            out += [getattr(s, n) for n in Slot.SCALARS]
            for n in Slot.VECTORS:
                out += list(getattr(s, n))
        return out


_fresh = count()


def fresh_state(P: Params, tag: str | None = None) -> SymState:
    """A state of fresh Z3 constants named after ``tag``."""
    t = tag if tag is not None else f"s{next(_fresh)}"

    def slot(i: int) -> Slot:
        n = lambda x: f"{t}_{x}{i}"  # noqa: E731
        return Slot(
            P.instances[i],
            **{x: (z3.Bool(n(x)) if x in Slot.BOOLS else z3.Int(n(x))) for x in Slot.SCALARS},
            **{x: [z3.Bool(f"{n(x)}_{g}") for g in range(P.G)] for x in Slot.VECTORS},
        )

    return SymState(
        up=[z3.Bool(f"{t}_up{h}") for h in range(P.H)],
        usage=[[z3.Int(f"{t}_use{h}_{r}") for r in range(RC)] for h in range(P.H)],
        slots=[slot(i) for i in range(P.N)],
        nmig=z3.Int(f"{t}_nmig"),
    )


def states_equal(a: SymState, b: SymState):
    return AND(*[x == y for x, y in zip(a.terms(), b.terms(), strict=True)])


def migration_number(mid: str) -> int | None:
    """m7 -> 7; None for a name the Z3 reading cannot number."""
    if len(mid) > 1 and mid[0] == "m" and mid[1:].isdigit():
        return int(mid[1:])
    return None


# --------------------------------------------------------------------------- concrete <-> symbolic


def encode_state(spec: Spec, state: State, python: bool = False) -> SymState:
    """The symbolic image of a concrete state, as Z3 constants (retired records are
    summarised by ``older``).  Raises ValueError for a state the encoding cannot
    represent (a device name its host does not have, a migration id not ``mK``).

    ``python``: the same image with Python ints and bools, on which the Z3 reading's
    rules evaluate to Python values (the exhaustive agreement check, docs/one-spec.md).
    """
    cloud = spec.cloud
    gindex = {(cloud.hosts[k].name, d): g for g, (k, d) in enumerate(_global_devices(cloud))}
    G = len(gindex)
    fidx = {f: k for k, f in enumerate(cloud.flavor_names)}
    hidx = spec.host_index
    Iv, B = (int, bool) if python else (z3.IntVal, z3.BoolVal)

    def gset(host, names) -> list:
        out = [False] * G
        for d in names:
            if (host, d) not in gindex:
                raise ValueError(f"{d} is not a device of {host}")
            out[gindex[host, d]] = True
        return [B(x) for x in out]

    def num(mid):
        n = migration_number(mid)
        if n is None:
            raise ValueError(f"migration id {mid} is not of the form mK")
        return n

    slots = []
    for sl in state.slots:
        slots.append(Slot(
            sl.iid, vm=Iv(sl.vm), host=Iv(hidx.get(sl.host, 0)), flavor=Iv(fidx.get(sl.flavor, 0)),
            oldf=Iv(fidx.get(sl.oldf, NONE)), newf=Iv(fidx.get(sl.newf, NONE)),
            dev=gset(sl.host, sl.dev), mc=B(sl.mc), mco=gset(sl.msrc, sl.mco),
            mcn=gset(sl.mdst, sl.mcn), mx=B(sl.mx), mid=Iv(num(sl.mid) if sl.mx else 0),
            mtype=Iv(sl.mtype), mst=Iv(sl.mst), msrc=Iv(hidx.get(sl.msrc, 0)),
            mdst=Iv(hidx.get(sl.mdst, 0)), mold=Iv(fidx.get(sl.mold, 0)),
            mnew=Iv(fidx.get(sl.mnew, 0)), older=Iv(sl.older), gone=B(sl.gone), wx=B(sl.wx),
            wsrc=Iv(hidx.get(sl.wsrc, 0)), wflv=Iv(fidx.get(sl.wflv, NONE)),
            wdev=gset(sl.wsrc, sl.wdev), bootf=Iv(fidx.get(sl.bootf, NONE))))
    return SymState(
        up=[B(u) for u in state.up],
        usage=[[Iv(x) for x in row] for row in state.usage],
        slots=slots,
        nmig=Iv(state.nmig),
    )


def decode(P: Params, model: z3.ModelRef, s: SymState, cloud: Cloud) -> tuple[Cloud, State]:
    """A Z3 model of ``s`` as a concrete (cloud, state) for display in domain words.

    The cloud carries the model's capacities and flavor sizes; migrations are
    the instances' latest records.
    """
    def iv(x) -> int:
        return x if is_py(x) else model.eval(x, model_completion=True).as_long()

    def bv(x) -> bool:
        return x if isinstance(x, bool) else z3.is_true(model.eval(x, model_completion=True))

    hosts = tuple(
        Host(h.name, tuple((rc, Inventory(total=max(iv(P.cap[k][r]), 0)))
                           for r, rc in enumerate(RESOURCE_CLASSES)), h.devices, h.up)
        for k, h in enumerate(cloud.hosts))
    flavors = tuple(Flavor(f.name, *[max(iv(P.vec[k][r]), 0) for r in range(RC)],
                           devices=max(iv(P.ndev[k]), 0))
                    for k, f in enumerate(cloud.flavors))
    dcloud = Cloud(hosts, flavors, cloud.instances, cloud.max_migrations, cloud.options)

    def hname(x):
        k = iv(x)
        return cloud.host_names[k] if 0 <= k < len(cloud.host_names) else f"host#{k}"

    def fname(x):
        k = iv(x)
        if k == NONE:
            return None
        return cloud.flavor_names[k] if 0 <= k < len(cloud.flavor_names) else f"flavor#{k}"

    def names(bits) -> tuple[str, ...]:
        return tuple(P.devices[g][1] for g, b in enumerate(bits) if bv(b))

    slots = []
    for iid, sl in zip(cloud.instances, s.slots, strict=True):
        vm, mx = iv(sl.vm), bv(sl.mx)
        if vm == VM_NONE and not mx:
            slots.append(ConcreteSlot.empty(iid))
            continue
        t, stc = iv(sl.mtype), iv(sl.mst)
        slots.append(ConcreteSlot(
            iid, vm if vm in VM_NAME else VM_NONE, hname(sl.host), fname(sl.flavor),
            fname(sl.oldf), fname(sl.newf), names(sl.dev), bv(sl.mc), names(sl.mco),
            names(sl.mcn), mx, f"m{iv(sl.mid)}" if mx else None, iv(sl.mid) if mx else 0,
            t if 0 <= t < len(MIGRATION_TYPES) else 0, stc if 0 <= stc < len(STATUSES) else 0,
            hname(sl.msrc) if mx else None, hname(sl.mdst) if mx else None,
            fname(sl.mold) if mx else None, fname(sl.mnew) if mx else None, iv(sl.older),
            bv(sl.gone), bv(sl.wx), hname(sl.wsrc) if bv(sl.wx) else None,
            fname(sl.wflv) if bv(sl.wx) else None, names(sl.wdev),
            fname(sl.bootf) if vm in (VM_ACT, VM_RSZ, VM_ERR) else None))
    state = State(up=tuple(bv(u) for u in s.up),
                  usage=tuple(tuple(iv(u) for u in row) for row in s.usage),
                  slots=tuple(slots))
    return dcloud, state


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepArgs:
    """A step's parameters as indices (Python ints or Z3 terms), under the names of
    :class:`~movecheck.spec.vocab.Step` so that rules read both alike.

    ``only_slot`` restricts the acting instance/migration to one slot (the
    instance symmetry used by the proofs, docs/proofs.md).
    """

    kind: str
    migration: Any = None
    instance: Any = None
    host: Any = None
    dest: Any = None
    flavor: Any = None
    only_slot: int | None = None


def step_args(spec: Spec, step: Step) -> StepArgs | None:
    """A concrete step as StepArgs; None when a name is unknown (the concrete spec rejects it)."""
    def idx(table, name):
        return None if name is None else table.get(name, "?")

    a = StepArgs(
        kind=step.kind,
        migration=None if step.migration is None else migration_number(step.migration),
        instance=idx(spec.slot, step.instance),
        host=idx(spec.host_index, step.host),
        dest=idx(spec.host_index, step.dest),
        flavor=idx({f: k for k, f in enumerate(spec.cloud.flavor_names)}, step.flavor),
    )
    if "?" in (a.instance, a.host, a.dest, a.flavor):
        return None
    if step.migration is not None and a.migration is None:
        return None
    return a


def all_step_args(P: Params, kind: str, tag: str, only_slot: int | None = None
                  ) -> tuple[StepArgs, list]:
    """StepArgs with free Z3 parameters for ``kind`` and their range constraints."""
    params = STEPS[kind].params
    kw: dict[str, Any] = {}
    cons = []
    if "migration" in params:
        kw["migration"] = z3.Int(f"{tag}_mig")
    if "instance" in params:
        if only_slot is not None:
            kw["instance"] = only_slot
        else:
            kw["instance"] = z3.Int(f"{tag}_inst")
            cons.append(z3.And(kw["instance"] >= 0, kw["instance"] < P.N))
    for p, n in (("host", P.H), ("dest", P.H), ("flavor", len(P.flavors))):
        if p in params:
            kw[p] = z3.Int(f"{tag}_{p}")
            cons.append(z3.And(kw[p] >= 0, kw[p] < n))
    return StepArgs(kind, only_slot=only_slot, **kw), cons


@dataclass
class Transition:
    """``enabled`` (the step has a transition: its guard, or for a step the scheduler may
    refuse its API checks), ``picks_ok`` (legal device picks) and the successor terms."""

    enabled: Any
    picks_ok: Any
    post: SymState
    picks: list
    #: per slot index: the usage changes the step attributes to that slot,
    #: [(condition, host, flavor, sign)]; None when the step writes usage
    #: without attributing it (audit).
    slot_deltas: dict | None = None
    #: The step is accepted (False: a refusal, the scheduler's; ``enabled`` then
    #: says the transition exists, its outcome is rejected).
    accepted: Any = True


class SymbolicSpec:
    """The rules read with Z3 terms: the operations rules use, and the generic parts of a
    step (which slot acts, merging, device picks).

    ``rules`` is the step table; a spec mutant (:mod:`movecheck.spec.engines.spec_mutants`)
    is a subclass with an edited copy of it.
    """

    name = "spec"
    rules: dict[str, StepDef] = STEPS

    def __init__(self, P: Params):
        self.P = P
        self.hosts = range(P.H)
        self.NO_DEVICES = [False] * P.G
        self.ZERO = [0] * RC
        self.max_migrations = P.max_migrations

    NONE = NONE
    NO_HOST = 0  # a host field that does not apply (canonical_slot)

    # ------------------------------------------------------------ the operations rules use

    def up(self, s: SymState, h):
        return sel(s.up, h)

    def usage(self, s: SymState, h) -> list:
        if type(h) is int:
            return s.usage[h]
        return [sel([row[r] for row in s.usage], h) for r in range(RC)]

    usage_at = usage

    def fvec(self, f) -> list:
        return [self.P.fvec(f, r) for r in range(RC)]

    def fdev(self, f):
        return self.P.fdev(f)

    def cap(self, h) -> list:
        return [sel([row[r] for row in self.P.cap], h) for r in range(RC)]

    def cap_exact(self, h, r):
        return self.cap(h)[r]

    @staticmethod
    def vadd(a, b) -> list:
        return [x + y for x, y in zip(a, b, strict=True)]

    @staticmethod
    def vsub(a, b) -> list:
        return [x - y for x, y in zip(a, b, strict=True)]

    @staticmethod
    def vle(a, b):
        return AND(*[x <= y for x, y in zip(a, b, strict=True)])

    @staticmethod
    def veq(a, b):
        return AND(*[EQ(x, y) for x, y in zip(a, b, strict=True)])

    def at(self, table, h) -> list:
        if type(h) is int:
            return table[h]
        return [sel([row[r] for row in table], h) for r in range(RC)]

    @staticmethod
    def dev_count(devs):
        return COUNT(devs)

    @staticmethod
    def dev_eq(a, b):
        return AND(*[EQ(x, y) for x, y in zip(a, b, strict=True)])

    def dev_on(self, devs, host):
        return AND(*[IMP(d, EQ(host, hg)) for d, (hg, _) in zip(devs, self.P.devices, strict=True)])

    def held(self, s: SymState, g: int):
        """Device ``g`` is held by someone."""
        c = s.__dict__.setdefault("_held", {})
        if (g, id(self)) not in c:
            c[g, id(self)] = OR(*[self.slot_holds_dev(sl, g) for sl in s.slots],
                                s.others_dev[g] if s.others_dev is not None else False)
        return c[g, id(self)]

    def slot_holds_dev(self, sl: Slot, g: int):
        return OR(*[AND(c, devs[g]) for c, _, devs in device_holds(self, sl)])

    def holder_counts(self, s: SymState):
        for g, (_, name) in enumerate(self.P.devices):
            holders = [AND(c, devs[g]) for sl in s.slots for c, _, devs in device_holds(self, sl)]
            if s.others_dev is not None:
                holders.append(s.others_dev[g])
            yield name, COUNT(holders)

    def free_count(self, s: SymState, host):
        return SUM([ite(AND(EQ(host, hg), NOT(self.held(s, g))), 1, 0)
                    for g, (hg, _) in enumerate(self.P.devices)])

    def none_held(self, t: SymState, host, devs):
        return AND(*[IMP(AND(d, EQ(host, hg)), NOT(self.held(t, g)))
                     for g, (d, (hg, _)) in enumerate(zip(devs, self.P.devices, strict=True))])

    def slot_charge(self, sl: Slot, charges_of=None) -> list[list]:
        """What one slot charges each host, per resource class."""
        memo = sl.__dict__.setdefault("_charge", {})
        key = (id(self), charges_of)
        if key not in memo:
            rows = []
            for h in range(self.P.H):
                rows.append([SUM([ite(AND(c, EQ(host, h)), self.P.fvec(f, r), 0)
                                  for c, host, f in (charges_of or charges)(self, sl)])
                             for r in range(RC)])
            memo[key] = rows
        return memo[key]

    def holds(self, s: SymState, charges_of=None) -> list[list]:
        """The reconciliation equation, per host and resource class."""
        c = s.__dict__.setdefault("_holds", {})
        key = (id(self), charges_of)
        if key not in c:
            rows = [self.slot_charge(sl, charges_of) for sl in s.slots]
            if s.others_usage is not None:
                rows.append(s.others_usage)
            c[key] = [[SUM([x[h][r] for x in rows]) for r in range(RC)] for h in range(self.P.H)]
        return c[key]

    def fresh(self, s: SymState, mid):
        return EQ(mid, s.nmig + 1)

    @staticmethod
    def nmig(s: SymState):
        return s.nmig

    @staticmethod
    def changed(s: SymState, t: SymState):
        """(before, after) of every slot the step may have changed (unchanged: same object)."""
        return [(a, b) for a, b in zip(s.slots, t.slots, strict=True) if a is not b]

    def set_up(self, s: SymState, h, value) -> SymState:
        return replace(s, up=[ite(EQ(h, k), value, u) for k, u in enumerate(s.up)])

    def with_usage(self, s: SymState, h, vec) -> SymState:
        usage = [[ite(EQ(h, k), vec[r], s.usage[k][r]) for r in range(RC)] for k in range(self.P.H)]
        return replace(s, usage=usage, deltas=None)

    def each_slot(self, s: SymState, acts, effect) -> SymState:
        _, post, _, _ = self._compose(s, [acts(sl) for sl in s.slots],
                                      lambda i, sl: (True,) + tuple(effect(sl)) + (True,))
        return post

    def conjoin(self, rule, *args):
        """An invariant's rule as one term."""
        return AND(*[t[0] for t in rule(self, *args)])

    def picks_ok(self, s: SymState, picks: list, host, f):
        P = self.P
        return AND(COUNT(picks) == P.fdev(f),
                   *[IMP(p, AND(EQ(host, P.devices[g][0]), NOT(self.held(s, g))))
                     for g, p in enumerate(picks)])

    # ------------------------------------------------------------ transition

    def transition(self, s: SymState, a: StepArgs, picks: list | None = None) -> Transition:
        """The step's guard and effect on ``s``; ``picks`` are fresh Bools per device."""
        if picks is None:
            picks = [z3.Bool(f"pick{next(_fresh)}_{g}") for g in range(self.P.G)]
        sd = self.rules[a.kind]
        if sd.acts == "host":
            g = AND(*[t[1] for t in sd.when(self, s, a)])
            post = sd.then(self, s, a, picks)
            deltas = post.deltas
            return Transition(g, True, replace(post, deltas={}), picks, deltas)
        if sd.acts == "instance":
            acts = [False if a.only_slot not in (None, i) else EQ(a.instance, i)
                    for i in range(self.P.N)]
        else:
            acts = [False if a.only_slot not in (None, i) else AND(sl.mx, EQ(sl.mid, a.migration))
                    for i, sl in enumerate(s.slots)]

        accepted_by: list = []

        def per_slot(i, sl):
            g = AND(*[t[1] for t in sd.when(self, s, sl, a)])
            new, ch = sd.then(self, s, sl, a, picks)
            ok = True
            if sd.claim is not None:
                host, f = sd.claim(self, s, sl, a)
                ok = self.picks_ok(s, picks, host, f)
            if sd.schedule is None:
                return g, new, ch, ok
            # A step the scheduler may refuse has a transition either way: the
            # scheduling conjuncts pick the effect, ``then`` or ``refused``
            # (rejected, no picks: its record ends error).
            sched = AND(*[t[1] for t in sd.schedule(self, s, sl, a)])
            accepted_by.append((i, sched))
            ref, rch = sd.refused(self, s, sl, a)
            ch = [(AND(sched, c), h, f, sign) for c, h, f, sign in ch] + [
                (AND(NOT(sched), c), h, f, sign) for c, h, f, sign in rch]
            return g, ite(sched, new, ref), ch, ite(sched, ok, NOT(OR(*picks)))

        g, post, pk, by_slot = self._compose(s, acts, per_slot,
                                             nmig=s.nmig + 1 if sd.creates else None)
        accepted = True
        if accepted_by:
            accepted = OR(*[AND(acts[i], c) for i, c in accepted_by])
        return Transition(g, pk, replace(post, deltas={}), picks, by_slot, accepted)

    def _compose(self, s: SymState, acts: list, per_slot, nmig=None
                 ) -> tuple[Any, SymState, Any, dict]:
        """Run ``per_slot(i, slot) -> (guard, new slot, [(cond, host, flavor, sign)], picks_ok)``
        for every slot that may act and merge: guard = some acting slot's guard."""
        P = self.P
        guards, picks_all, slots = [], [], []
        deltas: list = []
        by_slot: dict[int, list] = {}
        for i, (sl, act) in enumerate(zip(s.slots, acts, strict=True)):
            if act is False:
                slots.append(sl)
                continue
            g, new, dl, pk = per_slot(i, sl)
            guards.append(AND(act, g))
            picks_all.append(IMP(act, pk))
            slots.append(ite(act, new, sl))
            by_slot[i] = [(AND(act, c), h, f, sign) for c, h, f, sign in dl]
            deltas += by_slot[i]
        new_usage = []
        for h in range(P.H):
            row = []
            for r in range(RC):
                terms = [s.usage[h][r]] + [ite(AND(c, EQ(hh, h)), sign * P.fvec(f, r), 0)
                                           for c, hh, f, sign in deltas]
                row.append(SUM(terms) if len(terms) > 1 else terms[0])
            new_usage.append(row)
        post = replace(s, usage=new_usage, slots=slots, nmig=nmig if nmig is not None else s.nmig,
                       deltas=by_slot)
        return OR(*guards), post, AND(*picks_all), by_slot

    # ------------------------------------------------------------ initial states

    def initial(self, s: SymState, up_free: bool = True):
        """No instances, no migrations, zero usage; hosts up or down as given (free)."""
        conds = [EQ(s.nmig, 0)] + [u == 0 for row in s.usage for u in row]
        for sl in s.slots:
            conds += [EQ(sl.vm, VM_NONE), NOT(sl.mx), EQ(sl.older, 0), NOT(sl.mc), NOT(sl.gone),
                      NOT(sl.wx)]
            conds += [canonical_slot(self.P, sl)]
        return AND(*conds)


def canonical_slot(P: Params, sl: Slot):
    """Fields that do not apply hold fixed values, as :func:`encode_state` writes them
    (so that the transition relation is deterministic up to device picks)."""
    return AND(
        IMP(EQ(sl.vm, VM_NONE), AND(EQ(sl.host, 0), EQ(sl.flavor, 0), EQ(sl.oldf, NONE),
                                       EQ(sl.newf, NONE), NOT(OR(*sl.dev)))),
        IMP(NOT(sl.mc), NOT(OR(*sl.mco, *sl.mcn))),
        IMP(NOT(sl.wx), AND(EQ(sl.wsrc, 0), EQ(sl.wflv, NONE), NOT(OR(*sl.wdev)))),
        IMP(NOT(IN(sl.vm, (VM_ACT, VM_RSZ, VM_ERR))), EQ(sl.bootf, NONE)),
        IMP(NOT(sl.mx), AND(*[EQ(getattr(sl, n), 0) for n in
                              ("mid", "mtype", "mst", "msrc", "mdst", "mold", "mnew")])),
    )


# --------------------------------------------------------------------------- invariants as terms
# The invariants are the rules of movecheck.spec.invariants, conjoined; the
# encoding adds two facts of its own (codes in range, migration numbering).


def well_typed(S: SymbolicSpec, s: SymState):
    """Every code is in range, a status belongs to its type's machine, unused fields are fixed."""
    from movecheck.spec.steps import alive

    P = S.P
    F = len(P.flavors)
    conds = [s.nmig >= 0]
    for sl in s.slots:
        rng = lambda x, n: AND(x >= 0, x < n)  # noqa: E731
        conds += [rng(sl.vm, len(VM_NAME) + 1), rng(sl.host, P.H), rng(sl.flavor, F), sl.older >= 0,
                  OR(EQ(sl.oldf, NONE), rng(sl.oldf, F)), OR(EQ(sl.newf, NONE), rng(sl.newf, F)),
                  canonical_slot(P, sl),
                  IMP(NOT(alive(sl)), AND(EQ(sl.oldf, NONE), EQ(sl.newf, NONE))),
                  IMP(sl.mx, AND(rng(sl.mtype, len(TY)), rng(sl.mst, len(ST)),
                                 rng(sl.msrc, P.H), rng(sl.mdst, P.H), rng(sl.mold, F),
                                 rng(sl.mnew, F), STATUS_OF_TYPE.has(sl.mtype, sl.mst))),
                  IMP(sl.mx, NOT(EQ(sl.vm, VM_NONE))),
                  IMP(sl.mc, sl.mx),
                  IMP(sl.wx, AND(rng(sl.wsrc, P.H), rng(sl.wflv, F))),
                  IMP(alive(sl), rng(sl.bootf, F))]
    return AND(*conds)


def migration_numbers(S: SymbolicSpec, s: SymState):
    """Records are numbered 1..nmig, each number used once (ids are handed out in order)."""
    conds = []
    for i, a in enumerate(s.slots):
        conds.append(IMP(a.mx, AND(a.mid >= 1, a.mid <= s.nmig)))
        for b in s.slots[i + 1:]:
            conds.append(IMP(AND(a.mx, b.mx), a.mid != b.mid))
    return AND(*conds)


def _state_term(rule):
    return lambda S, s: S.conjoin(rule, s)


def _transition_term(rule):
    return lambda S, s, a, t: S.conjoin(rule, s, a, t)


#: One-state invariants as terms, by the names of spec.invariants.INVARIANTS.
STATE = {n: _state_term(i.rule) for n, i in INVARIANTS.items() if i.kind == "state"}

#: Facts of the encoding (hypotheses of every proof, proved like the invariants).
ABSTRACTION = {"well_typed": well_typed, "migration_numbers": migration_numbers,
               **{n: _state_term(r) for n, r in _SPEC_ABSTRACTION.items()}}

#: Two-state properties as terms.
TRANSITION = {n: _transition_term(i.rule) for n, i in INVARIANTS.items() if i.kind == "transition"}

__all__ = [
    "ABSTRACTION", "NONE", "Params", "RC", "STATE", "Slot", "StepArgs", "SymState", "SymbolicSpec",
    "TRANSITION", "Transition", "all_step_args", "canonical_slot", "concrete_params", "decode",
    "encode_state", "fresh_state", "migration_number", "states_equal", "step_args",
    "symbolic_params", "to_bool", "well_typed", "migration_numbers",
]
