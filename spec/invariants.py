"""The spec's invariants: each defined once, in this file (docs/spec.md, "Invariants"; docs/one-spec.md).

Each invariant has a name (used in every report), a kind (``state`` for a
one-state invariant, ``transition`` for a two-state property over a step), the
Nova bug IDs it guards against (Launchpad bug numbers, docs/bugs.md) and a rule.  Like the
steps' rules (:mod:`movecheck.spec.steps`), a rule is written once over the
operations of :mod:`movecheck.spec.interpret.terms` and read twice: it yields
``(condition, message, *arguments)`` conjuncts; the concrete reading reports
the message of every false one (:func:`violations`), the Z3 reading conjoins
them (:mod:`movecheck.spec.interpret.z3`).  ``message`` is a format string or a
function of the arguments, only called when the conjunct is false.

``auxiliary`` invariants are not among the invariants a user states; they strengthen the others so
that induction goes through, and are proved like them.  :data:`ABSTRACTION`
holds the facts the Z3 reading needs about its own encoding (docs/proofs.md);
the one written here (``context_devices``) is a fact of the spec that the
concrete reading checks too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from movecheck.spec.interpret.terms import AND, EQ, IMP, NE, NOT, OR, SUM, ite
from movecheck.spec.state import ST, TY, VM_DEL, VM_RSZ
from movecheck.spec.statuses import ALLOWED_EDGES, NEW, TERMINAL, edge_step_names
from movecheck.spec.steps import (
    alive,
    charged_flavor,
    device_holds,
    in_progress,
    landed,
    migration_hold,
    status_is,
    type_is,
)
from movecheck.spec.vocab import EVACUATION, MIGRATION, MIGRATION_TYPES, RESIZE, RESOURCE_CLASSES, Step


@dataclass(frozen=True)
class Invariant:
    name: str
    kind: str  # "state" | "transition"
    statement: str
    bugs: tuple[str, ...]
    auxiliary: bool
    rule: Callable  # (x, s) or (x, s, step, t) -> conjuncts

    def check(self, spec, *args) -> list[str]:
        """The ways the state (or transition) breaks the invariant, in the concrete reading."""
        return spec.messages(self.rule, *args)


def _vec(v) -> str:
    return str(dict(zip(RESOURCE_CLASSES, v, strict=True)))


def _usage_msg(host, got, want) -> str:
    return f"{host} usage {_vec(got)} != recomputed {_vec(want)}"


# ----------------------------------------------------------------- one-state


def capacity(x, s):
    for h in x.hosts:
        u, c = x.usage(s, h), x.cap(h)
        for r, rc in enumerate(RESOURCE_CLASSES):
            yield u[r] <= c[r], "{} {} usage {} > capacity {}", h, rc, u[r], x.cap_exact(h, r)


def non_negative(x, s):
    for h in x.hosts:
        u = x.usage(s, h)
        for r, rc in enumerate(RESOURCE_CLASSES):
            yield u[r] >= 0, "{} {} usage {} < 0", h, rc, u[r]


def conservation(x, s):
    rec = x.holds(s)
    for h in x.hosts:
        yield x.veq(x.usage(s, h), rec[h]), _usage_msg, h, x.usage(s, h), rec[h]


def _resize_flavor_ok(sl):
    """A resizing instance has the new flavor from finished on, the old before; and
    old/new flavor are the migration's."""
    want = ite(status_is(sl, "finished", "confirming", "reverting"), sl.mnew, sl.mold)
    return AND(EQ(sl.flavor, want), EQ(sl.oldf, sl.mold), EQ(sl.newf, sl.mnew))


