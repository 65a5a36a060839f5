"""Deliberately broken variants of the spec (issue 3 item 5): test fixtures for the proofs.

Each mutant is a :class:`SymbolicSpec` subclass that overrides ONE step the
way a historical Nova bug (or a plausible slip) would.  ``movecheck prove``
must fail to prove each of them and ``movecheck bmc`` must find each at its
minimal depth, pinned in ``tests/test_prove_mutants.py`` — so a proof that
passes is known to be able to fail.
"""

from __future__ import annotations

from dataclasses import replace

from movecheck.spec.symbolic import (
    AND,
    EQ,
    RC,
    TY,
    SymbolicSpec,
    ite,
)
from movecheck.spec.vocab import RESIZE


class ConfirmKeepsSource(SymbolicSpec):
    """confirm_finish sets confirmed but does not release the source (bugs 1647370, 1818914)."""

    name = "confirm_keeps_source"

    def step_confirm_finish(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, self._RZ, ("confirming",), ("msrc",))
            new, _ = self._end_move(sl, "confirmed")
            return g, new, [], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)


class RevertKeepsDest(SymbolicSpec):
    """revert_finish puts the instance back but leaves the new flavor on dest (bug 1607219)."""

    name = "revert_keeps_dest"

    def step_revert_finish(self, s, a, picks):
        tr = super().step_revert_finish(s, a, picks)
        return replace(tr, post=replace(tr.post, usage=s.usage), slot_deltas=None)


class ResizeClaimNoCapacity(SymbolicSpec):
    """resize_claim without the capacity test (a MoveClaim that never calls Claim._test)."""

    name = "resize_claim_no_capacity"

    def resize_claim_test(self, s, host, f):
        return self.free_count(s, host) >= self.P.fdev(f)  # devices only, no capacity


class SameHostResizeNewOnly(SymbolicSpec):
    """Same-host resize counts only the new flavor: the claim swaps old for new on the node
    (the accounting that test_resize_claim_same_host guards against)."""

    name = "same_host_resize_new_only"

    def resize_claim_charges(self, sl, a):
        return super().resize_claim_charges(sl, a) + [(EQ(a.dest, sl.host), sl.host, sl.flavor, -1)]


class LiveAbortKeepsDest(SymbolicSpec):
    """live_abort cancels but keeps the dest claim (no drop_move_claim_at_destination)."""

    name = "live_abort_keeps_dest"

    def step_live_abort(self, s, a, picks):
        def eff(i, sl):
            g = self._status_guard(s, sl, ("live-migration",), ("queued", "preparing", "running"),
                                   ("msrc", "mdst"))
            new, _ = self._end_move(sl, "cancelled")
            return g, new, [], True
        return self._trans(s, self._acts_mig(s, a), eff, picks)


class EvacuateFromUpHost(SymbolicSpec):
    """evacuate_start allowed while the source host is up (bugs 1518200, 1764883)."""

    name = "evacuate_from_up_host"

    def step_evacuate_start(self, s, a, picks):
        def eff(i, sl):
            g = AND(self.movable(s, sl, a, need_host_up=False), ite(EQ(a.dest, sl.host), False, True))
            new = self._create(sl, a, TY["evacuation"], sl.flavor, sl.flavor, "accepted")
            return g, new, [], True
        return self._trans(s, self._acts_inst(s, a), eff, picks, nmig=s.nmig + 1)


class AuditSkipsInProgress(SymbolicSpec):
    """The audit recomputes usage from instances only, skipping in-progress migrations
    (bugs 1543123/1583720 in reverse; 1845146: a status the audit ignored)."""

    name = "audit_skips_in_progress"

    def step_audit(self, s, a, picks):
        tr = super().step_audit(s, a, picks)
        P = self.P
        rec = [[0] * RC for _ in range(P.H)]
        for sl in s.slots:
            on = self.alive(sl)
            cf = self.charged_flavor(sl)
            for h in range(P.H):
                for r in range(RC):
                    rec[h][r] = rec[h][r] + ite(AND(on, EQ(sl.host, h)), P.fvec(cf, r), 0)
        usage = [[ite(EQ(a.host, h), rec[h][r], s.usage[h][r]) for r in range(RC)]
                 for h in range(P.H)]
        return replace(tr, post=replace(tr.post, usage=usage))


class FailReleasesBoth(SymbolicSpec):
    """fail releases both sides: the migration's hold and the instance's own charge."""

    name = "fail_releases_both"

    def _fail_effect(self, sl):
        new, dl = super()._fail_effect(sl)
        return new, dl + [(True, sl.host, sl.flavor, -1)]


class ConfirmFromMigrating(SymbolicSpec):
    """confirm accepted before the resize finished (status_graph: migrating -> confirming)."""

    name = "confirm_from_migrating"

    def step_confirm(self, s, a, picks):
        return self._simple(s, a, picks, self._RZ, ("finished", "migrating"), (), "confirming")


class ResizeTypeAlwaysResize(SymbolicSpec):
    """resize_claim records every move as a resize, even one that keeps the flavor."""

    name = "resize_type_always_resize"

    def resize_type(self, sl, a):
        return TY[RESIZE]


#: Every spec mutant by name, with the minimal BMC depth at which the default cloud shows it.
MUTANTS: dict[str, type[SymbolicSpec]] = {
    m.name: m for m in (
        ConfirmKeepsSource, RevertKeepsDest, ResizeClaimNoCapacity, SameHostResizeNewOnly,
        LiveAbortKeepsDest, EvacuateFromUpHost, AuditSkipsInProgress, FailReleasesBoth,
        ConfirmFromMigrating, ResizeTypeAlwaysResize,
    )
}



def spec_class(name: str | None) -> type[SymbolicSpec]:
    """The symbolic spec, or the named spec mutant (InputError for an unknown name)."""
    from movecheck.spec.errors import InputError

    if name is None:
        return SymbolicSpec
    if name not in MUTANTS:
        raise InputError(f"unknown spec mutant {name!r}; the spec mutants are: {', '.join(MUTANTS)}")
    return MUTANTS[name]


__all__ = ["MUTANTS", "spec_class"]
