"""The conformance driver: Hypothesis's own ``RuleBasedStateMachine`` over the spec's steps.

Each example resets the tracker on a cloud (the pinned one, or one drawn from
the family of :mod:`movecheck.conformance.clouds`), switches off a random set
of step kinds for its whole length (*swarm testing*, Groce et al., ISSTA 2012)
and then runs rules.  Every rule is one of the situations where tracker bugs
live (docs/conformance.md, "How steps are generated", says which bug each one
exists for): any enabled step; a new move of each of the four types equally
often; a claim that just fits or just does not, for every claiming step; a
step the spec refuses, mostly one naming a move in flight; a restart of a host
a move touches, before and after the instance has left it; an audit of such a
host; a move's next step along its status machine.

A rule draws a step as its kind, then each parameter in turn, every draw an
index into a list in the spec's order, so each shrinks toward the simplest
(``boot``, ``h1``, ``i1``, ``small``).  Whether the spec refuses a step, and
why, is data (:meth:`Spec.rejection`).

Every step goes through :class:`movecheck.conformance.checker.Checker`; the
first :class:`Discrepancy` fails the example, Hypothesis shrinks it, and every
shorter counterexample found on the way is handed to ``on_found`` at once, so
a report exists on disk before shrinking ends (and survives Ctrl-C).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.database import ExampleDatabase
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from movecheck.conformance.checker import Checker, Coverage, Discrepancy
from movecheck.conformance.clouds import clouds
from movecheck.conformance.faults import (
    TrackerFault,
    alarm_handler,
    guarded_call,
    no_local_constants,
)
from movecheck.conformance.minimize import minimize
from movecheck.spec import Spec, State
from movecheck.spec.errors import InputError
from movecheck.spec.statuses import FINISHED, NEW, STATUS_MACHINES
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import EVACUATION, LIVE_MIGRATION, MIGRATION, RESIZE, Cloud, Step

#: Steps that claim resources on a host (boot, resize_claim, live_claim, rebuild_claim).
CLAIMS = tuple(k for k, d in STEPS.items() if d.claims)

#: Rejection codes of a claim that does not fit (capacity or devices).
MISFIT = frozenset({"does_not_fit", "no_free_devices"})

#: Steps that create a migration record (their migration id must be fresh and
#: under the cloud's limit): read from the spec's step table, so a new one is
#: drawn with no change here.
CREATES = tuple(k for k, d in STEPS.items() if d.creates)

#: What the ``refused`` situation draws, in the order it shrinks toward:
#: a step naming a move in flight; a new move the spec refuses (to the
#: instance's own host, from or to a host that is down); a new move under an
#: id the spec refuses (a taken one below the limit, a fresh one at the
#: limit); any refused step; a step naming something that does not exist; a
#: malformed step (a parameter missing).
REFUSALS = ("move", "start", "renamed", "any", "unknown", "malformed")

#: The four move types drawn by the ``new_move`` situation.  An evacuation is
#: listed twice: it takes two steps to start (its host goes down first), and
#: listed once it started a third as often as the others.
MOVE_TYPES = (RESIZE, MIGRATION, LIVE_MIGRATION, EVACUATION, EVACUATION)

#: (migration type, status) -> the move's own steps on the edges leaving it
#: (``fail`` and ``delete`` are drawn like any other step).
FORWARD: dict[tuple[str, str], tuple[str, ...]] = {}
for _t, _g in STATUS_MACHINES.items():
    for _a, _b, _d in _g.edges(data=True):
        if _a != NEW:
            _own = tuple(k for k in _d["steps"] if k not in ("fail", "delete"))
            FORWARD[(_t, _a)] = tuple(dict.fromkeys(FORWARD.get((_t, _a), ()) + _own))

#: Step kinds swarm testing may switch off for a whole example: the choices at
#: branch points of the status machines and the disruptions.  A move's own
#: progress steps stay on (a move needs all of them in order), and so do
#: ``boot`` and ``host_down`` (an evacuation needs its host down).
SWARM_KINDS = ("delete", "resize_claim", "live_claim", "evacuate_start", "confirm", "revert",
               "live_abort", "fail", "host_up", "audit")

#: Swarm draw per kind: 0 = on; a kind is off for the example when the draw is
#: SWARM_OFF (probability 1/4), so bugs that need several kinds together (a
#: claim, then an audit) still meet.  Each draw shrinks to 0: everything on.
SWARM_OFF = 3

#: Many short examples: the default cloud allows two migrations, and the steps
#: after both have ended rarely find anything new.  500, not 200: Hypothesis
#: mutates new examples from earlier ones, so one swarm choice (revert off,
#: say) can dominate a short run; at 200 examples seed 1 never reached
#: ``revert_finish`` and seed 8 never a ``live_complete``, at 500 each of
#: seeds 0-9 accepts every step (tests/test_driver.py).
DEFAULT_EXAMPLES = 500
DEFAULT_STEPS = 15
DEFAULT_TIMEOUT = 10.0

#: Examples Hypothesis may run after the first failure (its shrink attempts)
#: before the run stops on the shortest counterexample seen: each attempt
#: replays a whole example, and a bug found in a second could otherwise spend
#: minutes shrinking.  Counted in examples, not seconds, so that a seed gives
#: the same counterexample on a busy machine.  The deletions of
#: :func:`minimize` still run afterwards.
DEFAULT_SHRINK_BUDGET = 500

#: ``st.integers(0, n - 1)`` for list sizes up to 256, built once: an index
#: into a list in the spec's order shrinks toward its first element.
_INDEX = [None] + [st.integers(0, n - 1) for n in range(1, 257)]


class SetupError(InputError):
    """The tracker cannot be started or never answers its first ``reset``: a
    setup problem (exit status 2), not a discrepancy."""


@dataclass
class ConformanceResult:
    """What one conformance run found (the ``conform`` report fields, docs/cli.md)."""

    tracker: str
    cloud: Cloud | None
    seed: int
    examples: int = 0
    steps: int = 0
    discrepancy: Discrepancy | None = None
    coverage: Coverage = field(default_factory=Coverage)
    capabilities: frozenset[str] = frozenset()
    unsupported_steps: tuple[str, ...] = ()
    seconds: float = 0.0
    interrupted: bool = False
    note: str | None = None
    #: The cloud of the counterexample (the pinned cloud, or the generated one).
    failing_cloud: Cloud | None = None
    #: When the first failure was found: seconds from the start, example number.
    first_failure_seconds: float | None = None
    first_failure_example: int | None = None
    generated_clouds: bool = False

    @property
    def ok(self) -> bool:
        return self.discrepancy is None and not self.interrupted

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0

    @property
    def shrink_seconds(self) -> float | None:
        if self.first_failure_seconds is None:
            return None
        return max(0.0, self.seconds - self.first_failure_seconds)

    def report_fields(self) -> dict[str, Any]:
        cloud = self.failing_cloud or self.cloud
        return {
            "tracker": self.tracker,
            "examples": self.examples,
            "steps": self.steps,
            "seed": self.seed,
            "discrepancy": None if self.discrepancy is None else self.discrepancy.to_json(),
            "coverage": self.coverage.to_json(),
            "capabilities": sorted(self.capabilities),
            "unsupported_steps": list(self.unsupported_steps),
            "steps_per_second": round(self.steps_per_second),
            "interrupted": self.interrupted,
            "note": self.note,
            "generated_clouds": self.generated_clouds,
            "first_failure": None if self.first_failure_seconds is None else {
                "seconds": round(self.first_failure_seconds, 3),
                "example": self.first_failure_example,
                "shrink_seconds": round(self.shrink_seconds or 0.0, 3)},
            "cloud": None if cloud is None else cloud.to_json(),
        }


def _unknown_steps(cloud: Cloud) -> tuple[Step, ...]:
    """Steps naming things that do not exist; a conformant tracker rejects them."""
    h, i, f = cloud.host_names[0], cloud.instances[0], cloud.flavor_names[0]
    return (
        Step("no_such_step"),
        Step("confirm", migration="m-unknown"),
        Step("boot", instance="i-unknown", host=h, flavor=f),
        Step("boot", instance=i, host="h-unknown", flavor=f),
        Step("boot", instance=i, host=h, flavor="f-unknown"),
        Step("audit", host="h-unknown"),
    )


class _Run:
    """State shared by every example of one run."""

    def __init__(self, cloud: Cloud | None, tracker, timeout, on_found, progress,
                 shrink_budget: int | None = DEFAULT_SHRINK_BUDGET):
        self.cloud = cloud
        self.shrink_budget = shrink_budget
        #: Shrinking stopped at ``shrink_budget`` (the report says so).
        self.shrink_cut = False
        self.tracker = tracker
        self.timeout = timeout
        self.on_found = on_found
        self.progress = progress
        self.coverage = Coverage()
        self.examples = 0
        self.steps = 0
        self.best: Discrepancy | None = None
        self.best_cloud: Cloud | None = None
        self.frozen: Discrepancy | None = None
        self.last: tuple[Discrepancy, Cloud] | None = None
        self.bad_input: InputError | None = None  # the adapter's malformed report
        self.unsupported = frozenset(getattr(tracker, "unsupported_steps", ()) or ())
        self.supported = frozenset(k for k in STEPS if k not in self.unsupported)
        self.t0 = time.perf_counter()
        self.first_seconds: float | None = None
        self.first_example: int | None = None
        self._specs: dict[Cloud, Spec] = {}
        self._observations: dict[Cloud, dict] = {}
        #: Per cloud, the malformed steps of ConformanceMachine.malformed.
        self.malformed: dict[Cloud, list[Step]] = {}
        self._verdicts: dict[tuple[int, State], tuple] = {}

    def spec(self, cloud: Cloud) -> Spec:
        """One Spec per cloud (examples often share their cloud)."""
        spec = self._specs.get(cloud)
        if spec is None:
            if len(self._specs) > 512:
                self._specs.clear()
                self._verdicts.clear()
                self._observations.clear()
            spec = self._specs[cloud] = Spec(cloud)
            self._observations[cloud] = {}
        return spec

    def observations(self, cloud: Cloud) -> dict:
        """The spec's observations of ``cloud``, per state (see :class:`Checker`)."""
        return self._observations[cloud]

    def verdicts(self, spec: Spec, state: State) -> tuple[tuple[Step, str | None], ...]:
        """:func:`_verdicts`, remembered: examples share most of their states
        (every one starts from the same few, and shrinking replays prefixes)."""
        key = (id(spec), state)
        v = self._verdicts.get(key)
        if v is None:
            if len(self._verdicts) > 50_000:
                self._verdicts.clear()
            v = self._verdicts[key] = _verdicts(spec, state)
        return v

    def found(self, d: Discrepancy, cloud: Cloud) -> None:
        self.last = (d, cloud)
        if self.first_seconds is None:
            self.first_seconds = time.perf_counter() - self.t0
            self.first_example = self.examples
        if d.category == "timeout":
            # Shrinking a hang costs a timeout per attempt: freeze the run on
            # this counterexample (every later example fails at once with it).
            self.frozen = d
        if self.best is None or len(d.trace) < len(self.best.trace):
            self.best, self.best_cloud = d, cloud
            if self.on_found is not None:
                self.on_found(d, cloud)


