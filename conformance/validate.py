"""Trace validation: checking a recorded log against the spec, step by step.

In the spirit of TLC trace validation and AWS's PObserve: the log is the
jsonl protocol's conversation (docs/schemas/trace.schema.json) — requests
with the tracker's replies — and the question is whether *some* behaviour of
the spec explains it.  What the log does not pin down (an accepted claim
that does not say which devices it picked) is read every way the spec
allows: the validator keeps the set of spec states consistent with the log
so far (the *readings*) and narrows it at each reply.  The log diverges at
the first line that no reading explains; the report shows that line and,
for every reading alive just before it, what the spec expected there and
which picks it assumed — not one arbitrary, possibly misleading, reading.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movecheck.conformance.protocol import first_error
from movecheck.spec import Spec, State
from movecheck.spec.allocations import (
    COMPUTE_NODE,
    allocation_error,
    allocation_violations,
    bugs_for_names,
    compute_node_usage,
    consumer_clash,
    normalized,
)
from movecheck.spec.errors import InputError
from movecheck.spec.invariants import bugs_for, transition_violations, violations
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import RESOURCE_CLASSES, Cloud, Observation, Step

OPS = ("reset", "apply", "observe", "close")

#: Readings kept at most (device picks multiply them); the report says when cut.
MAX_READINGS = 256


@dataclass(frozen=True)
class Reading:
    state: State
    picks: tuple[tuple[int, tuple[str, ...]], ...] = ()  # (line, devices) the validator chose
    before: State | None = None  # state before the last accepted step (two-state properties)
    last_step: Step | None = None


@dataclass
class ValidationResult:
    lines: int = 0
    steps: int = 0
    resets: int = 0
    divergence: dict[str, Any] | None = None
    readings_cut: bool = False
    max_readings: int = 1

    def report_fields(self) -> dict[str, Any]:
        return {"steps": self.steps, "lines": self.lines, "resets": self.resets,
                "divergence": self.divergence, "max_readings": self.max_readings,
                "readings_cut": self.readings_cut}


def parse_line(text: str, lineno: int, where: str) -> dict[str, Any]:
    """One trace line as a dict, or InputError naming the line and the field."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{where} line {lineno}: not JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where} line {lineno}: a trace line must be a JSON object")
    op = obj.get("op")
    if op not in OPS:
        got = "missing" if op is None else f"{op!r} is not one of {', '.join(OPS)}"
        raise InputError(f"{where} line {lineno}: field op: {got}")
    problem = first_error(f"{op}_line", obj)
    if problem is not None:
        raise InputError(f"{where} line {lineno}: {problem}")
    return obj


def _step(d: dict[str, Any]) -> Step:
    return Step(d["step"], **{k: v for k, v in d.items() if k != "step"})


def _obs_diffs(spec: Spec, expected: Observation, reply: dict[str, Any],
               usage_hosts: tuple[str, ...] | None = None) -> list[str]:
    """Differences between the spec's observation and the parts the reply states;
    usage only of ``usage_hosts`` (None: every host)."""
    out = []
    usage = reply["usage"]
    for h in spec.cloud.host_names if usage_hosts is None else usage_hosts:
        for rc in RESOURCE_CLASSES:
            e, o = expected.usage[h][rc], usage.get(h, {}).get(rc, 0)
            if e != o:
                out.append(f"usage {h} {rc}: expected {e}, observed {o}")
    for h in usage:
        if h not in expected.usage:
            out.append(f"usage of unknown host {h}")
    if "devices" in reply:
        got = reply["devices"]
        for h, devs in expected.devices.items():
            for d, holder in devs.items():
                o = (got.get(h) or {}).get(d)
                if o != holder:
                    out.append(f"device {h}/{d} holder: expected {holder}, observed {o}")
    for part in ("migrations", "instances"):
        if part in reply:
            e, o = getattr(expected, part), reply[part]
            for k in sorted(set(e) | set(o)):
                if e.get(k) != o.get(k):
                    out.append(f"{part[:-1]} {k}: expected {e.get(k)}, observed {o.get(k)}")
    if "allocations" in reply:
        e, o = expected.allocations, normalized(reply["allocations"])
        for k in sorted(set(e) | set(o)):
            if e.get(k) != o.get(k):
                out.append(f"allocation of {k}: expected {e.get(k)}, observed {o.get(k)}")
    return out