def exactly_once(x, s):
    rec = x.holds(s)
    for sl in s.slots:
        moving = in_progress(sl)
        if moving is False:
            continue  # (a Python False premise: the conjuncts hold in both readings)
        live = AND(moving, alive(sl))
        want_host = ite(landed(sl), sl.mdst, sl.msrc)
        yield IMP(live, EQ(sl.host, want_host)), "{} is {:status} but {} is on {}, not {}", \
            sl.mid, sl.mst, sl.iid, sl.host, want_host
        flavor_ok = ite(type_is(sl, RESIZE, MIGRATION), _resize_flavor_ok(sl),
                        AND(EQ(sl.flavor, sl.mold), EQ(sl.mold, sl.mnew)))
        yield IMP(live, flavor_ok), "{} is {:status} but {} has flavor {} (old {}, new {})", \
            sl.mid, sl.mst, sl.iid, sl.flavor, sl.oldf, sl.newf
        for h in x.hosts:
            touched = AND(moving, OR(EQ(sl.msrc, h), EQ(sl.mdst, h)))
            if touched is not False:
                yield IMP(touched, x.veq(x.usage(s, h), rec[h])), _usage_msg, h, x.usage(s, h), \
                    rec[h]


def devices_exclusive(x, s):
    for dev, n in x.holder_counts(s):
        yield n <= 1, "device {} is held {} times", dev, n
    for sl in s.slots:
        for held, host, devs in device_holds(x, sl):
            if held is not False:
                yield IMP(held, x.dev_on(devs, host)), \
                    "{} holds {}, which are not all devices of {}", sl.iid, devs, host
        if sl.wx is not False:
            yield IMP(sl.wx, EQ(x.dev_count(sl.wdev), x.fdev(sl.wflv))), \
                "{} waits for {} to free {} devices, flavor {} needs {}", sl.iid, sl.wsrc, \
                x.dev_count(sl.wdev), sl.wflv, x.fdev(sl.wflv)
        live = alive(sl)
        if live is False:
            continue
        f = charged_flavor(x, sl)
        if sl.gone is not False:  # (its host dropped it: the devices are no longer held)
            yield IMP(AND(live, sl.gone), x.dev_on(sl.dev, sl.host)), \
                "{} lists {}, which are not all devices of {}", sl.iid, sl.dev, sl.host
        yield IMP(live, EQ(x.dev_count(sl.dev), x.fdev(f))), \
            "{} holds {} devices, flavor {} needs {}", sl.iid, x.dev_count(sl.dev), f, x.fdev(f)
        has = AND(live, sl.mc)
        if has is False:
            continue
        want = ite(landed(sl), sl.mcn, sl.mco)
        yield IMP(has, x.dev_eq(sl.dev, want)), "{} holds {}, its MigrationContext says {}", \
            sl.iid, sl.dev, want
        yield IMP(has, EQ(x.dev_count(sl.mcn), x.fdev(sl.mnew))), \
            "{} claimed {} devices, {} needs {}", sl.mid, x.dev_count(sl.mcn), sl.mnew, x.fdev(sl.mnew)


def single_move(x, s):
    for sl in s.slots:
        n = sl.older + ite(in_progress(sl), 1, 0)
        yield n <= 1, "{} has {} in-progress migrations", sl.iid, n


def no_ghosts(x, s):
    for sl in s.slots:
        yield IMP(in_progress(sl), alive(sl)), "{} is {:status} but its instance {} does not exist", \
            sl.mid, sl.mst, sl.iid
        yield IMP(EQ(sl.vm, VM_DEL), AND(EQ(x.dev_count(sl.dev), 0), NOT(sl.mc), NOT(sl.wx),
                                         NOT(sl.gone))), \
            "deleted {} still holds devices, a MigrationContext or a source's share", sl.iid
    rec = x.holds(s)
    for h in x.hosts:
        yield IMP(x.veq(rec[h], x.ZERO), x.veq(x.usage(s, h), x.ZERO)), \
            "{} holds nothing for anyone but its usage is {}", h, x.usage(s, h)


# auxiliary (strengthening) invariants


def context_matches(x, s):
    """An instance has a MigrationContext iff its in-progress move has claimed (I7)."""
    for sl in s.slots:
        live = alive(sl)
        if live is False:
            continue
        moving = in_progress(sl)
        # an evacuation has claimed from pre-migrating on; once its source came back
        # early (status completed) the context says whether the claim was made
        claimed = AND(moving, OR(NOT(type_is(sl, EVACUATION)), status_is(sl, "pre-migrating"),
                                 AND(sl.gone, sl.mc)))
        resizing = AND(moving, type_is(sl, RESIZE, MIGRATION))
        want_resized = AND(resizing, status_is(sl, "finished", "confirming", "reverting"))
        yield IMP(live, EQ(sl.mc, claimed)), \
            "{}: has a MigrationContext: {}, its move {} has claimed: {}", sl.iid, sl.mc, sl.mid, \
            claimed
        yield IMP(AND(live, NOT(resizing)), AND(EQ(sl.oldf, x.NONE), EQ(sl.newf, x.NONE))), \
            "{} has old/new flavor set but is not resizing", sl.iid
        yield IMP(live, EQ(EQ(sl.vm, VM_RSZ), want_resized)), "{} is {:vm} while its move is {:status}", \
            sl.iid, sl.vm, sl.mst