def _verdicts(spec: Spec, state: State) -> tuple[tuple[Step, str | None], ...]:
    """Every candidate step of ``state`` with the spec's rejection code (None: enabled).

    The code is :meth:`Spec.rejection`'s, read from the guard's first false
    conjunct the way :meth:`Spec.successors` reads it: candidates name only
    things that exist, and the sentence ``rejection`` would format for every
    refused candidate costs ten times the guard (the checker still asks
    ``rejection`` for the step actually sent)."""
    rules, guard, acting = spec.rules, spec._guard, spec._acting_slot
    out = []
    for c in spec.candidate_steps(state):
        sd = rules[c.kind]
        t = guard(state, sd, c, acting(state, sd, c))
        out.append((c, None if t is None else t[0]))
    return tuple(out)


class _Pools:
    """The steps worth drawing in one state, each list in the spec's candidate
    order (simplest first), restricted to the kinds the example allows."""

    def __init__(self, spec: Spec, state: State, allowed: frozenset[str],
                 verdicts: tuple[tuple[Step, str | None], ...]):
        self.spec, self.state = spec, state
        self.enabled = [c for c, code in verdicts if code is None and c.kind in allowed]
        self.refused = [(c, code) for c, code in verdicts
                        if code is not None and c.kind in allowed]
        self._edge: tuple[list[Step], list[Step]] | None = None

    def edge(self) -> tuple[list[Step], list[Step], list[Step]]:
        """(claims that just fit, claims short of capacity alone, claims short
        of devices alone).

        A claim *just fits* when it is accepted but the same flavor would not
        fit again on that host afterwards (capacity or devices).  A refused
        claim is *short of capacity alone* when the host has the devices the
        flavor needs, and *short of devices alone* when the flavor fits by
        capacity: either way only one of the two tests decides, so a tracker
        that skips that one (or inverts it) is seen.  A claim short of both
        counts as short of capacity.
        """
        if self._edge is None:
            spec, state = self.spec, self.state
            fits, capacity, devices = [], [], []
            for c in self.enabled:
                if c.kind in CLAIMS:
                    host, flavor = spec.claim_target(state, c)
                    after = spec.next_state(state, c)
                    if not spec.fits(after, host, flavor) or (
                            len(spec.free_devices(after, host)) < spec.ndev[flavor]):
                        fits.append(c)
            for c, code in self.refused:
                if code in MISFIT and c.kind in CLAIMS:
                    host, flavor = spec.claim_target(state, c)
                    short_of_devices = len(spec.free_devices(state, host)) < spec.ndev[flavor]
                    if short_of_devices and spec.fits(state, host, flavor):
                        devices.append(c)
                    else:
                        capacity.append(c)
            self._edge = (fits, capacity, devices)
        return self._edge


