"""Lock-step comparison of one tracker with the spec, one step at a time.

The :class:`Checker` is shared by the Hypothesis driver, pytest replay files
and ``pytest_case``: it applies a step to the spec's concrete interpretation
(:class:`movecheck.spec.Spec`) and to the tracker, then compares

1. the outcome: a conformant tracker accepts exactly the steps the spec
   accepts (docs/spec.md, "Steps");
2. the device pick of an accepted claim, validated by ``Spec.pick_error``
   (the spec checks the pick, it does not dictate it); the spec then follows
   the tracker's pick;
3. every observation part the tracker declares in ``capabilities``; usage at
   the tracker's ``usage_level`` (``placement``, the default: after every step;
   ``compute_node``: a host's usage only right after that host's audit, against
   :func:`movecheck.spec.allocations.compute_node_usage`).

Invariants are checked on the tracker's observation by putting the observed
usage into the spec's records and running :func:`movecheck.spec.invariants.violations`
and ``transition_violations``.  While the observation equals the spec's,
that check cannot fail (the spec's own states satisfy every invariant: explore
and prove establish it), so it runs only once a difference shows, to name the
invariants the tracker broke and the Nova bugs they guard against.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from movecheck.conformance.faults import TrackerFault, guarded_call
from movecheck.spec import Spec, State
from movecheck.spec.allocations import (
    COMPUTE_NODE,
    PLACEMENT,
    USAGE_LEVELS,
    allocation_error,
    allocation_violations,
    bugs_for_names,
    compute_node_usage,
    consumer_clash,
    normalized,
)
from movecheck.spec.errors import InputError
from movecheck.spec.invariants import bugs_for, transition_violations, violations
from movecheck.spec.statuses import NEW, STATUS_MACHINES
from movecheck.spec.vocab import CAPABILITIES, RESOURCE_CLASSES, Cloud, Observation, Outcome, Step

#: Which invariant a difference in a non-usage observation part breaks.
PART_INVARIANT = {"devices": "devices_exclusive", "migrations": "status_graph",
                  "instances": "exactly_once", "allocations": "exactly_once"}


@dataclass(eq=False)
class Discrepancy(Exception):
    """The first place where the tracker and the spec part ways."""

    step_index: int  # index into ``trace``; -1 = right after reset
    message: str
    expected: dict[str, Any]
    observed: dict[str, Any]
    invariants: list[str]
    trace: list[dict[str, Any]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    #: fault | timeout | accepted | rejected | pick | observation
    category: str = "observation"

    def __str__(self) -> str:
        where = "after reset" if self.step_index < 0 else f"at step {self.step_index + 1}"
        return f"{where}: {self.message}"

    @property
    def bugs(self) -> list[str]:
        return bugs_for_names(self.invariants, bugs_for)

    def to_json(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "step_index": self.step_index,
            "message": self.message,
            "expected": self.expected,
            "observed": self.observed,
            "invariants": self.invariants,
            "bugs": self.bugs,
            "details": self.details,
            "category": self.category,
        }


@dataclass
class Coverage:
    """Steps fired and status edges exercised (docs/conformance.md, "Coverage")."""

    accepted: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    edges: Counter = field(default_factory=Counter)  # (migration type, before, after) -> times

    def to_json(self) -> dict[str, Any]:
        from movecheck.spec.steps import STEPS

        per_type = {}
        for mtype, g in STATUS_MACHINES.items():
            all_edges = list(g.edges)
            per_type[mtype] = {
                "exercised": [list(e) for e in all_edges if (mtype, *e) in self.edges],
                "never": [list(e) for e in all_edges if (mtype, *e) not in self.edges],
            }
        edges: dict[str, list] = {t: [] for t in STATUS_MACHINES}
        for (mtype, a, b), n in sorted(self.edges.items()):
            edges[mtype].append({"from": a, "to": b, "count": n})
        return {
            # the shape `movecheck graph --what coverage` reads (docs/graphs.md)
            "steps": {k: self.accepted[k] for k in STEPS if self.accepted[k]},
            "edges": edges,
            "steps_accepted": {k: self.accepted[k] for k in STEPS if self.accepted[k]},
            "steps_rejected": {k: v for k, v in sorted(self.rejected.items())},
            "steps_never_accepted": [k for k in STEPS if not self.accepted[k]],
            "status_edges": per_type,
        }


def _usage_vectors(spec: Spec, usage: dict[str, dict[str, int]]) -> tuple:
    return tuple(tuple(usage[h][rc] for rc in RESOURCE_CLASSES) for h in spec.cloud.host_names)


class Checker:
    """Drives one tracker in lock step with the spec on one cloud."""

    def __init__(self, cloud: Cloud, tracker: Any, *, timeout: float | None = 10.0,
                 coverage: Coverage | None = None, spec: Spec | None = None,
                 observations: dict[State, Observation] | None = None):
        self.cloud = cloud
        #: The spec's observation per state, shared by the checkers of one spec
        #: (a run's examples revisit the same states, and shrinking replays them).
        self.observations: dict[State, Observation] = (
            observations if observations is not None else {})
        self.spec = spec if spec is not None else Spec(cloud)
        self.tracker = tracker
        self.timeout = timeout
        self.coverage = coverage if coverage is not None else Coverage()
        self._own_timeout = bool(getattr(tracker, "handles_timeout", False))
        self.state: State = self.spec.initial()
        self.trace: list[dict[str, Any]] = []
        self.capabilities: frozenset[str] = frozenset({"usage"})
        self.usage_level: str = PLACEMENT

    # ------------------------------------------------------------------ calls

    def _call(self, fn, arg, what: str):
        return guarded_call(fn, arg, what=what, timeout=self.timeout, own_timeout=self._own_timeout)

    def _fault(self, index: int, message: str, expected: dict | None = None,
               timeout: bool = False) -> Discrepancy:
        return Discrepancy(index, message, expected or {}, {"fault": message}, [],
                           trace=list(self.trace), category="timeout" if timeout else "fault")

    def reset(self) -> None:
        """Start a fresh scenario on the tracker and the spec; check the first observation."""
        self.state = self.spec.initial()
        self.trace = []
        try:
            self._call(self.tracker.reset, self.cloud, "reset(cloud)")
        except TrackerFault as e:
            raise self._fault(-1, str(e), timeout=e.timeout) from None
        caps = getattr(self.tracker, "capabilities", None) or frozenset({"usage"})
        self.capabilities = frozenset(caps) & frozenset(CAPABILITIES) | {"usage"}
        self.usage_level = getattr(self.tracker, "usage_level", None) or PLACEMENT
        if self.usage_level not in USAGE_LEVELS:
            raise InputError(f"the tracker's usage_level is {self.usage_level!r}, not one of "
                             f"{', '.join(USAGE_LEVELS)}")
        if "allocations" in self.capabilities and consumer_clash(self.cloud):
            raise InputError(consumer_clash(self.cloud))
        self._compare_observation(-1, None, self.state, self.state, {"outcome": None})

    # ------------------------------------------------------------------ one step

    def apply(self, step: Step) -> Outcome:
        """Apply ``step`` to both sides; raise :class:`Discrepancy` at the first difference."""
        spec, before = self.spec, self.state
        reason = spec.why_rejected(before, step)
        index = len(self.trace)
        entry: dict[str, Any] = step.to_json()
        entry["expected"] = "accepted" if reason is None else "rejected"
        self.trace.append(entry)
        try:
            raw = self._call(self.tracker.apply, step, f"apply({step})")
        except TrackerFault as e:
            raise self._fault(index, str(e), {"outcome": entry["expected"]},
                              timeout=e.timeout) from None
        outcome = _as_outcome(raw)
        if outcome is None:
            raise self._fault(index, f"apply({step}) returned {raw!r}, not an Outcome",
                              {"outcome": entry["expected"]})
        if outcome.devices:
            entry["picks"] = list(outcome.devices)
        expected_outcome = {"result": entry["expected"]}
        if reason is not None:
            expected_outcome["reason"] = reason
        if outcome.accepted != (reason is None):
            self.coverage.rejected[step.kind] += reason is not None
            if reason is None:
                msg = f"the tracker rejected {step} ({outcome.reason}); the spec accepts it"
            else:
                msg = f"the tracker accepted {step}; the spec rejects it: {reason}"
            raise self._divergence(index, step, before, before, expected_outcome, outcome, msg,
                                   category="rejected" if reason is None else "accepted")
        if reason is not None:
            # A rejected step must change nothing (bug 1549984: a rejected
            # claim kept the devices it had grabbed), so observe it too; a move
            # the scheduler refused leaves only its record, error.
            self.coverage.rejected[step.kind] += 1
            after = spec.after_rejection(before, step)
            if after is not before:
                self._cover_edges(before, after)
            self._compare_observation(index, step, before, after, {"outcome": outcome.to_json()},
                                      expected_outcome=expected_outcome)
            self.state = after
            return outcome
        err = spec.pick_error(before, step, outcome.devices)
        if err is not None:
            raise self._wrong_pick(index, step, before, outcome, err)
        after = spec.next_state(before, step, outcome.devices)
        self._cover(step, before, after)
        self._compare_observation(index, step, before, after, {"outcome": outcome.to_json()})
        self.state = after
        return outcome

    def _cover(self, step: Step, before: State, after: State) -> None:
        self.coverage.accepted[step.kind] += 1
        self._cover_edges(before, after)

    def _cover_edges(self, before: State, after: State) -> None:
        if before.migrations is after.migrations:
            return
        old = {m.id: m.status for m in before.migrations}
        for m in after.migrations:
            prev = old.get(m.id, NEW)
            if prev != m.status:
                self.coverage.edges[(m.migration_type, prev, m.status)] += 1

    # ------------------------------------------------------------------ observations

    def _observe(self, index: int, step: Step | None,
                 expected: Observation | None = None) -> Observation:
        what = "observe()" + ("" if step is None else f" after {step}")
        try:
            raw = self._call(self.tracker.observe, ..., what)
        except TrackerFault as e:
            raise self._fault(index, str(e), timeout=e.timeout) from None
        obs = _as_observation(raw)
        if isinstance(obs, str):
            raise self._fault(index, f"{what} returned garbage: {obs}")
        if "allocations" in self.capabilities and (
                expected is None or obs.allocations != expected.allocations):
            # The tracker declared the part: a malformed one is bad input of
            # the adapter (exit 2), not a behaviour to compare.  Allocations
            # equal to the spec's are well formed: only others are checked.
            err = ("it declares allocations but reported none" if obs.allocations is None
                   else allocation_error(self.cloud, obs.allocations))
            if err is not None:
                raise InputError(f"{what}: {err}")
        return obs

    def usage_hosts(self, step: Step | None, accepted: bool = True) -> tuple[str, ...]:
        """The hosts whose usage is compared after ``step`` (None: after reset)."""
        if self.usage_level == PLACEMENT or step is None:
            return self.cloud.host_names
        # Only an accepted audit recomputes a host's counters (a rejected one, of a
        # host that is down or unknown, changes nothing to compare).
        return (step.host,) if step.kind == "audit" and accepted else ()

    def expected_observation(self, step: Step | None, state: State,
                             accepted: bool = True) -> Observation:
        """The spec's observation after ``step``, usage at the tracker's level."""
        expected = self.observations.get(state)
        if expected is None:
            if len(self.observations) > 50_000:
                self.observations.clear()
            expected = self.observations[state] = self.spec.observe(state)
        if self.usage_level == COMPUTE_NODE:
            hosts = self.usage_hosts(step, accepted)
            expected = _replace_usage(expected, {
                h: compute_node_usage(self.spec, state, h) for h in hosts})
        return expected

    def _compare_observation(self, index, step, before, after, observed_extra,
                             expected_outcome=None) -> None:
        accepted = expected_outcome is None  # the rejected path passes its outcome
        expected = self.expected_observation(step, after, accepted)
        obs = self._observe(index, step, expected)
        diffs = observation_diffs(self.spec, expected, obs, self.capabilities,
                                  usage_hosts=self.usage_hosts(step, accepted))
        if diffs is None:
            return
        exp_parts = {p: getattr(expected, p) for p in diffs}
        obs_parts = {p: getattr(obs, p) for p in diffs}
        names, details = self._invariants(step, before, after, obs, diffs, accepted)
        exp = ({} if step is None else {"outcome": expected_outcome or {"result": "accepted"}}
               ) | exp_parts
        parts = diffs[0] if len(diffs) == 1 else ", ".join(diffs[:-1]) + " and " + diffs[-1]
        verb = "differs" if len(diffs) == 1 else "differ"
        where = "after reset" if step is None else f"after {step}"
        raise Discrepancy(index, f"the tracker's {parts} {verb} from the spec's {where}",
                          exp, {**({} if step is None else observed_extra), **obs_parts},
                          names, trace=list(self.trace), details=details)

    def _invariants(self, step, before, after, obs, diffs,
                    accepted: bool = True) -> tuple[list[str], list[str]]:
        names: dict[str, None] = {}
        details: list[str] = []
        if "usage" in diffs:
            try:
                full = _full_usage(self.spec, obs.usage)
                # compute-node level: hosts not compared now keep the spec's figure
                compared = set(self.usage_hosts(step, accepted))
                full = {h: (full[h] if h in compared else dict(zip(
                    RESOURCE_CLASSES, after.usage[k], strict=True)))
                    for k, h in enumerate(self.spec.cloud.host_names)}
                observed_state = after._replace(usage=_usage_vectors(self.spec, full))
            except (KeyError, TypeError):
                observed_state = None
            if observed_state is not None:
                found = violations(self.spec, observed_state)
                if step is not None:
                    found.update(transition_violations(self.spec, before, step, observed_state))
                for name, msgs in found.items():
                    names[name] = None
                    details += [f"{name}: {m}" for m in msgs]
        if "allocations" in diffs and obs.allocations is not None:
            found = allocation_violations(
                self.spec, after, obs.allocations,
                obs.usage if self.usage_level == PLACEMENT else None)
            for name, msgs in found.items():
                names[name] = None
                details += [f"{name}: {m}" for m in msgs]
            if found:
                diffs = [p for p in diffs if p != "allocations"]
        for part in diffs:
            if part in PART_INVARIANT:
                names[PART_INVARIANT[part]] = None
        return list(names), details

    def _wrong_pick(self, index, step, before, outcome, err) -> Discrepancy:
        """A claim the spec accepts, with devices it may not pick.  Reported on its own: the
        state after the step is not compared, since the spec cannot follow an illegal pick
        (comparing usage with the state before the step would blame invariants the tracker
        did not break)."""
        target = self.spec.claim_target(before, step)
        if target is None:
            held, legal = [], f"no devices ({step.kind} claims none)"
        else:
            host, flavor = target
            free = list(self.spec.free_devices(before, host))
            # devices_exclusive: a device is held once, on its own host.  A pick of a
            # device someone else holds, or of one the host does not have, breaks it;
            # a wrong count of free devices only breaks the claim.
            held = [d for d in outcome.devices if d not in free]
            legal = (f"{self.spec.ndev[flavor]} of the free devices of {host}: "
                     f"{', '.join(free) or 'none'}")
        expected = {"outcome": {"result": "accepted"}, "pick": legal}
        observed = {"outcome": outcome.to_json(), "pick": err}
        return Discrepancy(index, f"the tracker's device pick is not legal: {err}", expected,
                           observed, ["devices_exclusive"] if held else [],
                           trace=list(self.trace), category="pick")

    def _divergence(self, index, step, before, after, expected_outcome, outcome, msg,
                    extra=(), category="accepted") -> Discrepancy:
        """An outcome difference; observe the tracker too, to name broken invariants."""
        observed: dict[str, Any] = {"outcome": outcome.to_json()}
        names: list[str] = list(extra)
        details: list[str] = []
        try:
            obs = self._observe(index, step)
        except Discrepancy:
            obs = None
        if obs is not None:
            observed["usage"] = obs.usage
            diffs = observation_diffs(self.spec, self.expected_observation(step, after), obs,
                                      self.capabilities, usage_hosts=self.usage_hosts(step))
            if diffs:
                more, details = self._invariants(step, before, after, obs, diffs)
                names += [n for n in more if n not in names]
        return Discrepancy(index, msg, {"outcome": expected_outcome,
                                        "usage": self.spec.observe(after).usage},
                           observed, names, trace=list(self.trace), details=details,
                           category=category)


# ---------------------------------------------------------------------- comparing


def _as_outcome(raw: Any) -> Outcome | None:
    if isinstance(raw, Outcome):
        ok = raw.result in ("accepted", "rejected") and all(isinstance(d, str) for d in raw.devices)
        return raw if ok else None
    if isinstance(raw, dict):
        try:
            return Outcome.from_json(raw)
        except Exception:  # noqa: BLE001 - garbage is reported by the caller
            return None
    return None


def _as_observation(raw: Any) -> Observation | str:
    if isinstance(raw, dict):
        try:
            raw = Observation.from_json(raw)
        except Exception as e:  # noqa: BLE001
            return str(e)
    if not isinstance(raw, Observation):
        return f"{raw!r} is not an Observation"
    if not isinstance(raw.usage, dict):
        return "usage is not a mapping {host: {resource class: int}}"
    for h, per in raw.usage.items():
        if not isinstance(per, dict):
            return f"usage of {h} is {per!r}, not a mapping {{resource class: int}}"
        for rc, v in per.items():
            if not isinstance(v, int) or isinstance(v, bool):
                return f"usage of {h} {rc} is {v!r}, not a whole number"
    return raw


def _full_usage(spec: Spec, usage: dict) -> dict[str, dict[str, int]]:
    """Usage for every host and resource class; a host or class left out counts as 0."""
    return {h: {rc: usage.get(h, {}).get(rc, 0) for rc in RESOURCE_CLASSES}
            for h in spec.cloud.host_names} | {h: dict(v) for h, v in usage.items()
                                               if h not in spec.cloud.host_names}


def _full_devices(spec: Spec, devices: dict) -> dict:
    out = {h.name: {d: devices.get(h.name, {}).get(d) for d in h.devices} for h in spec.cloud.hosts}
    for h, per in devices.items():  # devices the cloud does not have are a difference
        for d, holder in (per or {}).items():
            if d not in out.get(h, {}) and holder is not None:
                out.setdefault(h, {})[d] = holder
    return out


def _replace_usage(obs: Observation, usage: dict[str, dict[str, int]]) -> Observation:
    from dataclasses import replace

    return replace(obs, usage=usage)


def observation_diffs(spec: Spec, expected: Observation, observed: Observation,
                      capabilities: frozenset[str],
                      usage_hosts: tuple[str, ...] | None = None) -> list[str] | None:
    """The declared parts in which ``observed`` differs from ``expected`` (None if none).

    ``usage_hosts`` are the hosts whose usage is compared (None: every host).
    """
    diffs = []
    # Fast path first: a conformant tracker reports exactly the spec's dicts.
    if usage_hosts is None or usage_hosts == spec.cloud.host_names:
        if observed.usage != expected.usage and _full_usage(spec, observed.usage) != expected.usage:
            diffs.append("usage")
    elif usage_hosts:
        full = _full_usage(spec, observed.usage)
        if any(full.get(h) != expected.usage.get(h) for h in usage_hosts):
            diffs.append("usage")
    if "devices" in capabilities:
        if observed.devices != expected.devices and (
                observed.devices is None
                or _full_devices(spec, observed.devices) != expected.devices):
            diffs.append("devices")
    if "migrations" in capabilities and observed.migrations != expected.migrations:
        diffs.append("migrations")
    if "instances" in capabilities and observed.instances != expected.instances:
        diffs.append("instances")
    if "allocations" in capabilities and (
            observed.allocations is None
            or normalized(observed.allocations) != expected.allocations):
        diffs.append("allocations")
    return diffs or None