def evacuation_source_down(x, s):
    """An in-progress evacuation's source is down until it comes back (host_up drops
    the instance there, ``gone``); a source an instance waits for is down and no
    move of the instance touches it; an instance its source dropped early is still
    on that source, until the rebuild lands."""
    for sl in s.slots:
        evacuating = AND(in_progress(sl), type_is(sl, EVACUATION), NOT(sl.gone))
        if evacuating is not False:
            yield IMP(evacuating, NOT(x.up(s, sl.msrc))), "{} is {:status} but its source {} is up", \
                sl.mid, sl.mst, sl.msrc
        if sl.gone is not False:
            yield IMP(sl.gone, AND(alive(sl), sl.mx, type_is(sl, EVACUATION),
                                   status_is(sl, "completed", "pre-migrating"),
                                   EQ(sl.host, sl.msrc))), \
                "{}: its source dropped it early but it is {:vm} on {} ({} {:status})", sl.iid, \
                sl.vm, sl.host, sl.mid, sl.mst
        if sl.wx is not False:
            # one wait per instance: an evacuation does not start while it waits
            yield IMP(AND(in_progress(sl), type_is(sl, EVACUATION)), NOT(sl.wx)), \
                "{} is {:status} but {} still waits for {}", sl.mid, sl.mst, sl.iid, sl.wsrc
            yield IMP(sl.wx, AND(alive(sl), NOT(x.up(s, sl.wsrc)), NE(sl.wsrc, sl.host),
                                 x.dev_on(sl.wdev, sl.wsrc))), \
                "{} waits for the clean-up of {}, which is up, its own host, or not where its " \
                "devices are", sl.iid, sl.wsrc
            # a later move started on up hosts, and the source stays down while waited for
            moving = AND(sl.wx, in_progress(sl))
            yield IMP(moving, AND(NE(sl.msrc, sl.wsrc), NE(sl.mdst, sl.wsrc))), \
                "{} moves {} -> {} while it waits for {}'s clean-up", sl.mid, sl.msrc, sl.mdst, \
                sl.wsrc


def moves_change_host(x, s):
    """Only a resize may stay on its host (same-host resize); a resize changes the flavor.
    A live migration to its own host is refused after Nova wrote its record
    (``LiveMigrationTask._check_destination_is_not_source``): it ends ``error``."""
    for sl in s.slots:
        yield IMP(AND(sl.mx, EQ(sl.msrc, sl.mdst), NOT(status_is(sl, "error", "failed"))),
                  type_is(sl, RESIZE)), \
            "{} is a {:type} from {} to itself", sl.mid, sl.mtype, sl.msrc
        yield IMP(AND(sl.mx, type_is(sl, RESIZE)), NE(sl.mold, sl.mnew)), \
            "{} is a resize that keeps flavor {}", sl.mid, sl.mold


def context_devices(x, s):
    """The MigrationContext's old devices are the old flavor's count, on the source;
    its new devices are on the dest."""
    for sl in s.slots:
        has = AND(alive(sl), sl.mc)
        if has is False:
            continue
        yield IMP(has, EQ(x.dev_count(sl.mco), x.fdev(sl.mold))), \
            "{}'s MigrationContext has {} old devices, {} needs {}", sl.iid, sl.mco, sl.mold, \
            x.fdev(sl.mold)
        yield IMP(has, AND(x.dev_on(sl.mco, sl.msrc), x.dev_on(sl.mcn, sl.mdst))), \
            "{}'s MigrationContext devices are not on the source and dest", sl.iid


# ----------------------------------------------------------------- two-state