def _pick(draw, items) -> Any:
    """One of ``items`` (in order; shrinks toward the first)."""
    if len(items) == 1:
        return items[0]
    return items[draw(_INDEX[min(len(items), 256)])]


def _pick_by_name(draw, names: tuple, available: list) -> Any:
    """One of ``available``, drawn as a position in ``names`` (every name there
    could be): the name drawn if it is available.  Exactly one draw, whatever
    is available: a step that consumed fewer draws when an earlier step was deleted would shift the meaning of
    every draw after it, and Hypothesis could no longer shrink by deleting."""
    if not set(available) <= set(names):
        # Names that do not exist (steps the spec must refuse): by position.
        return available[draw(_INDEX[min(len(available), 256)]) % len(available)]
    k = draw(_INDEX[min(len(names), 256)])
    value = names[k]
    # Not available now: the same draw read as a position among those that
    # are, which keeps the choice uniform (the next available name after k
    # would favour the kinds that follow long runs of unavailable ones).
    return value if value in available else available[k % len(available)]


#: Every step kind, in the order a drawn kind shrinks toward (``boot`` first).
KINDS = tuple(STEPS)


def _draw_step(draw, pool: list[Step], names: dict[str, tuple]) -> Step:
    """A step of ``pool``: its kind, then each of its parameters, each a name
    shrinking toward the first in the spec's order (``boot``; ``h1``, ``i1``,
    ``small``).  The draws a step consumes depend on its kind alone."""
    kinds = list(dict.fromkeys(s.kind for s in pool))
    kind = _pick_by_name(draw, KINDS, kinds)
    pool = [s for s in pool if s.kind == kind]
    params = STEPS[kind].params if kind in STEPS else ()
    for p in params:
        v = _pick_by_name(draw, names[p], list(dict.fromkeys(getattr(s, p) for s in pool)))
        pool = [s for s in pool if getattr(s, p) == v]
    return pool[0]


