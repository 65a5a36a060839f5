"""The invariants of :mod:`movecheck.spec.invariants`, as Z3 terms over a :class:`SymState`.

One function per invariant, under the same name; each returns a term that is
true exactly when the concrete check returns no message (the agreement test
checks this by name on generated states).  ``ABSTRACTION_INVARIANTS`` are the
few extra facts the symbolic state needs for induction that the concrete
state has by construction (well-typed codes, canonical unused fields,
migration numbers); they are proved like the others (docs/proofs.md).
"""

from __future__ import annotations

from collections.abc import Callable

from movecheck.spec.statuses import ALLOWED_EDGES, NEW, TERMINAL, edge_step_names
from movecheck.spec.symbolic import (
    AND,
    EQ,
    IMP,
    IN,
    NE,
    NONE,
    NOT,
    OR,
    RC,
    ST,
    STATUS_OF_TYPE,
    SUM,
    TY,
    VM_DEL,
    VM_NONE,
    VM_RSZ,
    StepArgs,
    SymbolicSpec,
    SymState,
    canonical_slot,
    ite,
    pair_in,
)
from movecheck.spec.vocab import EVACUATION, MIGRATION, MIGRATION_TYPES, RESIZE

# ----------------------------------------------------------------- one-state


def capacity(S: SymbolicSpec, s: SymState):
    P = S.P
    return AND(*[s.usage[h][r] <= P.cap[h][r] for h in range(P.H) for r in range(RC)])


def non_negative(S: SymbolicSpec, s: SymState):
    return AND(*[s.usage[h][r] >= 0 for h in range(S.P.H) for r in range(RC)])


def conservation(S: SymbolicSpec, s: SymState):
    rec = S.holds(s)
    return AND(*[s.usage[h][r] == rec[h][r] for h in range(S.P.H) for r in range(RC)])


def exactly_once(S: SymbolicSpec, s: SymState):
    rec = S.holds(s)
    conds = []
    for sl in s.slots:
        ip = S.in_progress(sl)
        want_host = ite(S.landed(sl), sl.mdst, sl.msrc)
        rz = S.is_type(sl, RESIZE, MIGRATION)
        want_flavor = ite(S.is_status(sl, "finished", "confirming", "reverting"), sl.mnew, sl.mold)
        rz_ok = AND(EQ(sl.flavor, want_flavor), EQ(sl.oldf, sl.mold), EQ(sl.newf, sl.mnew))
        other_ok = AND(EQ(sl.flavor, sl.mold), EQ(sl.mold, sl.mnew))
        conds.append(IMP(AND(ip, S.alive(sl)),
                         AND(EQ(sl.host, want_host), ite(rz, rz_ok, other_ok))))
        for h in range(S.P.H):
            touched = AND(ip, OR(EQ(sl.msrc, h), EQ(sl.mdst, h)))
            conds.append(IMP(touched, AND(*[s.usage[h][r] == rec[h][r] for r in range(RC)])))
    return AND(*conds)


def devices_exclusive(S: SymbolicSpec, s: SymState):
    P = S.P
    conds = []
    for g, (hg, _) in enumerate(P.devices):
        holders = []
        for sl in s.slots:
            holders += [S.inst_holds(sl, g), S.mig_holds_dev(sl, g)]
        if s.others_dev is not None:
            holders.append(s.others_dev[g])
        conds.append(SUM([ite(x, 1, 0) for x in holders]) <= 1)
        for sl in s.slots:
            # a device is held on its own host
            conds.append(IMP(S.inst_holds(sl, g), EQ(sl.host, hg)))
            _, hh, _ = S.mig_hold(sl)
            conds.append(IMP(S.mig_holds_dev(sl, g), EQ(hh, hg)))
    for sl in s.slots:
        al = S.alive(sl)
        n = SUM([ite(d, 1, 0) for d in sl.dev])
        conds.append(IMP(al, n == P.fdev(S.charged_flavor(sl))))
        landed = S.landed(sl)
        has = AND(al, sl.mc)
        conds.append(IMP(has, AND(*[d == ite(landed, x, y)
                                    for d, x, y in zip(sl.dev, sl.mcn, sl.mco, strict=True)])))
        conds.append(IMP(has, SUM([ite(d, 1, 0) for d in sl.mcn]) == P.fdev(sl.mnew)))
    return AND(*conds)


def single_move(S: SymbolicSpec, s: SymState):
    return AND(*[sl.older + ite(S.in_progress(sl), 1, 0) <= 1 for sl in s.slots])


def no_ghosts(S: SymbolicSpec, s: SymState):
    conds = []
    for sl in s.slots:
        conds.append(IMP(S.in_progress(sl), S.alive(sl)))
        conds.append(IMP(EQ(sl.vm, VM_DEL), AND(NOT(OR(*sl.dev)), NOT(sl.mc))))
    rec = S.holds(s)
    for h in range(S.P.H):
        conds.append(IMP(AND(*[rec[h][r] == 0 for r in range(RC)]),
                         AND(*[s.usage[h][r] == 0 for r in range(RC)])))
    return AND(*conds)


