"""The spec itself as a tracker (``--tracker spec``).

Conformance of the spec against itself must pass whatever the generator does:
a run that fails here is a bug in the harness, not in a tracker.  It is also
the cheapest tracker there is, so it measures the driver's own cost
(bench/conform.py).  ``pick`` chooses which legal device pick it reports
(``last`` differs from the spec's default, exercising pick validation).
"""

from __future__ import annotations

from movecheck.spec import Spec
from movecheck.spec.vocab import CAPABILITIES, Cloud, Observation, Outcome, Step


class SpecTracker:
    capabilities = frozenset(CAPABILITIES)

    def __init__(self, pick: str = "first"):
        self._pick = 0 if pick == "first" else -1

    def reset(self, cloud: Cloud) -> None:
        self.spec = Spec(cloud)
        self.state = self.spec.initial()

    def apply(self, step: Step) -> Outcome:
        reason = self.spec.why_rejected(self.state, step)
        if reason is not None:
            self.state = self.spec.after_rejection(self.state, step)
            return Outcome.reject(reason)
        picks = self.spec.legal_picks(self.state, step)[self._pick]
        self.state = self.spec.next_state(self.state, step, picks)
        return Outcome.accept(picks)

    def observe(self) -> Observation:
        return self.spec.observe(self.state).restricted(self.capabilities)

    def close(self) -> None:
        pass


def factory() -> SpecTracker:
    return SpecTracker()