# (type, before, after) codes of every edge a step kind may take, from the status machines.
_EDGES_BY_STEP: dict[str, frozenset] = {}
_CREATES_BY_STEP: dict[str, frozenset] = {}
for _t in MIGRATION_TYPES:
    for _b, _c in ALLOWED_EDGES[_t]:
        for _k in edge_step_names(_t, _b, _c):
            if _b == NEW:
                _CREATES_BY_STEP[_k] = _CREATES_BY_STEP.get(_k, frozenset()) | {(TY[_t], ST[_c])}
            elif _b not in TERMINAL[_t]:
                _EDGES_BY_STEP[_k] = _EDGES_BY_STEP.get(_k, frozenset()) | {(TY[_t], ST[_b], ST[_c])}


def _row_in(values: tuple, rows: frozenset):
    """``values`` is one of ``rows`` (tuples of codes)."""
    if all(type(v) is int for v in values):
        return values in rows
    return OR(*[AND(*[EQ(v, c) for v, c in zip(values, row, strict=True)]) for row in sorted(rows)])


def _same_record(a, b):
    return AND(a.mx, b.mx, EQ(a.mid, b.mid))


def status_graph(x, s, p, t):
    for a, b in x.changed(s, t):
        # a record never disappears: the slot keeps it, or a newer one (a is retired)
        yield IMP(a.mx, b.mx), "{} disappeared", a.mid
        same = _same_record(a, b)
        if same is not False:
            yield IMP(same, AND(*[EQ(getattr(a, n), getattr(b, n))
                                  for n in ("mtype", "msrc", "mdst", "mold", "mnew")])), \
                "{} changed a field other than its status", a.mid
            moved = AND(same, NE(a.mst, b.mst))
            edges = _EDGES_BY_STEP.get(p.kind, frozenset())
            yield IMP(moved, _row_in((a.mtype, a.mst, b.mst), edges)), \
                "{} ({:type}) went {:status} -> {:status}, not an edge of its status machine " \
                "taken by {}", b.mid, b.mtype, a.mst, b.mst, p.kind
        created = AND(b.mx, NOT(same))
        if created is not False:
            creations = _CREATES_BY_STEP.get(p.kind, frozenset())
            yield IMP(created, _row_in((b.mtype, b.mst), creations)), \
                "{} was created {:status} by {}", b.mid, b.mst, p.kind


def _moved_to(a, b, status: str):
    arrived = AND(b.mx, status_is(b, status))
    if arrived is False:
        return False
    return AND(arrived, NOT(AND(_same_record(a, b), status_is(a, status))))


def _frees(x, s, t, host, flavor, devs, verb, mid, also=None):
    """The step freed exactly ``flavor`` on ``host`` (plus ``also`` = (condition, flavor)
    when the condition holds) and ``devs`` are no longer held there."""
    want = x.vsub(x.usage_at(s, host), x.fvec(flavor))
    if also is not None:
        cond, extra = also
        want = x.vsub(want, tuple(ite(cond, v, 0) for v in x.fvec(extra)))
    yield x.veq(x.usage_at(t, host), want), "{} of {}: {} usage {}, expected {} (before {} minus {})", \
        verb, mid, host, x.usage_at(t, host), want, x.usage_at(s, host), flavor
    yield x.none_held(t, host, devs), "{} of {}: a device of {} on {} is still held", verb, mid, devs, host


def confirm_frees_source(x, s, p, t):
    for a, b in x.changed(s, t):
        confirmed = _moved_to(a, b, "confirmed")
        if confirmed is False:
            continue
        mc = AND(a.mc, _same_record(a, b), NE(b.msrc, b.mdst))
        # Deleting a resized instance confirms its resize (API._confirm_resize_on_deleting)
        # and frees the instance too: on a same-host resize, the new flavor on the same host.
        also = (AND(EQ(b.vm, VM_DEL), EQ(b.msrc, b.mdst)), b.mnew) if p.kind == "delete" else None
        for c in _frees(x, s, t, b.msrc, b.mold, ite(mc, a.mco, x.NO_DEVICES), "confirm", b.mid,
                        also):
            yield (IMP(confirmed, c[0]),) + c[1:]