def _usage_state(spec: Spec, r: Reading, reply: dict[str, Any]) -> State | None:
    try:
        vecs = tuple(tuple(int(reply["usage"].get(h, {}).get(rc, 0)) for rc in RESOURCE_CLASSES)
                     for h in spec.cloud.host_names)
    except (TypeError, ValueError):
        return None
    return r.state._replace(usage=vecs)


class Validator:
    """Feed trace lines one by one with :meth:`line`; read :attr:`result`."""

    def __init__(self, where: str = "trace"):
        self.where = where
        self.result = ValidationResult()
        self.spec: Spec | None = None
        self.readings: list[Reading] = []
        self.usage_level = "placement"
        self.last_apply: tuple[Step, bool] | None = None  # None: right after reset

    def line(self, obj: dict[str, Any], lineno: int) -> bool:
        """Check one parsed line; False once the trace has diverged."""
        self.result.lines = lineno
        op = obj["op"]
        if op == "reset":
            try:
                cloud = Cloud.from_json(obj["cloud"])
            except InputError as e:
                raise InputError(f"{self.where} line {lineno}: field cloud: {e}") from None
            self.spec = Spec(cloud)
            self.readings = [Reading(self.spec.initial())]
            reply = obj.get("reply") or {}
            self.usage_level = reply.get("usage_level", "placement")
            self.last_apply = None
            if "allocations" in reply.get("capabilities", ()) and consumer_clash(cloud):
                raise InputError(f"{self.where} line {lineno}: {consumer_clash(cloud)}")
            self.steps_since_reset: list[dict[str, Any]] = []
            self.result.resets += 1
            return True
        if self.spec is None:
            raise InputError(f"{self.where} line {lineno}: the trace must start with a reset line")
        if op == "close":
            return True
        if op == "apply":
            return self._apply(obj, lineno)
        return self._observe(obj, lineno)

    def _apply(self, obj, lineno) -> bool:
        spec = self.spec
        step = _step(obj["step"])
        if step.kind not in STEPS:
            # A name one typo away from a real step is a mistake in the trace, not tracker
            # behaviour (a deliberately unknown step, like the driver's no_such_step probe,
            # is left to the spec, which rejects it).
            close = difflib.get_close_matches(step.kind, STEPS, n=1, cutoff=0.7)
            if close:
                raise InputError(f"{self.where} line {lineno}: field step: unknown step "
                                 f"{step.kind!r}; did you mean {close[0]!r}?")
        reply = obj["reply"]
        accepted = reply["result"] == "accepted"
        self.last_apply = (step, accepted)
        self.result.steps += 1
        entry = dict(obj["step"])
        if reply.get("devices"):
            entry["picks"] = list(reply["devices"])
        self.steps_since_reset.append(entry)
        alive: list[Reading] = []
        why: list[dict[str, Any]] = []
        for r in self.readings:
            reason = spec.why_rejected(r.state, step)
            if not accepted:
                if reason is not None:
                    # (a move the scheduler refused leaves its record, error)
                    after = spec.after_rejection(r.state, step)
                    alive.append(Reading(after, r.picks) if after is r.state
                                 else Reading(after, r.picks, r.state, step))
                else:
                    why.append(self._why(r, {"outcome": "accepted"},
                                         ["the spec accepts this step; the tracker rejected it"]))
                continue
            if reason is not None:
                why.append(self._why(r, {"outcome": f"rejected: {reason}"},
                                     [f"the spec rejects this step: {reason}"]))
                continue
            if "devices" in reply:
                picks = tuple(reply["devices"])
                err = spec.pick_error(r.state, step, picks)
                if err is not None:
                    why.append(self._why(r, {"outcome": "accepted"}, [err]))
                    continue
                alive.append(Reading(spec.next_state(r.state, step, picks), r.picks, r.state, step))
            else:
                options = spec.legal_picks(r.state, step)
                for picks in options:
                    chosen = r.picks + ((lineno, picks),) if picks else r.picks
                    alive.append(Reading(spec.next_state(r.state, step, picks), chosen, r.state,
                                         step))
        return self._narrow(alive, why, lineno, "apply", obj)

    def _usage_hosts(self) -> tuple[str, ...] | None:
        """Hosts whose usage this observe line pins (docs/adapters.md, usage levels)."""
        if self.usage_level != COMPUTE_NODE or self.last_apply is None:
            return None
        step, accepted = self.last_apply
        return (step.host,) if accepted and step.kind == "audit" else ()

    def _expected(self, r: Reading, hosts: tuple[str, ...] | None) -> Observation:
        exp = self.spec.observe(r.state)
        if self.usage_level == COMPUTE_NODE and hosts:
            from dataclasses import replace

            usage = dict(exp.usage)
            usage.update({h: compute_node_usage(self.spec, r.state, h) for h in hosts})
            exp = replace(exp, usage=usage)
        return exp

    def _observe(self, obj, lineno) -> bool:
        reply = obj["reply"]
        if "allocations" in reply:
            err = allocation_error(self.spec.cloud, reply["allocations"])
            if err is not None:
                raise InputError(f"{self.where} line {lineno}: {err}")
        hosts = self._usage_hosts()
        alive, why = [], []
        for r in self.readings:
            diffs = _obs_diffs(self.spec, self._expected(r, hosts), reply, hosts)
            if diffs:
                why.append(self._why(r, None, diffs, reply))
            else:
                alive.append(r)
        return self._narrow(alive, why, lineno, "observe", obj)

    def _why(self, r: Reading, expected, differences, reply=None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "assumed_picks": [{"line": ln, "devices": list(p)} for ln, p in r.picks],
            "differences": differences,
        }
        if expected is not None:
            out["expected"] = expected
        else:
            exp = self.spec.observe(r.state)
            out["expected"] = {"usage": exp.usage}
        if reply is not None:
            s = _usage_state(self.spec, r, reply)
            if s is not None:
                names = dict(violations(self.spec, s))
                if r.before is not None and r.last_step is not None:
                    names.update(transition_violations(self.spec, r.before, r.last_step, s))
                out["invariants"] = list(names)
            if "allocations" in reply:
                level_usage = reply["usage"] if self.usage_level != COMPUTE_NODE else None
                for name in allocation_violations(self.spec, r.state, reply["allocations"],
                                                  level_usage):
                    out.setdefault("invariants", [])
                    if name not in out["invariants"]:
                        out["invariants"].append(name)
            # as in the checker: a difference in a non-usage part names its invariant
            for prefix, name in (("device ", "devices_exclusive"), ("migration ", "status_graph"),
                                 ("instance ", "exactly_once"), ("allocation ", "exactly_once")):
                if any(d.startswith(prefix) for d in differences):
                    out.setdefault("invariants", [])
                    if name not in out["invariants"]:
                        out["invariants"].append(name)
        return out

    def _narrow(self, alive, why, lineno, op, obj) -> bool:
        seen, unique = set(), []
        for r in alive:
            if r.state not in seen:
                seen.add(r.state)
                unique.append(r)
        if len(unique) > MAX_READINGS:
            unique = unique[:MAX_READINGS]
            self.result.readings_cut = True
        self.result.max_readings = max(self.result.max_readings, len(unique))
        if unique:
            self.readings = unique
            return True
        names = sorted({n for w in why for n in w.get("invariants", [])})
        what = f"apply({_step(obj['step'])})" if op == "apply" else "observe"
        self.result.divergence = {
            "line": lineno,
            "op": op,
            "step": obj.get("step"),
            "observed": obj["reply"],
            "message": f"line {lineno}: {what} is explained by none of the "
                       f"{len(why)} spec-consistent reading(s) of the trace so far",
            "readings": why,
            # the steps since the last reset; the diverging one is the last
            # (or, for an observe line, the one before it)
            "trace": list(self.steps_since_reset),
            "step_index": len(self.steps_since_reset) - 1,
            "invariants": names,
            "bugs": bugs_for_names(names, bugs_for),
        }
        return False


def validate_file(path: str | Path) -> ValidationResult:
    """Validate a trace file; InputError (exit 2) for a malformed line, naming line and field."""
    p = Path(path)
    try:
        f = p.open(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read trace {p}: {e.strerror or e}") from None
    v = Validator(str(p))
    with f:
        for lineno, text in enumerate(f, 1):
            if not text.strip():
                continue
            if not v.line(parse_line(text, lineno, str(p)), lineno):
                break
    if v.result.resets == 0:
        raise InputError(f"{p} holds no reset line: it is not a movecheck trace")
    return v.result