_RUNNER = st.runner()
_COIN = st.booleans()


#: The situations a step is drawn for, in the order a drawn situation shrinks
#: toward (a move's next step first); each names a method of ConformanceMachine
#: returning its pool.  A move needs five to seven steps in order, so taking
#: one further is listed three times; starting one and auditing one of its
#: hosts (where most race bugs show) twice.
SITUATIONS = ("next_of_move", "new_move", "move_audit", "enabled", "next_of_move", "edge_claim",
              "refused", "next_of_move", "new_move", "move_audit", "restart", "disruption",
              "move_again", "refused")


@st.composite
def steps(draw) -> Step:
    """The next step: a situation, then a step of that situation's pool drawn as
    its kind and then each parameter.  When the situation is absent (no move
    in flight to audit), any enabled step."""
    machine = draw(_RUNNER)
    pool = getattr(machine, _pick(draw, SITUATIONS))(draw)
    if not pool:
        pools = machine.pools()
        # Last resort, when the example's swarm switched off every step still
        # possible: a step naming something that does not exist.
        pool = (machine.enabled(draw) or pools.enabled or [c for c, _ in pools.refused]
                or machine.unknown())
    return _draw_step(draw, pool, machine.names)


#: Steps that end moves early or for good (an instance is booted at most once).
DISRUPTIONS = frozenset({"delete", "fail", "live_abort"})

#: Disruptions that end a move and leave its instance to move again.
_ENDINGS = DISRUPTIONS - {"delete"}

#: Kinds the ``enabled`` situation leaves to ``new_move``, ``restart`` and
#: ``disruption``.
_NOT_ANY = frozenset({"resize_claim", "live_claim", "evacuate_start", "host_down",
                      "host_up"}) | DISRUPTIONS

#: One draw per swarm kind (see SWARM_OFF).
SWARMS = st.tuples(*(_INDEX[SWARM_OFF + 1] for _ in SWARM_KINDS))