def revert_frees_dest(x, s, p, t):
    for a, b in x.changed(s, t):
        reverted = _moved_to(a, b, "reverted")
        if reverted is False:
            continue
        mc = AND(a.mc, _same_record(a, b))
        for c in _frees(x, s, t, b.mdst, b.mnew, ite(mc, a.mcn, x.NO_DEVICES), "revert", b.mid):
            yield (IMP(reverted, c[0]),) + c[1:]
        yield IMP(reverted, AND(EQ(b.host, b.msrc), EQ(b.flavor, b.mold))), \
            "revert of {}: {} is on {} with {}, expected {} with {}", b.mid, b.iid, b.host, b.flavor, \
            b.msrc, b.mold


def evacuation_source_hold(x, s, p, t):
    freed = []  # (condition, source host, flavor) the step must free there
    restart = p.kind == "host_up"
    for a, b in zip(s.slots, t.slots, strict=True):
        # Only the source's restart writes completed over an evacuation.
        evacuation = AND(b.mx, type_is(b, EVACUATION))
        if evacuation is not False:
            completed = AND(evacuation, _moved_to(a, b, "completed"))
            by_host_up = EQ(p.host, b.msrc) if restart else False
            yield IMP(completed, by_host_up), "{} completed by {} instead of host_up({})", b.mid, \
                p.kind, b.msrc
        # A source's share of an evacuated instance stays until that source restarts
        # (or the instance is deleted), and is then freed exactly.
        if a.wx is not False:
            ended = AND(a.wx, NOT(b.wx))
            by = OR(EQ(p.host, a.wsrc) if restart else False, EQ(b.vm, VM_DEL))
            yield IMP(ended, by), "{} stopped waiting for {}'s clean-up by {}", a.iid, a.wsrc, \
                p.kind
            yield IMP(AND(a.wx, b.wx), AND(EQ(a.wsrc, b.wsrc), EQ(a.wflv, b.wflv))), \
                "{}: the share {} holds changed", a.iid, a.wsrc
            if restart:
                freed.append((ended, a.wsrc, a.wflv))
        # The restart of an evacuation's source before the instance landed drops the
        # instance there: exactly its flavor is freed.
        if restart:
            dropped = AND(NOT(a.gone), b.gone)
            if dropped is not False:
                freed.append((dropped, a.host, charged_flavor(x, a)))
        # delete, fail and another host's restart roll back OTHER moves, which may
        # release their claims on this down host; this move's own hold stays.
        if p.kind not in ("delete", "fail", "host_up"):
            for held, host in ((a.wx, a.wsrc),
                               (AND(a.mx, type_is(a, EVACUATION), in_progress(a), NOT(a.gone)),
                                a.msrc)):
                if held is False:
                    continue
                kept = AND(held, NOT(x.up(t, host)))
                yield IMP(kept, x.veq(x.usage_at(t, host), x.usage_at(s, host))), \
                    "{} is down and holds {} for its evacuation but its usage changed from {} to " \
                    "{} by {}", host, a.iid, x.usage_at(s, host), x.usage_at(t, host), p.kind
    if all(c is False for c, _, _ in freed):
        return
    for h in x.hosts:
        here = [(AND(c, EQ(src, h)), f) for c, src, f in freed]
        if all(c is False for c, _ in here):
            continue
        amount = [SUM([ite(c, x.fvec(f)[r], 0) for c, f in here]) for r in range(len(RESOURCE_CLASSES))]
        want = x.vsub(x.usage(s, h), tuple(amount))
        yield IMP(OR(*[c for c, _ in here]), x.veq(x.usage(t, h), want)), \
            "source clean-up on {}: usage {}, expected {}", h, x.usage(t, h), want


_I = Invariant

