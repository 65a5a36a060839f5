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
            self.state = self.spec._charge(self.state, m.source, m.old_flavor, +1)
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