class ConformanceMachine(RuleBasedStateMachine):
    """One example: reset the tracker, then rules, each applying one step to the
    tracker and the spec in lock step.  The rules are the situations of
    docs/conformance.md; each draws its step with :func:`steps`.  The two
    subclasses differ only in where the cloud comes from, and a run binds one
    of them to itself with :func:`conformance_machine`."""

    run: _Run

    def __init__(self):
        super().__init__()
        self.run.examples += 1
        self.checker: Checker | None = None
        self.allowed = self.run.supported
        self._pools: _Pools | None = None

    # ------------------------------------------------------------------ helpers

    def start(self, cloud: Cloud, swarm: tuple[int, ...]) -> None:
        """Reset the tracker on ``cloud``; switch off this example's swarm."""
        run = self.run
        if run.frozen is not None:
            raise run.frozen
        if (run.best is not None and run.shrink_budget is not None
                and run.examples - run.first_example > run.shrink_budget):
            # Out of shrinking time: stop Hypothesis and keep the shortest
            # counterexample seen.
            run.shrink_cut = True
            raise _OutOfShrinkTime
        # A disruption is off for half the examples, any other kind for a quarter.
        off = {k for k, x in zip(SWARM_KINDS, swarm, strict=True)
               if x == SWARM_OFF or (k in DISRUPTIONS and x % 2)}
        self.allowed = run.supported - off
        spec = run.spec(cloud)
        self.checker = Checker(cloud, run.tracker, timeout=run.timeout, coverage=run.coverage,
                               spec=spec, observations=run.observations(cloud))
        #: Every name each step parameter could take on this cloud.
        self.names = {"migration": cloud.migration_ids(), "instance": cloud.instances,
                      "host": cloud.host_names, "dest": cloud.host_names,
                      "flavor": cloud.flavor_names}
        try:
            self.checker.reset()
        except Discrepancy as d:
            run.found(d, cloud)
            raise
        except InputError as e:
            run.bad_input = e
            raise _BadInput from e

    def pools(self) -> _Pools:
        state = self.checker.state
        if self._pools is None or self._pools.state is not state:
            spec = self.checker.spec
            self._pools = _Pools(spec, state, self.allowed, self.run.verdicts(spec, state))
        return self._pools

    def apply(self, step: Step) -> None:
        run = self.run
        run.steps += 1
        if run.progress is not None:
            run.progress(run.examples, run.steps, run.best is not None)
        try:
            self.checker.apply(step)
        except Discrepancy as d:
            run.found(d, self.checker.cloud)
            raise
        except InputError as e:
            # Bad input of the adapter (exit 2): nothing to shrink, so the run
            # stops here (a BaseException passes through Hypothesis).
            run.bad_input = e
            raise _BadInput from e

    def unknown(self, draw=None) -> list[Step]:
        """Steps naming a step, host, flavor, instance or migration that does not exist."""
        return [s for s in _unknown_steps(self.checker.cloud) if s.kind not in self.run.unsupported]

    def in_flight(self) -> list:
        """The moves in progress: a status that is not finished, or an evacuation its
        source completed before the rebuild finished (the spec's ``gone``).  Not an
        ``error`` record (a refused claim's, or one the audit will turn failed):
        nothing but the audit acts on it."""
        state = self.checker.state
        gone = {sl.mid for sl in state.slots if sl.gone}
        return [m for m in state.migrations
                if m.status not in FINISHED[m.migration_type] or m.id in gone]

    # ------------------------------------------------------------------ situations

    def enabled(self, draw) -> list[Step]:
        """Any enabled step but those that start moves (``new_move`` starts the
        four types equally often) and host restarts (``restart``): they are
        almost always enabled, and drawn here they would crowd out the rest."""
        return [c for c in self.pools().enabled if c.kind not in _NOT_ANY]

    def new_move(self, draw) -> list[Step]:
        """A new move, each of the four types equally often.  An evacuation needs
        its instance's host down: when no host with a movable instance is down,
        the step takes one down instead (the evacuation can start next)."""
        pools, spec, state = self.pools(), self.checker.spec, self.checker.state
        if len(state.migrations) >= self.checker.cloud.max_migrations:
            return []
        mtype = _pick(draw, MOVE_TYPES)
        if mtype == EVACUATION:
            pool = [c for c in pools.enabled if c.kind == "evacuate_start"]
            if not pool and "evacuate_start" in self.allowed:
                hosts = {i.host for i in state.instances
                         if i is not None and i.vm_state != "deleted"
                         and spec.in_progress_of(state, i.id) is None}
                pool = [c for c in pools.enabled if c.kind == "host_down" and c.host in hosts]
            return pool
        if mtype == LIVE_MIGRATION:
            return [c for c in pools.enabled if c.kind == "live_claim"]
        cold = mtype == MIGRATION
        return [c for c in pools.enabled if c.kind == "resize_claim"
                and (c.flavor == spec.instance(state, c.instance).flavor) == cold]

    def move_again(self, draw) -> list[Step]:
        """A new move of an instance whose latest move has ended (failed,
        aborted, confirmed, reverted or done): a tracker that still counts the
        ended move as in progress refuses it (bug 1543123), and one that keeps
        what the ended move held counts it twice.  When no move has ended yet,
        a ``fail`` or ``live_abort`` of a live migration in flight."""
        state = self.checker.state
        ended = {m.instance for m in state.migrations if m.status in FINISHED[m.migration_type]}
        ended -= {m.instance for m in self.in_flight()}
        enabled = self.pools().enabled
        if ended:
            return [c for c in enabled if c.kind in CREATES and c.instance in ended]
        # Only live migrations are ended here (bug 1543123 is about a failed one):
        # ending every move type this often would starve the evacuation flow.  One
        # past its claim, when there is one: its fail writes failed, not error.
        live = [m for m in self.in_flight() if m.migration_type == LIVE_MIGRATION]
        moving = ({m.id for m in live if m.status != "accepted"} or {m.id for m in live})
        return [c for c in enabled if c.kind in _ENDINGS and c.migration in moving]

    def disruption(self, draw) -> list[Step]:
        """A step that ends a move early or for good: ``delete``, ``fail``,
        ``live_abort`` (kept to one situation of ten: an example whose instances
        are deleted early has nothing left to move)."""
        return [c for c in self.pools().enabled if c.kind in DISRUPTIONS]

    def edge_claim(self, draw) -> list[Step]:
        """A claim that just fits, or just does not fit by capacity alone or by
        devices alone, for every claiming step: boot, resize_claim, live_claim
        and rebuild_claim (the first of the three kinds drawn that exists)."""
        kinds = self.pools().edge()
        first = _pick(draw, (0, 1, 2))
        for k in (first, *(k for k in (0, 1, 2) if k != first)):
            if kinds[k]:
                return kinds[k]
        return []

    def refused(self, draw) -> list[Step]:
        """A step the spec refuses, one of REFUSALS: mostly one naming a move in
        flight (a confirm before finish, a second move of a moving instance);
        a new move the spec refuses; any refused step; one naming something
        that does not exist; a malformed one.  A conformant tracker refuses
        each and changes nothing (a move the scheduler refuses leaves its
        record ``error``: docs/spec.md, "Refused claims")."""
        what = _pick(draw, REFUSALS)
        if what == "unknown":
            return self.unknown()
        if what == "malformed":
            return self.malformed()
        if what == "renamed":
            return self.renamed_moves()
        pool = [c for c, _ in self.pools().refused]
        if what == "move":
            moving = self.in_flight()
            ids = {m.id for m in moving}
            instances = {m.instance for m in moving}
            pool = [c for c in pool if c.migration in ids or c.instance in instances] or pool
        elif what == "start":
            pool = [c for c in pool if c.kind in CREATES]
            # While a host is down, mostly a move from or to it (a resize or live
            # migration off a dead host, an evacuation onto one).
            spec, state = self.checker.spec, self.checker.state
            down = {h for h in self.names["host"] if not spec.is_up(state, h)}
            if down:
                pool = [c for c in pool if c.dest in down
                        or spec.instance(state, c.instance).host in down] or pool
        return pool

    def malformed(self) -> list[Step]:
        """Every step kind with one parameter missing (the spec's
        ``bad_parameter``): a tracker must refuse it, not crash or accept.
        Built from the spec's step table, once per cloud.  A parameter that is
        not a string is never sent: the jsonl protocol's schema
        (docs/schemas/trace.schema.json) rules it out, so a recorded trace
        would not validate."""
        cloud = self.checker.cloud
        out = self.run.malformed.get(cloud)
        if out is None:
            out = []
            for kind in KINDS:
                params = STEPS[kind].params
                whole = {p: self.names[p][0] for p in params}
                for p in params:
                    out.append(Step(kind, **{**whole, p: None}))
            self.run.malformed[cloud] = out
        return [s for s in out if s.kind in self.allowed]

    def renamed_moves(self) -> list[Step]:
        """The new moves of the state under an id the spec refuses: one already
        taken while the cloud's limit is not reached (Nova's unique migration
        record), or a fresh one once it is (``max_migrations``).  The
        candidates name the next fresh id only, so neither comes up otherwise."""
        state, cloud = self.checker.state, self.checker.cloud
        taken = list(dict.fromkeys(m.id for m in state.migrations))
        if len(state.migrations) >= cloud.max_migrations:
            ids = [f"m{cloud.max_migrations + 1}"]
            moves = self._moves_of_live_instances()
        elif taken:
            ids = taken
            moves = [c for c in self.pools().enabled if c.kind in CREATES]
        else:
            return []
        return [c._replace(migration=i) for c in moves for i in ids]

    def _moves_of_live_instances(self) -> list[Step]:
        """Every creating step of a booted, not deleted instance (at the limit the
        spec's candidates have none: no id is left to hand out)."""
        state = self.checker.state
        live = [i.id for i in state.instances if i is not None and i.vm_state != "deleted"]
        if not live:
            return []
        out = []
        for kind in CREATES:
            if kind not in self.allowed:
                continue
            params = [p for p in STEPS[kind].params if p not in ("migration", "instance")]
            combos: list[dict] = [{}]
            for p in params:
                combos = [{**c, p: v} for c in combos for v in self.names[p]]
            out += [Step(kind, migration="-", instance=i, **c) for i in live for c in combos]
        return out

    def restart(self, draw) -> list[Step]:
        """A restart of a host a move touches, in two steps: ``host_down`` of the
        source or dest of a move in flight (of any move when none is; of a
        host with an instance when there is no move yet), before or after the
        instance has left it; then, while a host is down,
        ``host_up`` (Nova's ``init_host``: where a restart forgets or frees
        what a move holds)."""
        enabled = self.pools().enabled
        ups = [c for c in enabled if c.kind == "host_up"]
        if ups:
            # Not another host down too: it is most often the destination of the
            # evacuation waiting on the first, and starves the evacuation flow.
            return ups
        state = self.checker.state
        moves = self.in_flight() or state.migrations
        touched = {h for m in moves for h in (m.source, m.dest)} or {
            i.host for i in state.instances if i is not None and i.vm_state != "deleted"}
        return [c for c in enabled if c.kind == "host_down" and c.host in touched]

    def move_audit(self, draw) -> list[Step]:
        """An audit (``update_available_resource``) of a host an in-flight move
        touches: between any two steps of a move is where the race bugs live."""
        if "audit" not in self.allowed:
            return []
        touched = {h for m in self.in_flight() for h in (m.source, m.dest)}
        return [c for c in self.pools().enabled if c.kind == "audit" and c.host in touched]

    def next_of_move(self, draw) -> list[Step]:
        """A move's next step along its status machine (drawn uniformly, the later
        steps of a move, such as ``revert_finish``, would almost never fire)."""
        pools = self.pools()
        # An instance whose host is down is an evacuation waiting to start, and
        # a host a move touches that is down is waiting to start again (the
        # status machines name host_up only for an evacuation's source).
        touched = {h for m in self.checker.state.migrations for h in (m.source, m.dest)}
        pool = [c for c in pools.enabled if c.kind == "evacuate_start"
                or (c.kind == "host_up" and c.host in touched)]
        for m in self.in_flight():
            own = FORWARD.get((m.migration_type, m.status), ())
            pool += [c for c in pools.enabled if c.kind in own and (
                c.migration == m.id or (c.kind == "host_up" and c.host == m.source))]
            # A move's claim that does not fit (an evacuation's rebuild_claim on
            # a full destination) is still its next step to ask for: leaving it
            # out would steer every run away from the situation.
            pool += [c for c, code in pools.refused
                     if code in MISFIT and c.kind in own and c.migration == m.id]
        return pool

    # ------------------------------------------------------------------ rules

    @rule(step=steps())
    def step(self, step):
        """Apply one step to the tracker and the spec; compare."""
        self.apply(step)