def context_matches(S: SymbolicSpec, s: SymState):
    conds = []
    for sl in s.slots:
        ip = S.in_progress(sl)
        claimed = AND(ip, NOT(AND(EQ(sl.mtype, TY[EVACUATION]), EQ(sl.mst, ST["accepted"]))))
        resizing = AND(ip, S.is_type(sl, RESIZE, MIGRATION))
        want_resized = AND(resizing, S.is_status(sl, "finished", "confirming", "reverting"))
        conds.append(IMP(S.alive(sl), AND(
            EQ(sl.mc, claimed),
            IMP(NOT(resizing), AND(EQ(sl.oldf, NONE), EQ(sl.newf, NONE))),
            EQ(EQ(sl.vm, VM_RSZ), want_resized),
        )))
    return AND(*conds)


def evacuation_source_down(S: SymbolicSpec, s: SymState):
    return AND(*[IMP(AND(S.in_progress(sl), EQ(sl.mtype, TY[EVACUATION])), NOT(S.up(s, sl.msrc)))
                 for sl in s.slots])


def moves_change_host(S: SymbolicSpec, s: SymState):
    conds = []
    for sl in s.slots:
        conds.append(IMP(AND(sl.mx, EQ(sl.msrc, sl.mdst)), EQ(sl.mtype, TY[RESIZE])))
        conds.append(IMP(AND(sl.mx, EQ(sl.mtype, TY[RESIZE])), NE(sl.mold, sl.mnew)))
    return AND(*conds)


# --------------------------------------------------------- abstraction invariants


def well_typed(S: SymbolicSpec, s: SymState):
    """Every code is in range, a status belongs to its type's machine, unused fields are fixed."""
    P = S.P
    F = len(P.flavors)
    conds = [s.nmig >= 0]
    for sl in s.slots:
        rng = lambda x, n: AND(x >= 0, x < n)  # noqa: E731
        conds += [rng(sl.vm, 4), rng(sl.host, P.H), rng(sl.flavor, F), sl.older >= 0,
                  OR(EQ(sl.oldf, NONE), rng(sl.oldf, F)), OR(EQ(sl.newf, NONE), rng(sl.newf, F)),
                  canonical_slot(P, sl),
                  IMP(NOT(S.alive(sl)), AND(EQ(sl.oldf, NONE), EQ(sl.newf, NONE))),
                  IMP(sl.mx, AND(rng(sl.mtype, len(TY)), rng(sl.mst, len(ST)),
                                 rng(sl.msrc, P.H), rng(sl.mdst, P.H), rng(sl.mold, F),
                                 rng(sl.mnew, F), pair_in(sl.mtype, sl.mst, STATUS_OF_TYPE))),
                  IMP(sl.mx, NOT(EQ(sl.vm, VM_NONE))),
                  IMP(sl.mc, sl.mx)]
    return AND(*conds)


def migration_numbers(S: SymbolicSpec, s: SymState):
    """Records are numbered 1..nmig, each number used once (ids are handed out in order)."""
    conds = []
    for i, a in enumerate(s.slots):
        conds.append(IMP(a.mx, AND(a.mid >= 1, a.mid <= s.nmig)))
        for b in s.slots[i + 1:]:
            conds.append(IMP(AND(a.mx, b.mx), NE(a.mid, b.mid)))
    return AND(*conds)


def context_devices(S: SymbolicSpec, s: SymState):
    """The MigrationContext's old devices are the old flavor's count, on the source."""
    P = S.P
    conds = []
    for sl in s.slots:
        has = AND(S.alive(sl), sl.mc)
        conds.append(IMP(has, SUM([ite(d, 1, 0) for d in sl.mco]) == P.fdev(sl.mold)))
        for g, (hg, _) in enumerate(P.devices):
            conds.append(IMP(AND(has, sl.mco[g]), EQ(sl.msrc, hg)))
            conds.append(IMP(AND(has, sl.mcn[g]), EQ(sl.mdst, hg)))
    return AND(*conds)


# ----------------------------------------------------------------- two-state


def _same_record(a, b):
    return AND(a.mx, b.mx, EQ(a.mid, b.mid))


