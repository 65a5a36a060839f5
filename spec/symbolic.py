"""The symbolic (Z3) interpretation of the spec (docs/proofs.md).

The same state, guards, effects and invariants as :mod:`movecheck.spec.concrete`,
written as Z3 terms over a bounded cloud (H hosts, N instance slots, the
cloud's named devices, F flavors).  Capacities, flavor sizes, flavor device
counts and the migration bound are :class:`Params`: Z3 constants taken from
the cloud (:func:`concrete_params`) or left free (:func:`symbolic_params`, for
``movecheck prove``).  ``tests/test_symbolic_agreement.py`` cross-checks this
module against the concrete spec on generated reachable states and steps;
that test cannot pass if the two drift.

The abstraction (docs/proofs.md, "The symbolic state"):

- per instance slot: vm_state (never booted / active / resized / deleted),
  host, flavor, old/new flavor (-1 = none), the devices it holds, its
  MigrationContext (old/new devices) and ONE migration record, its latest
  one.  Terminal migrations hold nothing and never change, so older records
  are summarised by ``older``: how many of them are still in progress (0 in
  every reachable state; ``single_move`` is ``older + latest in progress <= 1``);
- devices are global (host, name) pairs, one Bool per holder and device;
- migrations are numbered in creation order (m1, m2, ...): a new migration
  must take number ``nmig + 1`` — the order in which
  :meth:`Spec.candidate_steps` hands ids out;
- capacity (total - reserved) x allocation_ratio is one integer per host and
  resource class: usage is an integer, so ``usage <= c`` iff
  ``usage <= floor(c)``, and every floor is reached by some (total, reserved,
  ratio), so a free ``cap >= 0`` covers exactly every inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import count
from typing import Any

import z3

from movecheck.spec.concrete import Spec, State
from movecheck.spec.statuses import (
    ALL_STATUSES,
    ALLOWED_EDGES,
    DEST_CLAIMED,
    FAILURE_STATUS,
    LANDED,
    NEW,
    TERMINAL,
)
from movecheck.spec.statuses import STATUS_MACHINES as _SM
from movecheck.spec.vocab import (
    EVACUATION,
    LIVE_MIGRATION,
    MIGRATION,
    MIGRATION_TYPES,
    RESIZE,
    RESOURCE_CLASSES,
    VM_ACTIVE,
    VM_DELETED,
    VM_RESIZED,
    Cloud,
    Flavor,
    Host,
    Instance,
    Inventory,
    Migration,
    MigrationContext,
    Step,
)

RC = len(RESOURCE_CLASSES)

# vm_state codes; NONE = the slot was never booted.
VM_NONE, VM_ACT, VM_RSZ, VM_DEL = 0, 1, 2, 3
VM_CODE = {VM_ACTIVE: VM_ACT, VM_RESIZED: VM_RSZ, VM_DELETED: VM_DEL}
VM_NAME = {v: k for k, v in VM_CODE.items()}

STATUSES: tuple[str, ...] = tuple(sorted(ALL_STATUSES))
ST = {s: k for k, s in enumerate(STATUSES)}
TY = {t: k for k, t in enumerate(MIGRATION_TYPES)}
NONE = -1  # "no flavor" for old/new flavor


def _pairs(table: dict[str, frozenset[str]]) -> tuple[tuple[int, int], ...]:
    return tuple((TY[t], ST[s]) for t, ss in table.items() for s in sorted(ss))


NONTERMINAL = tuple(
    (TY[t], ST[s]) for t, g in _SM.items() for s in sorted(g.nodes) if s != NEW and s not in TERMINAL[t]
)
LANDED_PAIRS = _pairs(LANDED)
CLAIMED_PAIRS = _pairs(DEST_CLAIMED)
STATUS_OF_TYPE = tuple((TY[t], ST[s]) for t, g in _SM.items() for s in sorted(g.nodes) if s != NEW)


# --------------------------------------------------------------------------- term helpers
# Python bools/ints short-circuit so that concrete step parameters prune the
# formulas at build time (a step on slot 0 does not mention slot 3's guard).


def is_py(x) -> bool:
    return isinstance(x, (bool, int))


def ite(c, a, b):
    if c is True:
        return a
    if c is False:
        return b
    if a is b:
        return a
    return z3.If(c, a, b)


def AND(*xs):
    out = []
    for x in xs:
        if x is True:
            continue
        if x is False:
            return False
        out.append(x)
    if not out:
        return True
    return out[0] if len(out) == 1 else z3.And(*out)


def OR(*xs):
    out = []
    for x in xs:
        if x is False:
            continue
        if x is True:
            return True
        out.append(x)
    if not out:
        return False
    return out[0] if len(out) == 1 else z3.Or(*out)


def NOT(x):
    if x is True:
        return False
    if x is False:
        return True
    return z3.Not(x)


def IMP(a, b):
    return OR(NOT(a), b)


def EQ(a, b):
    if is_py(a) and is_py(b):
        return a == b
    return a == b


def NE(a, b):
    return NOT(EQ(a, b))


def SUM(xs):
    xs = [x for x in xs if not (is_py(x) and x == 0)]
    if not xs:
        return 0
    if len(xs) == 1:
        return xs[0]
    return z3.Sum(xs)


def sel(values, idx):
    """values[idx] for a Python or Z3 index (an If-chain)."""
    if is_py(idx):
        return values[idx] if 0 <= idx < len(values) else values[0]
    out = values[-1]
    for k in range(len(values) - 2, -1, -1):
        out = ite(idx == k, values[k], out)
    return out


def IN(x, codes) -> Any:
    return OR(*[EQ(x, c) for c in codes])


def pair_in(t, s, pairs) -> Any:
    """(type, status) in ``pairs``: one combined code against a list of constants."""
    if is_py(t) and is_py(s):
        return (t, s) in pairs
    code = t * len(STATUSES) + s
    return IN(code, sorted({a * len(STATUSES) + b for a, b in pairs}))


def cached(method):
    """Memoise a term built from one slot (slots are rebuilt, never mutated, by steps):
    the same derived term is then one shared Z3 node, built once."""
    name = method.__name__

    def wrapper(self, sl):
        c = sl.__dict__.setdefault("_terms", {})
        key = (name, id(self))
        if key not in c:
            c[key] = method(self, sl)
        return c[key]

    wrapper.__name__ = name
    wrapper.__doc__ = method.__doc__
    return wrapper


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


def concrete_params(cloud: Cloud) -> Params:
    """The cloud's own numbers, as Z3 constants."""
    spec = Spec(cloud)
    return Params(
        hosts=cloud.host_names, flavors=cloud.flavor_names, instances=cloud.instances,
        devices=_global_devices(cloud),
        cap=[[z3.IntVal(int(c // 1)) for c in spec.capacity[k]] for k in range(len(cloud.hosts))],
        vec=[[z3.IntVal(x) for x in f.vector()] for f in cloud.flavors],
        ndev=[z3.IntVal(f.devices) for f in cloud.flavors],
        max_migrations=z3.IntVal(cloud.max_migrations),
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
    """One instance slot and its latest migration record."""

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
    older: Any  # older records still in progress (0 when single_move holds)

    SCALARS = ("vm", "host", "flavor", "oldf", "newf", "mc", "mx", "mid", "mtype", "mst", "msrc",
               "mdst", "mold", "mnew", "older")
    VECTORS = ("dev", "mco", "mcn")


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
            **{x: (z3.Bool(n(x)) if x in ("mc", "mx") else z3.Int(n(x))) for x in Slot.SCALARS},
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


# --------------------------------------------------------------------------- concrete <-> symbolic


def encode_state(spec: Spec, state: State) -> SymState:
    """The symbolic image of a concrete state, as Z3 constants.

    Each instance's latest migration becomes its record; older in-progress
    records are counted in ``older``.  Raises ValueError for a state the
    abstraction cannot represent (a MigrationContext naming another migration
    than the instance's latest; a device name its host does not have).
    """
    cloud = spec.cloud
    gindex = {(cloud.hosts[k].name, d): g for g, (k, d) in enumerate(_global_devices(cloud))}
    G = len(gindex)
    fidx = {f: k for k, f in enumerate(cloud.flavor_names)}
    Iv, B = z3.IntVal, z3.BoolVal

    def gset(host: str, names) -> list:
        out = [False] * G
        for d in names:
            if (host, d) not in gindex:
                raise ValueError(f"{d} is not a device of {host}")
            out[gindex[host, d]] = True
        return [B(x) for x in out]

    latest: dict[str, Migration] = {}
    older: dict[str, int] = {}
    for m in state.migrations:
        if m.instance in latest:
            prev = latest[m.instance]
            older[m.instance] = older.get(m.instance, 0) + (prev.status not in TERMINAL[prev.migration_type])
        latest[m.instance] = m
    slots = []
    for iid, inst in zip(cloud.instances, state.instances, strict=True):
        m = latest.get(iid)
        if inst is None:
            vm, host, flavor, oldf, newf, dev = VM_NONE, 0, 0, NONE, NONE, gset("", ())
        else:
            vm = VM_CODE[inst.vm_state]
            host, flavor = spec.host_index[inst.host], fidx[inst.flavor]
            oldf = NONE if inst.old_flavor is None else fidx[inst.old_flavor]
            newf = NONE if inst.new_flavor is None else fidx[inst.new_flavor]
            dev = gset(inst.host, inst.devices)
        mc = inst.migration_context if inst is not None else None
        if mc is not None:
            if m is None or mc.migration_id != m.id:
                raise ValueError(f"{iid}'s MigrationContext names {mc.migration_id}, "
                                 "not its latest migration")
            mco, mcn = gset(m.source, mc.old_devices), gset(m.dest, mc.new_devices)
        else:
            mco = mcn = gset("", ())
        if m is None:
            mrec = dict(mx=B(False), mid=Iv(0), mtype=Iv(0), mst=Iv(0), msrc=Iv(0), mdst=Iv(0),
                        mold=Iv(0), mnew=Iv(0))
        else:
            mrec = dict(mx=B(True), mid=Iv(int(m.id[1:])), mtype=Iv(TY[m.migration_type]),
                        mst=Iv(ST[m.status]), msrc=Iv(spec.host_index[m.source]),
                        mdst=Iv(spec.host_index[m.dest]), mold=Iv(fidx[m.old_flavor]),
                        mnew=Iv(fidx[m.new_flavor]))
        slots.append(Slot(vm=Iv(vm), host=Iv(host), flavor=Iv(flavor), oldf=Iv(oldf), newf=Iv(newf),
                          dev=dev, mc=B(mc is not None), mco=mco, mcn=mcn,
                          older=Iv(older.get(iid, 0)), **mrec))
    return SymState(
        up=[B(u) for u in state.up],
        usage=[[Iv(x) for x in row] for row in state.usage],
        slots=slots,
        nmig=Iv(len(state.migrations)),
    )


def migration_number(mid: str) -> int | None:
    """m7 -> 7; None for a name the symbolic spec cannot number."""
    if len(mid) > 1 and mid[0] == "m" and mid[1:].isdigit():
        return int(mid[1:])
    return None


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepArgs:
    """A step's parameters as indices (Python ints or Z3 terms).

    ``only_slot`` restricts the acting instance/migration to one slot (the
    instance symmetry used by the proofs, docs/proofs.md).
    """

    kind: str
    mig: Any = None
    inst: Any = None
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
        mig=None if step.migration is None else migration_number(step.migration),
        inst=idx(spec.slot, step.instance),
        host=idx(spec.host_index, step.host),
        dest=idx(spec.host_index, step.dest),
        flavor=idx({f: k for k, f in enumerate(spec.cloud.flavor_names)}, step.flavor),
    )
    if "?" in (a.inst, a.host, a.dest, a.flavor):
        return None
    if step.migration is not None and a.mig is None:
        return None
    return a


@dataclass
class Transition:
    """``enabled`` (the guard), ``picks_ok`` (legal device picks) and the successor terms."""

    enabled: Any
    picks_ok: Any
    post: SymState
    picks: list
    #: per slot index: the usage changes the step attributes to that slot,
    #: [(condition, host, flavor, sign)]; None when the step writes usage
    #: without attributing it (audit).
    slot_deltas: dict | None = None


class SymbolicSpec:
    """Guards, effects and invariants as Z3 terms; one method per step and invariant.

    Spec mutants (:mod:`movecheck.spec.engines.spec_mutants`) subclass this and
    override one method.
    """

    name = "spec"

    def __init__(self, P: Params):
        self.P = P

    # ------------------------------------------------------------ derived terms

    @cached
    def alive(self, sl: Slot):
        return OR(EQ(sl.vm, VM_ACT), EQ(sl.vm, VM_RSZ))

    @cached
    def in_progress(self, sl: Slot):
        return AND(sl.mx, pair_in(sl.mtype, sl.mst, NONTERMINAL))

    @cached
    def landed(self, sl: Slot):
        return pair_in(sl.mtype, sl.mst, LANDED_PAIRS)

    @cached
    def claimed(self, sl: Slot):
        return pair_in(sl.mtype, sl.mst, CLAIMED_PAIRS)

    def is_type(self, sl: Slot, *types: str):
        return IN(sl.mtype, [TY[t] for t in types])

    def is_status(self, sl: Slot, *statuses: str):
        return IN(sl.mst, [ST[s] for s in statuses])

    @cached
    def charged_flavor(self, sl: Slot):
        """Spec.charged_flavor: the new flavor while post-migrating with a context."""
        applied = AND(sl.mc, NE(sl.newf, NONE), sl.mx, EQ(sl.mst, ST["post-migrating"]))
        return ite(applied, sl.newf, sl.flavor)

    @cached
    def mig_hold(self, sl: Slot):
        """(condition, host, flavor) of the migration's own hold (Spec.migration_hold)."""
        ip = self.in_progress(sl)
        landed, claimed = self.landed(sl), self.claimed(sl)
        return (AND(ip, OR(landed, claimed)), ite(landed, sl.msrc, sl.mdst),
                ite(landed, sl.mold, sl.mnew))

    @cached
    def slot_charge(self, sl: Slot) -> list[list]:
        """What one slot (instance + its migration) charges each host, per resource class."""
        P = self.P
        cf = self.charged_flavor(sl)
        hc, hh, hf = self.mig_hold(sl)
        al = self.alive(sl)
        out = []
        for h in range(P.H):
            on = AND(al, EQ(sl.host, h))
            mon = AND(hc, EQ(hh, h))
            out.append([SUM([ite(on, P.fvec(cf, r), 0), ite(mon, P.fvec(hf, r), 0)])
                        for r in range(RC)])
        return out

    def holds(self, s: SymState) -> list[list]:
        """The reconciliation equation (Spec.holds), per host and resource class."""
        charges = [self.slot_charge(sl) for sl in s.slots]
        if s.others_usage is not None:
            charges.append(s.others_usage)
        return [[SUM([c[h][r] for c in charges]) for r in range(RC)] for h in range(self.P.H)]

    def inst_holds(self, sl: Slot, g: int):
        return AND(self.alive(sl), sl.dev[g])

    def mig_holds_dev(self, sl: Slot, g: int):
        hc, _, _ = self.mig_hold(sl)
        return AND(hc, sl.mc, ite(self.landed(sl), sl.mco[g], sl.mcn[g]))

    def held(self, s: SymState, g: int):
        c = s.__dict__.setdefault("_held", {})
        if (g, id(self)) not in c:
            c[g, id(self)] = OR(*[OR(self.inst_holds(sl, g), self.mig_holds_dev(sl, g))
                                  for sl in s.slots],
                                s.others_dev[g] if s.others_dev is not None else False)
        return c[g, id(self)]

    def free_count(self, s: SymState, host):
        return SUM([ite(AND(EQ(host, hg), NOT(self.held(s, g))), 1, 0)
                    for g, (hg, _) in enumerate(self.P.devices)])

    def fits(self, s: SymState, host, f):
        P = self.P
        return AND(*[sel([s.usage[h][r] for h in range(P.H)], host) + P.fvec(f, r)
                     <= sel([P.cap[h][r] for h in range(P.H)], host) for r in range(RC)])

    def claim_ok(self, s: SymState, host, f):
        return AND(self.fits(s, host, f), self.free_count(s, host) >= self.P.fdev(f))

    def picks_ok(self, s: SymState, picks: list, host, f):
        P = self.P
        cnt = SUM([ite(p, 1, 0) for p in picks])
        return AND(cnt == P.fdev(f),
                   *[IMP(p, AND(EQ(host, P.devices[g][0]), NOT(self.held(s, g))))
                     for g, p in enumerate(picks)])

    def up(self, s: SymState, h):
        return sel(s.up, h)

    # ------------------------------------------------------------ transition

    def transition(self, s: SymState, a: StepArgs, picks: list | None = None) -> Transition:
        """The step's guard and effect on ``s``; ``picks`` are fresh Bools per device."""
        if picks is None:
            picks = [z3.Bool(f"pick{next(_fresh)}_{g}") for g in range(self.P.G)]
        return getattr(self, "step_" + a.kind)(s, a, picks)

    # Acting slots.  Instance steps act on slot ``inst``; migration steps on the
    # slot whose latest migration has number ``mig``.
    def _acts_inst(self, s: SymState, a: StepArgs) -> list:
        return [False if a.only_slot not in (None, i) else EQ(a.inst, i) for i in range(self.P.N)]

    def _acts_mig(self, s: SymState, a: StepArgs) -> list:
        return [False if a.only_slot not in (None, i) else AND(sl.mx, EQ(sl.mid, a.mig))
                for i, sl in enumerate(s.slots)]

    def _compose(self, s: SymState, acts: list, per_slot, up=None, usage=None,
                 nmig=None) -> tuple[Any, SymState, Any, dict]:
        """Run ``per_slot(i, slot) -> (guard, new slot, [(host, flavor, sign)], picks_ok)``
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
            slots.append(merge_slot(act, new, sl))
            by_slot[i] = [(AND(act, c), h, f, sign) for c, h, f, sign in dl]
            deltas += by_slot[i]
        base = usage if usage is not None else s.usage
        new_usage = []
        for h in range(P.H):
            row = []
            for r in range(RC):
                terms = [base[h][r]] + [ite(AND(c, EQ(hh, h)), sign * P.fvec(f, r), 0)
                                        for c, hh, f, sign in deltas]
                row.append(SUM(terms) if len(terms) > 1 else terms[0])
            new_usage.append(row)
        post = replace(s, up=up if up is not None else s.up, usage=new_usage, slots=slots,
                       nmig=nmig if nmig is not None else s.nmig)
        return OR(*guards), post, AND(*picks_all), by_slot

    def _trans(self, s, acts, per_slot, picks, **kw) -> Transition:
        g, post, pk, by_slot = self._compose(s, acts, per_slot, **kw)
        return Transition(g, pk, post, picks, by_slot)

    # ---- boot / delete

    def step_boot(self, s, a, picks):
        def eff(i, sl):
            g = AND(EQ(sl.vm, VM_NONE), self.up(s, a.host), self.claim_ok(s, a.host, a.flavor))
            new = replace(sl, vm=VM_ACT, host=a.host, flavor=a.flavor, oldf=NONE, newf=NONE,
                          dev=list(picks), mc=False, mco=_no(self.P), mcn=_no(self.P))
            return g, new, [(True, a.host, a.flavor, +1)], self.picks_ok(s, picks, a.host, a.flavor)
        return self._trans(s, self._acts_inst(s, a), eff, picks)

    def _fail_effect(self, sl: Slot) -> tuple[Slot, list]:
        """Spec._fail: release the migration's hold; the instance stays where it is now."""
        hc, hh, hf = self.mig_hold(sl)
        failure = sel([ST[FAILURE_STATUS[t]] for t in MIGRATION_TYPES], sl.mtype)
        new = replace(sl, vm=VM_ACT, flavor=ite(self.landed(sl), sl.mnew, sl.flavor), oldf=NONE,
                      newf=NONE, mc=False, mco=_no(self.P), mcn=_no(self.P), mst=failure)
        return new, [(hc, hh, hf, -1)]

    def step_delete(self, s, a, picks):
        def eff(i, sl):
            ip = self.in_progress(sl)
            failed, dl = self._fail_effect(sl)
            cur = merge_slot(ip, failed, sl)
            dl = [(AND(ip, c), h, f, sg) for c, h, f, sg in dl]
            new = replace(cur, vm=VM_DEL, dev=_no(self.P), oldf=NONE, newf=NONE, mc=False,
                          mco=_no(self.P), mcn=_no(self.P))
            return self.alive(sl), new, dl + [(True, cur.host, cur.flavor, -1)], True
        return self._trans(s, self._acts_inst(s, a), eff, picks)

    def step_fail(self, s, a, picks):
        def eff(i, sl):
            new, dl = self._fail_effect(sl)
            return self.in_progress(sl), new, dl, True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    # ---- creating a migration

    def movable(self, s: SymState, sl: Slot, a: StepArgs, need_host_up: bool = True):
        """Spec._movable: exists, no in-progress move, hosts up, the next migration number."""
        return AND(self.alive(sl), NOT(self.in_progress(sl)), EQ(sl.older, 0),
                   self.up(s, sl.host) if need_host_up else True, self.up(s, a.dest),
                   EQ(a.mig, s.nmig + 1), s.nmig < self.P.max_migrations)

    def _create(self, sl: Slot, a: StepArgs, mtype, old, new, status: str) -> Slot:
        return replace(sl, mx=True, mid=a.mig, mtype=mtype, mst=ST[status], msrc=sl.host,
                       mdst=a.dest, mold=old, mnew=new,
                       older=sl.older + ite(self.in_progress(sl), 1, 0))

    def _claim_move(self, sl: Slot, picks) -> Slot:
        return replace(sl, mc=True, mco=list(sl.dev), mcn=list(picks))

    def step_resize_claim(self, s, a, picks):
        def eff(i, sl):
            g = AND(self.movable(s, sl, a), EQ(sl.vm, VM_ACT),
                    NOT(AND(EQ(a.dest, sl.host), EQ(a.flavor, sl.flavor))),
                    self.resize_claim_test(s, a.dest, a.flavor))
            new = self._create(sl, a, self.resize_type(sl, a), sl.flavor, a.flavor, "pre-migrating")
            new = self._claim_move(replace(new, oldf=sl.flavor, newf=a.flavor), picks)
            return (g, new, self.resize_claim_charges(sl, a),
                    self.picks_ok(s, picks, a.dest, a.flavor))
        return self._trans(s, self._acts_inst(s, a), eff, picks, nmig=s.nmig + 1)

    def resize_claim_test(self, s: SymState, host, f):
        """rt.resize_claim's MoveClaim test (Claim._test): capacity and devices."""
        return self.claim_ok(s, host, f)

    def resize_type(self, sl: Slot, a: StepArgs):
        """determine_migration_type: resize iff the flavor changes, else migration."""
        return ite(NE(a.flavor, sl.flavor), TY[RESIZE], TY[MIGRATION])

    def resize_claim_charges(self, sl: Slot, a: StepArgs) -> list:
        """The MoveClaim charges dest the new flavor (same host: on top of the old one)."""
        return [(True, a.dest, a.flavor, +1)]

    def step_live_claim(self, s, a, picks):
        def eff(i, sl):
            g = AND(self.movable(s, sl, a), EQ(sl.vm, VM_ACT), NE(a.dest, sl.host),
                    self.claim_ok(s, a.dest, sl.flavor))
            new = self._claim_move(
                self._create(sl, a, TY[LIVE_MIGRATION], sl.flavor, sl.flavor, "accepted"), picks)
            return g, new, [(True, a.dest, sl.flavor, +1)], self.picks_ok(s, picks, a.dest, sl.flavor)
        return self._trans(s, self._acts_inst(s, a), eff, picks, nmig=s.nmig + 1)

    def step_evacuate_start(self, s, a, picks):
        def eff(i, sl):
            g = AND(self.movable(s, sl, a, need_host_up=False), NOT(self.up(s, sl.host)),
                    NE(a.dest, sl.host))
            new = self._create(sl, a, TY[EVACUATION], sl.flavor, sl.flavor, "accepted")
            return g, new, [], True
        return self._trans(s, self._acts_inst(s, a), eff, picks, nmig=s.nmig + 1)

    # ---- status steps

    def _status_guard(self, s, sl, types, statuses, up):
        return AND(self.is_type(sl, *types), self.is_status(sl, *statuses),
                   *[self.up(s, getattr(sl, side)) for side in up])

    def _simple(self, s, a, picks, types, statuses, up, to):
        def eff(i, sl):
            return self._status_guard(s, sl, types, statuses, up), replace(sl, mst=ST[to]), [], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    _RZ = (RESIZE, MIGRATION)

    def step_resize_migrate(self, s, a, picks):
        return self._simple(s, a, picks, self._RZ, ("pre-migrating",), ("msrc",), "migrating")

    def _land(self, sl: Slot) -> Slot:
        return replace(sl, host=sl.mdst, dev=list(sl.mcn))

    def step_resize_migrated(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, self._RZ, ("migrating",), ("msrc",))
            return g, self._land(replace(sl, mst=ST["post-migrating"])), [], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_finish_resize(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, self._RZ, ("post-migrating",), ("mdst",))
            return g, replace(sl, mst=ST["finished"], flavor=sl.mnew, vm=VM_RSZ), [], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_confirm(self, s, a, picks):
        return self._simple(s, a, picks, self._RZ, ("finished",), (), "confirming")

    def _end_move(self, sl: Slot, status: str) -> tuple[Slot, list]:
        """Spec._end_move: release the migration's hold, drop the context, final status."""
        hc, hh, hf = self.mig_hold(sl)
        new = replace(sl, oldf=NONE, newf=NONE, mc=False, mco=_no(self.P), mcn=_no(self.P),
                      vm=VM_ACT, mst=ST[status])
        return new, [(hc, hh, hf, -1)]

    def step_confirm_finish(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, self._RZ, ("confirming",), ("msrc",))
            new, dl = self._end_move(sl, "confirmed")
            return g, new, dl, True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_revert(self, s, a, picks):
        return self._simple(s, a, picks, self._RZ, ("finished",), (), "reverting")

    def step_revert_finish(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, self._RZ, ("reverting",), ("mdst", "msrc"))
            new = replace(sl, host=sl.msrc, flavor=sl.mold, oldf=NONE, newf=NONE, dev=list(sl.mco),
                          mc=False, mco=_no(self.P), mcn=_no(self.P), vm=VM_ACT, mst=ST["reverted"])
            return g, new, [(True, sl.mdst, sl.mnew, -1)], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_live_queue(self, s, a, picks):
        return self._simple(s, a, picks, (LIVE_MIGRATION,), ("accepted",), ("msrc",), "queued")

    def step_live_prepare(self, s, a, picks):
        return self._simple(s, a, picks, (LIVE_MIGRATION,), ("queued",), ("msrc", "mdst"), "preparing")

    def step_live_run(self, s, a, picks):
        return self._simple(s, a, picks, (LIVE_MIGRATION,), ("preparing",), ("msrc",), "running")

    def step_live_complete(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, (LIVE_MIGRATION,), ("running",), ("msrc", "mdst"))
            new = replace(self._land(sl), mc=False, mco=_no(self.P), mcn=_no(self.P),
                          mst=ST["completed"])
            return g, new, [(True, sl.msrc, sl.mold, -1)], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_live_abort(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, (LIVE_MIGRATION,), ("queued", "preparing", "running"),
                                   ("msrc", "mdst"))
            new, dl = self._end_move(sl, "cancelled")
            return g, new, dl, True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_rebuild_claim(self, s, a, picks):
        def eff(i, sl):
            g = AND(self._status_guard(s, sl, (EVACUATION,), ("accepted",), ("mdst",)),
                    self.claim_ok(s, sl.mdst, sl.mnew))
            new = self._claim_move(replace(sl, mst=ST["pre-migrating"]), picks)
            return g, new, [(True, sl.mdst, sl.mnew, +1)], self.picks_ok(s, picks, sl.mdst, sl.mnew)
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    def step_finish_evacuation(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, (EVACUATION,), ("pre-migrating",), ("mdst",))
            return g, self._land(replace(sl, mst=ST["done"])), [], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)

    # ---- hosts

    def _set_up(self, s, h, value):
        return [ite(EQ(h, k), value, u) for k, u in enumerate(s.up)]

    def step_host_down(self, s, a, picks):
        return Transition(self.up(s, a.host), True,
                          replace(s, up=self._set_up(s, a.host, False)), picks, {})

    def step_host_up(self, s, a, picks):
        """init_host: done evacuations from the host complete, unfinished ones fail."""
        up2 = self._set_up(s, a.host, True)

        def eff(i, sl):
            done = EQ(sl.mst, ST["done"])
            ended, dl_end = self._end_move(sl, "completed")
            failed, dl_fail = self._fail_effect(sl)
            new = merge_slot(done, ended, failed)
            dl = [(AND(done, c), h, f, sg) for c, h, f, sg in dl_end]
            dl += [(AND(NOT(done), c), h, f, sg) for c, h, f, sg in dl_fail]
            return True, new, dl, True

        acts = [AND(sl.mx, EQ(sl.mtype, TY[EVACUATION]), EQ(sl.msrc, a.host), self.in_progress(sl))
                for sl in s.slots]
        _, post, _, by_slot = self._compose(s, acts, eff, up=up2)
        return Transition(NOT(self.up(s, a.host)), True, post, picks, by_slot)

    def step_audit(self, s, a, picks):
        rec = self.holds(s)
        usage = [[ite(EQ(a.host, h), rec[h][r], s.usage[h][r]) for r in range(RC)]
                 for h in range(self.P.H)]
        return Transition(self.up(s, a.host), True, replace(s, usage=usage), picks)

    # ------------------------------------------------------------ initial states

    def initial(self, s: SymState, up_free: bool = True):
        """No instances, no migrations, zero usage; hosts up or down as given (free)."""
        P = self.P
        conds = [EQ(s.nmig, 0)] + [u == 0 for row in s.usage for u in row]
        for sl in s.slots:
            conds += [EQ(sl.vm, VM_NONE), NOT(sl.mx), EQ(sl.older, 0), NOT(sl.mc)]
            conds += [canonical_slot(P, sl)]
        return AND(*conds)


def _no(P: Params) -> list:
    return [False] * P.G


def merge_slot(c, a: Slot, b: Slot) -> Slot:
    """If(c, a, b) field by field."""
    kw = {n: ite(c, getattr(a, n), getattr(b, n)) for n in Slot.SCALARS}
    kw.update({n: [ite(c, x, y) for x, y in zip(getattr(a, n), getattr(b, n), strict=True)]
               for n in Slot.VECTORS})
    return Slot(**kw)


def canonical_slot(P: Params, sl: Slot):
    """Fields that do not apply hold fixed values, as :func:`encode_state` writes them
    (so that the transition relation is deterministic up to device picks)."""
    return AND(
        IMP(EQ(sl.vm, VM_NONE), AND(EQ(sl.host, 0), EQ(sl.flavor, 0), EQ(sl.oldf, NONE),
                                       EQ(sl.newf, NONE), NOT(OR(*sl.dev)))),
        IMP(NOT(sl.mc), NOT(OR(*sl.mco, *sl.mcn))),
        IMP(NOT(sl.mx), AND(*[EQ(getattr(sl, n), 0) for n in
                              ("mid", "mtype", "mst", "msrc", "mdst", "mold", "mnew")])),
    )


# --------------------------------------------------------------------------- decoding models


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
        return cloud.flavor_names[k] if 0 <= k < len(cloud.flavor_names) else f"flavor#{k}"

    def names(bits) -> tuple[str, ...]:
        return tuple(P.devices[g][1] for g, b in enumerate(bits) if bv(b))

    instances, migrations = [], []
    for iid, sl in zip(cloud.instances, s.slots, strict=True):
        m = None
        if bv(sl.mx):
            t, stc = iv(sl.mtype), iv(sl.mst)
            m = Migration(f"m{iv(sl.mid)}", iid,
                          MIGRATION_TYPES[t] if 0 <= t < len(MIGRATION_TYPES) else f"type#{t}",
                          hname(sl.msrc), hname(sl.mdst), fname(sl.mold), fname(sl.mnew),
                          STATUSES[stc] if 0 <= stc < len(STATUSES) else f"status#{stc}")
            migrations.append(m)
        vm = iv(sl.vm)
        if vm == VM_NONE:
            instances.append(None)
            continue
        mc = None
        if bv(sl.mc):
            mc = MigrationContext(m.id if m else "m?", names(sl.mco), names(sl.mcn))
        on = lambda x: None if iv(x) == NONE else fname(x)  # noqa: E731
        instances.append(Instance(iid, VM_NAME.get(vm, f"vm#{vm}"), hname(sl.host), fname(sl.flavor),
                                  on(sl.oldf), on(sl.newf), names(sl.dev), mc))
    migrations.sort(key=lambda m: int(m.id[1:]) if m.id[1:].isdigit() else 0)
    state = State(up=tuple(bv(u) for u in s.up),
                  usage=tuple(tuple(iv(u) for u in row) for row in s.usage),
                  instances=tuple(instances), migrations=tuple(migrations))
    return dcloud, state


def all_step_args(P: Params, kind: str, tag: str, only_slot: int | None = None) -> tuple[StepArgs, list]:
    """StepArgs with free Z3 parameters for ``kind`` and their range constraints."""
    from movecheck.spec.steps import STEPS

    params = STEPS[kind].params
    kw: dict[str, Any] = {}
    cons = []
    if "migration" in params:
        kw["mig"] = z3.Int(f"{tag}_mig")
    if "instance" in params:
        if only_slot is not None:
            kw["inst"] = only_slot
        else:
            kw["inst"] = z3.Int(f"{tag}_inst")
            cons.append(z3.And(kw["inst"] >= 0, kw["inst"] < P.N))
    for p, n in (("host", P.H), ("dest", P.H), ("flavor", len(P.flavors))):
        if p in params:
            kw[p] = z3.Int(f"{tag}_{p}")
            cons.append(z3.And(kw[p] >= 0, kw[p] < n))
    return StepArgs(kind, only_slot=only_slot, **kw), cons


__all__ = [
    "ALLOWED_EDGES", "Params", "SymState", "Slot", "StepArgs", "SymbolicSpec", "Transition",
    "concrete_params", "symbolic_params", "encode_state", "step_args", "fresh_state", "decode",
    "states_equal", "to_bool", "all_step_args",
]