#: Every invariant of the spec, by name, in report order.
INVARIANTS: dict[str, Invariant] = {
    i.name: i
    for i in [
        _I("capacity", "state",
           "per host and resource class: usage <= (total - reserved) x allocation_ratio",
           ("1417667", "1549984", "1845146", "1791075"), False, capacity),
        _I("conservation", "state",
           "tracked usage = the audit's recomputation from instances + in-progress migrations "
           "(the reconciliation equation)",
           ("1519001", "1543123", "1583720", "1600304", "1879878", "1896463", "1944759",
            "1953359", "1834349"), False, conservation),
        _I("exactly_once", "state",
           "an in-progress move holds the new flavor on dest exactly once until the instance "
           "lands and the old flavor on source exactly once after it leaves (same host: old + "
           "new); the instance is where its migration's status says",
           ("1600304", "1519001", "1845146", "1791075", "1944759"), False, exactly_once),
        _I("devices_exclusive", "state",
           "a device is held by at most one consumer, on its own host, and matches the "
           "MigrationContext",
           ("1549984", "1607219", "1641750", "1368201", "1512880", "1893221"), False,
           devices_exclusive),
        _I("single_move", "state", "at most one in-progress migration per instance",
           ("1600304", "1611458"), False, single_move),
        _I("no_ghosts", "state",
           "deleted instances and finished migrations hold nothing",
           ("1543123", "1583720", "1545675", "1707071", "1712045", "1794996"), False, no_ghosts),
        _I("non_negative", "state", "no usage below zero", ("1879878", "1587386"), False,
           non_negative),
        _I("context_matches", "state",
           "an instance has a MigrationContext exactly while its in-progress move has claimed, "
           "naming that migration; old/new flavor only while resizing; vm_state resized "
           "exactly from finished until confirmed or reverted",
           ("1600304", "1834349"), True, context_matches),
        _I("evacuation_source_down", "state",
           "an in-progress evacuation's source host is down until it drops the instance; a "
           "source an evacuated instance waits for is down",
           ("1518200", "1764883"), True, evacuation_source_down),
        _I("moves_change_host", "state",
           "only a resize may keep its host (same-host resize), or a move refused into error; "
           "a resize changes the flavor",
           (), True, moves_change_host),
        _I("status_graph", "transition",
           "statuses change only along the type's edges, by the steps that label them; "
           "terminal statuses absorb; migration records never change otherwise",
           ("1518200", "1879878", "1543123"), False, status_graph),
        _I("confirm_frees_source", "transition",
           "the step that confirms a migration frees exactly the old flavor and old devices "
           "on the source",
           ("1647370", "1818914", "1641750", "1707071", "1585214"), False, confirm_frees_source),
        _I("revert_frees_dest", "transition",
           "the step that reverts a migration frees exactly the new flavor and new devices on "
           "the dest, and puts the instance back on the source with the old flavor",
           ("1607219", "1709902", "1879878"), False, revert_frees_dest),
        _I("evacuation_source_hold", "transition",
           "while an evacuation is in progress, or an evacuated instance waits for its source's "
           "clean-up, the down source keeps its hold; only the source's restart completes the "
           "evacuation and ends the wait, freeing exactly the flavor there",
           ("1518200", "1712850", "1764883", "1896463"), False, evacuation_source_hold),
    ]
}

#: Facts of the encoding the proofs need as hypotheses (docs/proofs.md); the Z3 reading
#: adds its own (codes in range, migration numbering).
ABSTRACTION: dict[str, Callable] = {"context_devices": context_devices}

STATE_INVARIANTS = tuple(n for n, i in INVARIANTS.items() if i.kind == "state")
TRANSITION_INVARIANTS = tuple(n for n, i in INVARIANTS.items() if i.kind == "transition")


def violations(spec, state) -> dict[str, list[str]]:
    """The one-state invariants ``state`` breaks, with messages ({} when all hold)."""
    out = {}
    for name in STATE_INVARIANTS:
        msgs = spec.messages(INVARIANTS[name].rule, state)
        if msgs:
            out[name] = msgs
    return out


def transition_violations(spec, before, step: Step, after) -> dict[str, list[str]]:
    """The two-state properties the transition ``before --step--> after`` breaks."""
    out = {}
    for name in TRANSITION_INVARIANTS:
        msgs = spec.messages(INVARIANTS[name].rule, before, step, after)
        if msgs:
            out[name] = msgs
    return out


def bugs_for(names) -> list[str]:
    """The Nova bug IDs the named invariants guard against, sorted, without repeats."""
    return sorted({b for n in names for b in INVARIANTS[n].bugs})


__all__ = [
    "ABSTRACTION", "INVARIANTS", "STATE_INVARIANTS", "TRANSITION_INVARIANTS", "Invariant",
    "violations", "transition_violations", "bugs_for", "migration_hold",
]