def status_graph(S: SymbolicSpec, s: SymState, a: StepArgs, t: SymState):
    conds = []
    for x, y in zip(s.slots, t.slots, strict=True):
        same = _same_record(x, y)
        # a record never disappears: the slot keeps it, or a newer one (x becomes older)
        conds.append(IMP(x.mx, y.mx))
        conds.append(IMP(same, AND(*[EQ(getattr(x, n), getattr(y, n))
                                     for n in ("mtype", "msrc", "mdst", "mold", "mnew")])))
        allowed = []
        for typ in MIGRATION_TYPES:
            for b, c in ALLOWED_EDGES[typ]:
                if a.kind in edge_step_names(typ, b, c) and b != NEW and b not in TERMINAL[typ]:
                    allowed.append(AND(EQ(x.mtype, TY[typ]), EQ(x.mst, ST[b]), EQ(y.mst, ST[c])))
        conds.append(IMP(AND(same, NE(x.mst, y.mst)), OR(*allowed)))
        new_ok = [AND(EQ(y.mtype, TY[typ]), EQ(y.mst, ST[c]))
                  for typ in MIGRATION_TYPES for b, c in ALLOWED_EDGES[typ]
                  if b == NEW and a.kind in edge_step_names(typ, b, c)]
        conds.append(IMP(AND(y.mx, NOT(same)), OR(*new_ok)))
    return AND(*conds)


def _moved_to(x, y, status: str):
    return AND(y.mx, EQ(y.mst, ST[status]), NOT(AND(_same_record(x, y), EQ(x.mst, ST[status]))))


def _frees(S, s, t, host, flavor, devices):
    P = S.P
    conds = []
    for h in range(P.H):
        conds.append(IMP(EQ(host, h), AND(*[t.usage[h][r] == s.usage[h][r] - P.fvec(flavor, r)
                                            for r in range(RC)])))
    for g, (hg, _) in enumerate(P.devices):
        conds.append(IMP(AND(devices[g], EQ(host, hg)), NOT(S.held(t, g))))
    return AND(*conds)


def confirm_frees_source(S, s, a, t):
    conds = []
    for x, y in zip(s.slots, t.slots, strict=True):
        mc = AND(x.mc, _same_record(x, y), NE(y.msrc, y.mdst))
        conds.append(IMP(_moved_to(x, y, "confirmed"),
                         _frees(S, s, t, y.msrc, y.mold, [AND(mc, d) for d in x.mco])))
    return AND(*conds)


def revert_frees_dest(S, s, a, t):
    conds = []
    for x, y in zip(s.slots, t.slots, strict=True):
        mc = AND(x.mc, _same_record(x, y))
        conds.append(IMP(_moved_to(x, y, "reverted"), AND(
            _frees(S, s, t, y.mdst, y.mnew, [AND(mc, d) for d in x.mcn]),
            EQ(y.host, y.msrc), EQ(y.flavor, y.mold))))
    return AND(*conds)


def evacuation_source_hold(S, s, a, t):
    P = S.P
    conds = []
    freed = []  # (condition, host, flavor)
    for x, y in zip(s.slots, t.slots, strict=True):
        live = AND(x.mx, EQ(x.mtype, TY[EVACUATION]), S.in_progress(x))
        st2 = ite(_same_record(x, y), y.mst, x.mst)
        completed = AND(live, EQ(st2, ST["completed"]))
        by_host_up = AND(a.kind == "host_up", EQ(a.host, x.msrc)) if a.kind == "host_up" else False
        conds.append(IMP(completed, by_host_up))
        freed.append((AND(completed, EQ(x.mst, ST["done"])), x.msrc, x.mold))
        if a.kind not in ("delete", "fail", "host_up"):
            for h in range(P.H):
                conds.append(IMP(AND(live, NOT(completed), EQ(x.msrc, h), NOT(t.up[h])),
                                 AND(*[t.usage[h][r] == s.usage[h][r] for r in range(RC)])))
    for h in range(P.H):
        any_freed = OR(*[AND(c, EQ(hh, h)) for c, hh, _ in freed])
        for r in range(RC):
            amount = SUM([ite(AND(c, EQ(hh, h)), P.fvec(f, r), 0) for c, hh, f in freed])
            conds.append(IMP(any_freed, t.usage[h][r] == s.usage[h][r] - amount))
    return AND(*conds)


StateInv = Callable[[SymbolicSpec, SymState], object]

#: Symbolic one-state invariants by name (the names of spec.invariants.INVARIANTS).
STATE: dict[str, StateInv] = {
    "capacity": capacity,
    "conservation": conservation,
    "exactly_once": exactly_once,
    "devices_exclusive": devices_exclusive,
    "single_move": single_move,
    "no_ghosts": no_ghosts,
    "non_negative": non_negative,
    "context_matches": context_matches,
    "evacuation_source_down": evacuation_source_down,
    "moves_change_host": moves_change_host,
}

#: Facts of the abstraction (not in spec.invariants: the concrete state has them by construction).
ABSTRACTION: dict[str, StateInv] = {
    "well_typed": well_typed,
    "migration_numbers": migration_numbers,
    "context_devices": context_devices,
}

#: Symbolic two-state properties by name.
TRANSITION = {
    "status_graph": status_graph,
    "confirm_frees_source": confirm_frees_source,
    "revert_frees_dest": revert_frees_dest,
    "evacuation_source_hold": evacuation_source_hold,
}

__all__ = ["STATE", "ABSTRACTION", "TRANSITION", "IN", "VM_DEL"]
