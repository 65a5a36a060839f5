"""Deliberately broken variants of the spec (issue 3 item 5): test fixtures for the proofs.

Each mutant is an edit of ONE step's rule in the single definition
(:data:`movecheck.spec.steps.STEPS`): a guard with a conjunct dropped or
widened, or an effect that forgets a release, the way a historical Nova bug
(or a plausible slip) would.  A mutant is a step table, so both readings run
it: ``movecheck prove`` must fail to prove each of them and ``movecheck bmc``
must find each at its minimal depth, pinned in ``tests/test_prove.py`` and
``tests/test_bmc.py`` — so a proof that passes is known to be able to fail —
and the concrete explorer finds them too (``Spec(cloud, rules=mutant.rules)``).
"""

from __future__ import annotations

from dataclasses import replace

from movecheck.spec.interpret.terms import EQ
from movecheck.spec.interpret.z3 import SymbolicSpec
from movecheck.spec.state import TY
from movecheck.spec.steps import RZ, STEPS, end_move, instance_charges, status_guard
from movecheck.spec.vocab import RESIZE


def _mutant(name: str, doc: str, step: str, when=None, then=None,
            schedule=None) -> type[SymbolicSpec]:
    sd = STEPS[step]
    rules = {**STEPS, step: replace(sd, when=when or sd.when, then=then or sd.then,
                                    schedule=schedule or sd.schedule)}
    cls = type("".join(w.title() for w in name.split("_")), (SymbolicSpec,),
               {"name": name, "rules": rules, "edited": step, "__doc__": doc})
    return cls


def _without(step: str, code: str, part: str = "when"):
    """The step's guard (``part``: its API checks, or ``schedule``: the scheduler's)
    without its conjunct ``code``."""
    def conjuncts(*args):
        return (t for t in getattr(STEPS[step], part)(*args) if t[0] != code)
    return conjuncts


def _confirm_keeps_source(x, s, sl, p, picks):
    new, _ = end_move(x, sl, "confirmed")
    return new, ()


def _revert_keeps_dest(x, s, sl, p, picks):
    new, _ = STEPS["revert_finish"].then(x, s, sl, p, picks)
    return new, ()


def _same_host_new_only(x, s, sl, p, picks):
    new, ch = STEPS["resize_claim"].then(x, s, sl, p, picks)
    return new, list(ch) + [(EQ(p.dest, sl.host), sl.host, sl.flavor, -1)]


def _live_abort_keeps_dest(x, s, sl, p, picks):
    new, _ = end_move(x, sl, "cancelled")
    return new, ()


def _audit_skips_in_progress(x, s, p, picks):
    return x.with_usage(s, p.host, x.at(x.holds(s, instance_charges), p.host))


def _fail_releases_both(x, s, sl, p, picks):
    new, ch = STEPS["fail"].then(x, s, sl, p, picks)
    return new, list(ch) + [(True, sl.host, sl.flavor, -1)]


def _confirm_from_migrating(x, s, sl, p):
    yield from status_guard(x, s, sl, RZ, ("finished", "migrating"))


def _always_resize(x, s, sl, p, picks):
    new, ch = STEPS["resize_claim"].then(x, s, sl, p, picks)
    return new._replace(mtype=TY[RESIZE]), ch


#: Every spec mutant by name.
MUTANTS: dict[str, type[SymbolicSpec]] = {
    m.name: m for m in (
        _mutant("confirm_keeps_source", "confirm_finish sets confirmed but does not release the "
                "source (bugs 1647370, 1818914).", "confirm_finish", then=_confirm_keeps_source),
        _mutant("revert_keeps_dest", "revert_finish puts the instance back but leaves the new "
                "flavor on dest (bug 1607219).", "revert_finish", then=_revert_keeps_dest),
        _mutant("resize_claim_no_capacity", "resize_claim without the capacity test (a MoveClaim "
                "that never calls Claim._test).", "resize_claim",
                schedule=_without("resize_claim", "does_not_fit", "schedule")),
        _mutant("same_host_resize_new_only", "Same-host resize counts only the new flavor: the "
                "claim swaps old for new on the node (the accounting that "
                "test_resize_claim_same_host guards against).", "resize_claim",
                then=_same_host_new_only),
        _mutant("live_abort_keeps_dest", "live_abort cancels but keeps the dest claim (no "
                "drop_move_claim_at_destination).", "live_abort", then=_live_abort_keeps_dest),
        _mutant("evacuate_from_up_host", "evacuate_start allowed while the source host is up "
                "(bugs 1518200, 1764883).", "evacuate_start",
                when=_without("evacuate_start", "source_up")),
        _mutant("audit_skips_in_progress", "The audit recomputes usage from instances only, "
                "skipping in-progress migrations (bugs 1543123/1583720 in reverse; 1845146: a "
                "status the audit ignored).", "audit", then=_audit_skips_in_progress),
        _mutant("fail_releases_both", "fail releases both sides: the migration's hold and the "
                "instance's own charge.", "fail", then=_fail_releases_both),
        _mutant("confirm_from_migrating", "confirm accepted before the resize finished "
                "(status_graph: migrating -> confirming).", "confirm",
                when=_confirm_from_migrating),
        _mutant("resize_type_always_resize", "resize_claim records every move as a resize, even "
                "one that keeps the flavor.", "resize_claim", then=_always_resize),
    )
}


def spec_class(name: str | None) -> type[SymbolicSpec]:
    """The spec's Z3 reading, or the named spec mutant's (InputError for an unknown name)."""
    from movecheck.spec.errors import InputError

    if name is None:
        return SymbolicSpec
    if name not in MUTANTS:
        raise InputError(f"unknown spec mutant {name!r}; the spec mutants are: {', '.join(MUTANTS)}")
    return MUTANTS[name]


__all__ = ["MUTANTS", "spec_class"]
