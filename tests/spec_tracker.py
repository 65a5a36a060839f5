"""Test-only trackers that wrap the concrete spec itself.

``factory`` is a conformant tracker (it *is* the spec, so conformance must pass);
``leaky_factory`` forgets to free the source on ``confirm_finish`` (the shape of
Nova bug 1707071 / 1818914) so that tests have a bug to catch without depending
on the reference tracker or the catalogue in ``movecheck.model``.
"""

from __future__ import annotations

from movecheck.conformance.adapters.spec import SpecTracker as _Spec


class SpecTracker(_Spec):
    def __init__(self):
        super().__init__(pick="last")  # not the spec's default pick


class LeakyTracker(SpecTracker):
    """Keeps the old flavor charged on the source after confirm_finish."""

    def apply(self, step):
        before = self.state
        out = super().apply(step)
        if out.accepted and step.kind == "confirm_finish":
            m = self.spec.migration(before, step.migration)
            spec = self.spec
            self.state = spec.with_usage(self.state, m.source, spec.vadd(
                spec.usage(self.state, m.source), spec.fvec(m.old_flavor)))
        return out


class UsageOnlyTracker(SpecTracker):
    capabilities = frozenset({"usage"})
    unsupported_steps = frozenset({"evacuate_start", "rebuild_claim", "finish_evacuation"})


class RaisingTracker(SpecTracker):
    """Raises on every audit (a tracker bug must become a discrepancy, not a crash)."""

    def apply(self, step):
        if step.kind == "audit":
            raise RuntimeError("audit exploded")
        return super().apply(step)


class GarbageTracker(SpecTracker):
    def apply(self, step):
        if step.kind == "delete":
            return {"result": "maybe"}
        return super().apply(step)


def factory():
    return SpecTracker()


def leaky_factory():
    return LeakyTracker()


def usage_only_factory():
    return UsageOnlyTracker()


def raising_factory():
    return RaisingTracker()


def garbage_factory():
    return GarbageTracker()


class HangingTracker(SpecTracker):
    def apply(self, step):
        if step.kind == "audit":
            import time

            time.sleep(30)
        return super().apply(step)


class InterruptingTracker(LeakyTracker):
    """Leaky; then Ctrl-C (KeyboardInterrupt) at the next reset, i.e. while shrinking."""

    leaked = False

    def reset(self, cloud):
        if InterruptingTracker.leaked:
            raise KeyboardInterrupt
        super().reset(cloud)

    def apply(self, step):
        out = super().apply(step)
        if out.accepted and step.kind == "confirm_finish":
            InterruptingTracker.leaked = True
        return out


def hanging_factory():
    return HangingTracker()


def interrupting_factory():
    InterruptingTracker.leaked = False
    return InterruptingTracker()


class _Entry:
    """A catalogue entry in the shape of movecheck.model.bugs (for tests)."""

    def __init__(self, name, bugs, factory, summary):
        self.name, self.bugs, self.factory, self.summary = name, bugs, factory, summary


#: A two-entry catalogue: one caught bug and, as a control, the spec itself.
CATALOGUE = [
    _Entry("leak_on_confirm", ("1707071",), leaky_factory,
           "Bug 1707071: the source keeps the old flavor after confirm."),
]

#: A catalogue with an entry that cannot be caught (the spec itself).
CATALOGUE_WITH_ESCAPE = CATALOGUE + [_Entry("not_a_bug", ("0",), factory, "The spec itself.")]


# ---------------------------------------------------------------------------
# Bugs the default cloud could not show (issue 14): each must be caught by a
# default run, whose examples draw their own clouds.


class _CapacityTracker(SpecTracker):
    """The spec with its own reading of a host's capacity (``limit(inventory)``)."""

    def limit(self, inv) -> int:
        raise NotImplementedError

    def reset(self, cloud):
        super().reset(cloud)
        from movecheck.spec.vocab import RESOURCE_CLASSES

        self.spec.int_capacity = tuple(
            tuple(self.limit(h.inventory(rc)) for rc in RESOURCE_CLASSES) for h in cloud.hosts)


class RatioBeforeReservedTracker(_CapacityTracker):
    """Capacity as total x ratio - reserved, not (total - reserved) x ratio."""

    def limit(self, inv) -> int:
        import math

        return math.floor(inv.total * inv.allocation_ratio - inv.reserved)


class FloatCapacityTracker(_CapacityTracker):
    """Capacity in floating point: (100 - 0) x 1.15 = 114.99999999999999, so 115 does not fit."""

    def limit(self, inv) -> int:
        import math

        return math.floor((inv.total - inv.reserved) * inv.allocation_ratio)


class EvacuationSkipsCapacityTracker(SpecTracker):
    """rebuild_claim on the evacuation's destination skips the claim test
    (Nova's ``Claim._test``: capacity and PCI devices alike); it takes what
    devices are free."""

    def apply(self, step):
        from movecheck.spec.vocab import Outcome

        r = self.spec.rejection(self.state, step)
        if step.kind == "rebuild_claim" and r is not None and r.code in (
                "does_not_fit", "no_free_devices"):
            host, flavor = self.spec.claim_target(self.state, step)
            picks = self.spec.free_devices(self.state, host)[:self.spec.ndev[flavor]]
            self.state = self.spec._effect["rebuild_claim"](self.state, step, picks)
            return Outcome.accept(picks)
        return super().apply(step)


class RestartForgetsOutboundTracker(SpecTracker):
    """A host that starts again forgets what it holds for migrations away from it
    (the old flavor it keeps for a revert after the instance has left)."""

    def apply(self, step):
        out = super().apply(step)
        if out.accepted and step.kind == "host_up":
            for m in self.state.migrations:
                hold = self.spec.migration_hold(m)
                if m.source == step.host and hold is not None and hold[0] == step.host:
                    self.state = self.spec._charge(self.state, hold[0], hold[1], -1)
        return out


def ratio_before_reserved_factory():
    return RatioBeforeReservedTracker()


def float_capacity_factory():
    return FloatCapacityTracker()


def evacuation_skips_capacity_factory():
    return EvacuationSkipsCapacityTracker()


def restart_forgets_outbound_factory():
    return RestartForgetsOutboundTracker()


class WrongPickTracker(SpecTracker):
    """Claims a device the host does not have instead of the one it really takes."""

    def apply(self, step):
        out = super().apply(step)
        if out.accepted and out.devices:
            from movecheck.spec.vocab import Outcome

            return Outcome("accepted", devices=("pci-wrong",) + tuple(out.devices[1:]))
        return out


def wrong_pick_factory():
    return WrongPickTracker()
