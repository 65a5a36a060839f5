"""The narrow interface the explorer searches, and the spec seen through it.

Like Stateright's ``Model`` trait: an initial state, the successors of a
state (each with a label saying which step it took), the one-state
invariants, the two-state properties, and a symmetry hook.  The explorer
(:mod:`movecheck.spec.engines.explore`) knows nothing else about the spec, so
a new State layout needs a new adapter here and a new
:mod:`movecheck.spec.symmetry`, not a new explorer.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Protocol

from movecheck.spec import Spec, State
from movecheck.spec.invariants import INVARIANTS, transition_violations, violations
from movecheck.spec.symmetry import symmetry_of


class Model(Protocol):
    """What the explorer needs of a transition system."""

    #: How many states an orbit can hold at most (1 without symmetry).
    group_size: int

    def initial(self) -> Hashable: ...

    def successors(self, state: Any) -> Iterable[tuple[Any, Hashable]]:
        """Every (label, successor); the label is what a trace shows for the step."""

    def state_violations(self, state: Any) -> dict[str, list[str]]:
        """The one-state invariants ``state`` breaks, with messages ({} when all hold)."""

    def transition_violations(self, before: Any, label: Any, after: Any) -> dict[str, list[str]]:
        """The two-state properties the transition breaks ({} when all hold)."""

    # Optional: successor_violations(before, after, canonical_after) -> the one-state
    # invariants a new state breaks, knowing ``before`` broke none (see SpecModel).

    def canonical(self, state: Any) -> Hashable:
        """One representative per orbit of the symmetry group (``state`` without symmetry)."""

    def orbit_size(self, state: Any) -> int:
        """How many states the orbit of the canonical ``state`` holds (1 without symmetry)."""


#: The one-state invariants that read hosts' up flags.  A step that changed only up
#: flags (host_down, host_up with nothing to clean up) cannot break any other one-state
#: invariant in a state that held them all; tests/test_explore_symmetry.py flips up
#: flags on every reachable state of small clouds to keep this list true.
READS_UP = frozenset({"evacuation_source_down"})


class SpecModel:
    """The concrete spec as a :class:`Model`; labels are (step, device picks)."""

    def __init__(self, spec: Spec, symmetry: bool = True):
        self.spec = spec
        self.symmetry = symmetry_of(spec) if symmetry else None
        self._slots = hasattr(spec.initial(), "slots")
        self.group_size = self.symmetry.group_size if self.symmetry else 1
        if self.symmetry is not None and self.group_size > 1:
            self.canonical = self.symmetry.canonical
            self.orbit_size = self.symmetry.orbit_size

    def initial(self) -> State:
        return self.spec.initial()

    def successors(self, state: State):
        for step, picks, t in self.spec.successors(state):
            yield (step, picks), t

    def state_violations(self, state: State) -> dict[str, list[str]]:
        return violations(self.spec, state)

    def successor_violations(self, before: State, after: State, canonical: State):
        """The one-state invariants a new state breaks, given that ``before`` broke none:
        after a step that changed only up flags, only the invariants in READS_UP."""
        if self._slots:
            only_up = (after.slots is before.slots and after.retired is before.retired
                       and after.usage is before.usage)
        else:
            only_up = (after.instances is before.instances
                       and after.migrations is before.migrations and after.usage is before.usage)
        if not only_up:
            return violations(self.spec, canonical)
        out = {}
        for name in READS_UP:
            inv = INVARIANTS[name]
            check = getattr(inv, "check", None)
            msgs = (check(self.spec, canonical) if check is not None
                    else self.spec.messages(inv.rule, canonical))
            if msgs:
                out[name] = msgs
        return out

    def transition_violations(self, before: State, label, after: State) -> dict[str, list[str]]:
        # Every two-state property compares migration records or usage before and
        # after (spec/invariants.py): a step that rewrote neither cannot break one.
        if self._slots:
            if (before.slots is after.slots and before.retired is after.retired
                    and before.usage == after.usage):
                return {}
        elif before.migrations is after.migrations and before.usage == after.usage:
            return {}
        return transition_violations(self.spec, before, label[0], after)

    def canonical(self, state: State) -> State:
        return state

    def orbit_size(self, state: State) -> int:
        return 1


__all__ = ["Model", "SpecModel"]
