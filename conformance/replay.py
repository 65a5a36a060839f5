"""Replaying a recorded counterexample against a tracker (the ``--replay-out`` files).

A replay file calls :func:`replay_counterexample` with a tracker name (as
``--tracker`` takes it), the cloud and the trace; it passes when the tracker
agrees with the spec on every step and fails with the readable report of
:mod:`movecheck.conformance.counterexample` otherwise.
"""

from __future__ import annotations

import os
from typing import Any

from movecheck.conformance.adapters import resolve_tracker
from movecheck.conformance.counterexample import render_text
from movecheck.conformance.minimize import replay_steps, step_of
from movecheck.spec.vocab import Cloud

#: Environment variable that overrides the tracker a replay file names.
TRACKER_ENV = "MOVECHECK_REPLAY_TRACKER"


def replay_counterexample(tracker: str, cloud: dict[str, Any], trace: list[dict[str, Any]],
                          timeout: float | None = 10.0) -> None:
    """Raise AssertionError (with the report) if ``tracker`` diverges from the spec on ``trace``."""
    name = os.environ.get(TRACKER_ENV) or tracker
    c = Cloud.from_json(cloud)
    t = resolve_tracker(name, timeout=timeout)()
    try:
        d = replay_steps(c, t, [step_of(e) for e in trace], timeout)
    finally:
        close = getattr(t, "close", None)
        if callable(close):
            close()
    if d is not None:
        raise AssertionError("\n" + render_text(c, d, name))
