"""Recording a tracker's conversation as a trace that ``movecheck validate`` reads.

:class:`RecordingTracker` wraps any tracker and writes every request with the
tracker's reply, one JSON object per line, in the jsonl protocol's shape
(docs/schemas/trace.schema.json).  ``movecheck conform --record-trace PATH``
uses it; in Python::

    tracker = RecordingTracker(my_tracker, "run.trace.jsonl")

A call that raises is not recorded (the trace stops being a faithful log at
that point, and validate would report the gap as a divergence).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from movecheck.spec.vocab import Cloud, Observation, Outcome, Step


class RecordingTracker:
    def __init__(self, inner: Any, path: str | Path):
        self.inner = inner
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = self.path.open("w", encoding="utf-8")

    # Forward what the driver reads from the tracker.
    @property
    def capabilities(self):
        return getattr(self.inner, "capabilities", frozenset({"usage"}))

    @property
    def usage_level(self):
        return getattr(self.inner, "usage_level", None) or "placement"

    @property
    def unsupported_steps(self):
        return getattr(self.inner, "unsupported_steps", frozenset())

    @property
    def handles_timeout(self):
        return getattr(self.inner, "handles_timeout", False)

    def _write(self, line: dict[str, Any]) -> None:
        self._f.write(json.dumps(line, separators=(",", ":")) + "\n")

    def reset(self, cloud: Cloud) -> None:
        self.inner.reset(cloud)
        reply: dict[str, Any] = {"ok": True, "capabilities": sorted(self.capabilities)}
        if self.usage_level != "placement":
            reply["usage_level"] = self.usage_level
        if self.unsupported_steps:
            reply["unsupported_steps"] = sorted(self.unsupported_steps)
        self._write({"op": "reset", "cloud": cloud.to_json(), "reply": reply})

    def apply(self, step: Step) -> Outcome:
        out = self.inner.apply(step)
        reply = out.to_json() if isinstance(out, Outcome) else out
        self._write({"op": "apply", "step": step.to_json(), "reply": reply})
        return out

    def observe(self) -> Observation:
        obs = self.inner.observe()
        self._write({"op": "observe",
                     "reply": obs.to_json() if isinstance(obs, Observation) else obs})
        return obs

    def close(self) -> None:
        try:
            self._write({"op": "close"})
            self._f.close()
        finally:
            close = getattr(self.inner, "close", None)
            if callable(close):
                close()