class PinnedCloud(ConformanceMachine):
    """Every example on the cloud the user pinned."""

    @initialize(swarm=SWARMS)
    def reset(self, swarm):
        self.start(self.run.cloud, swarm)


class GeneratedClouds(ConformanceMachine):
    """Each example on its own cloud from :func:`movecheck.conformance.clouds.clouds`."""

    @initialize(cloud=clouds(), swarm=SWARMS)
    def reset(self, cloud, swarm):
        self.start(cloud, swarm)


def conformance_machine(run: _Run) -> type[ConformanceMachine]:
    """The machine class bound to one run (its rules are :class:`ConformanceMachine`'s)."""
    base = PinnedCloud if run.cloud is not None else GeneratedClouds
    return type(base.__name__, (base,), {"run": run})


class KeyedDatabase(ExampleDatabase):
    """An example database whose keys are prefixed with a digest of the tracker
    and the cloud, so that runs of different trackers or clouds sharing one
    database never replay each other's examples."""

    def __init__(self, inner: ExampleDatabase, scope: str):
        super().__init__()
        self.inner = inner
        self.prefix = hashlib.sha256(scope.encode()).digest()[:8]

    def save(self, key: bytes, value: bytes) -> None:
        self.inner.save(self.prefix + key, value)

    def fetch(self, key: bytes):
        return self.inner.fetch(self.prefix + key)

    def delete(self, key: bytes, value: bytes) -> None:
        self.inner.delete(self.prefix + key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.inner.move(self.prefix + src, self.prefix + dest, value)


class _BadInput(BaseException):
    """Stops a run at the adapter's bad input (kept in ``_Run.bad_input``)."""


class _OutOfShrinkTime(KeyboardInterrupt):
    """Stops a run whose shrinking used up its budget (``_Run.best`` is kept).  A
    KeyboardInterrupt, because that is what Hypothesis lets through untouched:
    any other exception would end one example earlier than the same draws did
    before, which it reports as inconsistent data generation."""


def run_conformance(factory: Callable[[], Any], cloud: Cloud | None, *,
                    examples: int = DEFAULT_EXAMPLES, steps: int = DEFAULT_STEPS,
                    seed: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                    label: str = "tracker", database: Any = None,
                    on_found: Callable[[Discrepancy, Cloud], None] | None = None,
                    progress: Callable[[int, int, bool], None] | None = None,
                    tracker: Any = None, shrink: bool = True,
                    shrink_budget: int | None = DEFAULT_SHRINK_BUDGET) -> ConformanceResult:
    """Run Hypothesis-driven conformance of ``factory()`` against the spec.

    ``cloud`` None draws each example's cloud from the family of
    :mod:`movecheck.conformance.clouds`; a cloud pins it.  ``database`` is a
    Hypothesis example database (None: none, so a seeded run is
    reproducible); ``on_found(discrepancy, cloud)`` is called with each
    shorter counterexample as soon as it is found; ``progress(examples,
    steps, found)`` after each step; ``shrink_budget`` bounds the examples
    Hypothesis runs after the first failure (None: no bound).  Ctrl-C ends the run early with
    ``interrupted`` set and the best counterexample so far.  Tracker faults
    are discrepancies; a tracker that cannot be created or never answers its
    first ``reset`` raises :class:`SetupError`.  A tracker created here
    (``tracker`` None) is closed at the end.  ``shrink`` False stops at the
    first failing example as found (``movecheck check``'s quick catalogue
    run): no Hypothesis shrinking, no minimizing.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky
    from hypothesis.stateful import run_state_machine_as_test

    from movecheck.spec.cloudfile import default_cloud

    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    result = ConformanceResult(label, cloud, seed, generated_clouds=cloud is None)
    t0 = time.perf_counter()
    own = tracker is None
    if own:
        try:
            tracker = guarded_call(factory, ..., what=f"creating tracker {label}", timeout=timeout)
        except TrackerFault as e:
            raise SetupError(f"tracker {label} could not be created: {e}") from None
    # One reset up front: a jsonl tracker declares its capabilities and
    # unsupported steps in its reply; a tracker that fails it never started.
    probe = Checker(cloud or default_cloud(), tracker, timeout=timeout)
    try:
        probe.reset()
    except Discrepancy as d:
        if d.category in ("fault", "timeout"):
            if own:
                _close(tracker, timeout)
            raise SetupError(f"tracker {label} did not start: {d.message}") from None
        result.discrepancy, result.failing_cloud = d, probe.cloud
    result.capabilities = probe.capabilities
    run = _Run(cloud, tracker, timeout, on_found, progress, shrink_budget)
    result.unsupported_steps = tuple(k for k in STEPS if k in run.unsupported)
    machine = hseed(seed)(conformance_machine(run))
    if database is not None:
        scope = f"{label}|{'generated' if cloud is None else cloud.to_json()}"
        database = KeyedDatabase(database, scope)
    conf = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=database,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if shrink else ()))
    try:
        if result.discrepancy is None:
            with alarm_handler(), no_local_constants():
                try:
                    run_state_machine_as_test(machine, settings=conf)
                except _OutOfShrinkTime:
                    raise run.best from None
    except Discrepancy as d:
        # The last run Hypothesis makes is its minimal example.
        result.discrepancy, result.failing_cloud = run.best, run.best_cloud
        if run.last is not None and run.last[0] is d and len(d.trace) <= len(run.best.trace):
            result.discrepancy, result.failing_cloud = run.last
        if run.shrink_cut:
            result.note = (f"Hypothesis's shrinking stopped after {shrink_budget} examples: the "
                           "counterexample is the shortest found by then, cut down step by step")
        if shrink and result.discrepancy.category != "timeout":
            # Steps drawn from what the state allows change meaning when an
            # earlier step is deleted; delete concrete steps Hypothesis could not.
            shorter = minimize(result.failing_cloud, tracker, result.discrepancy, timeout)
            if len(shorter.trace) < len(result.discrepancy.trace):
                result.discrepancy = shorter
                if on_found is not None:
                    on_found(shorter, result.failing_cloud)
    except Flaky as e:
        result.discrepancy, result.failing_cloud = run.best, run.best_cloud
        result.note = (f"the tracker is not deterministic (Hypothesis: {type(e).__name__}); "
                       "the counterexample shown is the shortest seen")
    except KeyboardInterrupt:
        result.interrupted = True
        result.discrepancy, result.failing_cloud = run.best, run.best_cloud
    except _BadInput:
        # Exit 2 with one sentence; the report keeps what the run had done.
        e = run.bad_input
        result.discrepancy, result.failing_cloud = run.best, run.best_cloud
        e.report_fields = result.report_fields  # read once the counts below are set
        raise e from None
    finally:
        result.examples, result.steps = run.examples, run.steps
        result.coverage = run.coverage
        result.first_failure_seconds = run.first_seconds
        result.first_failure_example = run.first_example
        if own:
            _close(tracker, timeout)
        result.seconds = time.perf_counter() - t0
    return result


def _close(tracker: Any, timeout: float | None) -> None:
    try:
        guarded_call(tracker.close, ..., what="close()", timeout=timeout)
    except TrackerFault:
        pass  # a tracker that cannot close cleanly must not hide the report
