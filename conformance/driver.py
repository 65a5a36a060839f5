"""The conformance driver: a Hypothesis ``RuleBasedStateMachine`` over the spec's steps.

Each example resets the tracker, draws a *swarm* (a random set of step kinds
switched off for the whole example, Groce et al., "Swarm Testing", ISSTA 2012)
so that rare interleavings (an audit between two steps of a move, a host going
down mid-move) get room, then runs steps.  A step is drawn as an index into
:meth:`Spec.candidate_steps`: an enabled step or,
one time in eight, one the spec *rejects* (or a
step naming things that do not exist).  A step is drawn as a kind and its
parameters by name, falling back to the first enabled candidate from a drawn
index (cyclically) when the drawn step is not enabled: names keep later steps
stable when Hypothesis deletes earlier ones, so runs shrink to short programs.

Every step goes through :class:`movecheck.conformance.checker.Checker`; the
first :class:`Discrepancy` fails the example, Hypothesis shrinks it, and every
shorter counterexample found on the way is handed to ``on_found`` at once, so
a report exists on disk before shrinking ends (and survives Ctrl-C).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from movecheck.conformance.checker import Checker, Coverage, Discrepancy
from movecheck.conformance.faults import TrackerFault, alarm_handler, guarded_call
from movecheck.conformance.minimize import minimize
from movecheck.spec.errors import InputError
from movecheck.spec.statuses import NEW, STATUS_MACHINES, TERMINAL
from movecheck.spec.steps import CREATING_STEPS, STEPS
from movecheck.spec.vocab import Cloud, Step

#: One step in REJECT_ONE_IN is drawn among the steps the spec rejects
#: (the mode is three bits of the rule's one draw).
REJECT_ONE_IN = 8

#: Modes (of 0..REJECT_ONE_IN - 1): 0-1 draw a step kind; START_MODE first tries
#: to start a move; ADVANCE_MODES first try to take a move one step further;
#: AUDIT_MODES first try an audit of a host an in-progress move touches (the
#: race bugs live in audits between two steps of a move); the last rejects.
START_MODE = 2
ADVANCE_MODES = (3, 4, 5)
CLAIMS = frozenset(k for k, d in STEPS.items() if d.claims)
HOST_STEPS = frozenset({"host_down", "host_up", "audit"})
AUDIT_MODES = (6,)

#: (migration type, status) -> the move's own steps on the edges leaving it
#: (``fail`` and ``delete`` are drawn like any other step).
FORWARD: dict[tuple[str, str], tuple[str, ...]] = {}
for _t, _g in STATUS_MACHINES.items():
    for _a, _b, _d in _g.edges(data=True):
        if _a != NEW:
            _own = tuple(k for k in _d["steps"] if k not in ("fail", "delete"))
            FORWARD[(_t, _a)] = tuple(dict.fromkeys(FORWARD.get((_t, _a), ()) + _own))

#: Step kinds swarm testing may switch off: the choices at branch points of
#: the status machines and the disruptions.  A move's own progress steps stay
#: on (a move needs all of them in order), and so does ``boot``.
SWARM_KINDS = ("delete", "resize_claim", "live_claim", "evacuate_start", "confirm", "revert",
               "live_abort", "fail", "host_down", "host_up", "audit")

#: The kinds among them that end moves early.
DISRUPTIONS = frozenset({"delete", "fail", "host_down", "live_abort"})

#: Many short examples: the default cloud allows two migrations, and the steps
#: after both have ended rarely find anything new (200 x 15 exercises more
#: status edges than 100 x 30 in about the same time).
DEFAULT_EXAMPLES = 200
DEFAULT_STEPS = 15
DEFAULT_TIMEOUT = 10.0


@dataclass
class ConformanceResult:
    """What one conformance run found (the ``conform`` report fields, docs/cli.md)."""

    tracker: str
    cloud: Cloud
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

    @property
    def ok(self) -> bool:
        return self.discrepancy is None and not self.interrupted

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0

    def report_fields(self) -> dict[str, Any]:
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
            "cloud": self.cloud.to_json(),
        }


def _misfit(reason: str | None) -> bool:
    """True for a claim the spec rejects because it does not fit (capacity or devices)."""
    return reason is not None and ("does not fit" in reason or "free devices" in reason)


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

    def __init__(self, cloud, tracker, timeout, on_found, progress):
        self.cloud = cloud
        self.tracker = tracker
        self.timeout = timeout
        self.on_found = on_found
        self.progress = progress
        self.coverage = Coverage()
        self.examples = 0
        self.steps = 0
        self.best: Discrepancy | None = None
        self.frozen: Discrepancy | None = None
        self.bad_input: InputError | None = None  # the adapter's malformed report
        self.unsupported = frozenset(getattr(tracker, "unsupported_steps", ()) or ())
        self.unknown = _unknown_steps(cloud)
        self.supported = frozenset(k for k in STEPS if k not in self.unsupported)

    def found(self, d: Discrepancy) -> None:
        if d.category == "timeout":
            # Shrinking a hang costs a timeout per attempt: freeze the run on
            # this counterexample (every later example fails at once with it).
            self.frozen = d
        if self.best is None or len(d.trace) < len(self.best.trace):
            self.best = d
            if self.on_found is not None:
                self.on_found(d)


def _machine(run: _Run):
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

    class ConformanceMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            run.examples += 1
            self.checker = Checker(run.cloud, run.tracker, timeout=run.timeout,
                                   coverage=run.coverage)
            self.kinds = tuple(k for k in STEPS if k not in run.unsupported)
            self.allowed = run.supported
            self.index = 0
            self._cands_of, self._cands = None, []

        def _guard(self, fn, *args):
            try:
                fn(*args)
            except Discrepancy as d:
                run.found(d)
                raise
            except InputError as e:
                # Bad input of the adapter (exit 2): nothing to shrink, so the
                # run stops here (a BaseException passes through Hypothesis).
                run.bad_input = e
                raise _BadInput from e

        @initialize(swarm=st.integers(0, 4 ** len(SWARM_KINDS) - 1))
        def start(self, swarm):
            if run.frozen is not None:
                raise run.frozen
            # Each kind is off with probability 1/4 (both of its two bits set),
            # a disruption (which ends moves early) with probability 1/2: bugs
            # need several kinds together (a claim, then an audit), and
            # Hypothesis's own sets would switch most kinds off.  0 = all on.
            off = frozenset(k for j, k in enumerate(SWARM_KINDS)
                            if (swarm >> 2 * j) & 3 == 3
                            or (k in DISRUPTIONS and (swarm >> 2 * j) & 1))
            off |= run.unsupported
            # The step kinds this example may draw from (swarm testing).
            self.kinds = tuple(k for k in STEPS if k not in off) or ("boot",)
            self.allowed = frozenset(self.kinds)
            self._guard(self.checker.reset)

        @rule(x=st.integers(0, 2**23 - 1))
        def step(self, x):
            # One draw carries mode (3 bits), kind (8 bits) and arguments (12
            # bits): each draw costs Hypothesis about as much as a whole
            # trivial rule, and x = 0 still shrinks to the simplest step.
            # Hypothesis often repeats a value in a sequence (it is good at
            # finding bugs that need the same value twice); mixing in the step's
            # position keeps a repeated draw from repeating the same kind of step.
            self.index += 1
            x ^= (self.index * 0x9E3779) & 0x7FFFFF
            mode, k, arg = x & 7, (x >> 3) & 255, x >> 11
            step = None
            if mode in ADVANCE_MODES:
                step = self._advance(arg)
            elif mode == START_MODE:
                step = self._start_move(arg)
            elif mode in AUDIT_MODES:
                step = self._audit_a_move(arg)
            if step is None:
                step = self._choose(self.kinds[k % len(self.kinds)], arg,
                                    reject=mode == REJECT_ONE_IN - 1)
            run.steps += 1
            if run.progress is not None:
                run.progress(run.examples, run.steps, run.best is not None)
            self._guard(self.checker.apply, step)

        def _build(self, kind: str, arg: int) -> Step:
            """The step ``kind`` with parameters decoded from ``arg`` as mixed-radix digits.

            Parameters are names (not positions in a candidate list), so that
            deleting an earlier step while shrinking leaves later steps alone.
            """
            spec, state, cloud = self.checker.spec, self.checker.state, run.cloud
            params = {}
            for p in STEPS[kind].params:
                if p == "migration":
                    if kind in CREATING_STEPS:
                        ids = spec.migration_ids
                        params[p] = ids[min(len(state.migrations), len(ids) - 1)] if ids else "m1"
                        continue
                    names = [m.id for m in state.migrations] or ["m1"]
                elif p == "instance":
                    names = cloud.instances
                elif p == "flavor":
                    names = cloud.flavor_names
                else:  # host, dest
                    names = cloud.host_names
                params[p] = names[arg % len(names)]
                arg //= len(names)
            return Step(kind, **params)

        def _advance(self, arg: int) -> Step | None:
            """A step that takes an in-progress migration along a forward edge, or None.

            Moves need five to seven steps in order; drawn uniformly, the later
            ones (revert_finish, live_complete) would almost never fire.
            """
            spec, state = self.checker.spec, self.checker.state
            options = []
            for m in state.migrations:
                for kind in FORWARD.get((m.migration_type, m.status), ()):
                    if kind not in self.allowed:
                        continue
                    step = (Step(kind, host=m.source) if kind == "host_up"
                            else Step(kind, migration=m.id))
                    if spec.why_rejected(state, step) is None:
                        options.append(step)
            return options[arg % len(options)] if options else None

        def _candidates(self) -> list[Step]:
            """Spec.candidate_steps of the current state, computed once per state."""
            state = self.checker.state
            if self._cands_of is not state:
                self._cands = list(self.checker.spec.candidate_steps(state))
                self._cands_of = state
            return self._cands

        def _start_move(self, arg: int) -> Step | None:
            """An enabled step that creates a migration (resize, live, evacuate) or
            takes down a host with an instance on it (so it can be evacuated), or None."""
            spec, state = self.checker.spec, self.checker.state
            if arg % 2:
                # One time in two: a move whose claim does not fit (it must
                # change nothing; bug 1549984's rejected claim kept devices).
                misfits = [c for c in self._candidates()
                           if c.kind in CREATING_STEPS and c.kind in self.allowed
                           and _misfit(spec.why_rejected(state, c))]
                # Prefer claims that need devices: a claim that grabs devices
                # before its capacity test fails is the bug to catch.
                greedy = [c for c in misfits if spec.ndev[spec.claim_target(state, c)[1]]]
                pool = greedy or misfits
                if pool:
                    return pool[(arg >> 1) % len(pool)]
            options = [c for c in self._candidates()
                       if c.kind in CREATING_STEPS and c.kind in self.allowed
                       and spec.why_rejected(state, c) is None]
            if "host_down" in self.allowed and "evacuate_start" in self.allowed:
                for h in dict.fromkeys(i.host for i in state.instances
                                       if i is not None and i.vm_state != "deleted"):
                    if spec.is_up(state, h):
                        options.append(Step("host_down", host=h))
            return options[arg % len(options)] if options else None

        def _audit_a_move(self, arg: int) -> Step | None:
            """An audit of the source or dest of an in-progress move, or None."""
            if "audit" not in self.allowed:
                return None
            spec, state = self.checker.spec, self.checker.state
            hosts = []
            for m in state.migrations:
                if m.status not in TERMINAL[m.migration_type]:
                    hosts += [h for h in (m.source, m.dest) if h not in hosts]
            hosts = [h for h in hosts if spec.is_up(state, h)]
            return Step("audit", host=hosts[arg % len(hosts)]) if hosts else None

        def _choose(self, kind: str, arg: int, reject: bool) -> Step:
            """The step to run: the drawn one, or a fallback from a drawn position.

            Falling back to *any* enabled step keeps generation efficient (most
            drawn steps are not enabled); it makes Hypothesis's shrinking
            positional, which :mod:`movecheck.conformance.minimize` repairs by
            deleting concrete steps afterwards.
            """
            spec, state = self.checker.spec, self.checker.state
            step = self._build(kind, arg)
            if reject:
                if arg % 5 == 4:
                    return run.unknown[(arg // 5) % len(run.unknown)]
                if spec.why_rejected(state, step) is not None:
                    return step
            else:
                reason = spec.why_rejected(state, step)
                if reason is None:
                    return step
                if kind in CLAIMS and _misfit(reason) and arg & 1:
                    # A claim that does not fit is a rejection worth asking
                    # about often (bug 1549984: the rejected claim kept devices).
                    return step
            cands = self._candidates()
            n = len(cands)
            allowed = self.allowed
            if reject:
                for j in range(n):
                    c = cands[(arg + j) % n]
                    if c.kind in allowed and spec.why_rejected(state, c) is not None:
                        return c
            # Fall back to the same kind first (boot i2 when i1 is booted), then
            # to any kind but the host steps, then to an audit: host steps are
            # almost always enabled, and as fallbacks they would crowd out
            # moves and keep hosts down.
            for ok in (frozenset({kind}) & allowed, allowed - HOST_STEPS,
                       allowed & {"audit"}, allowed, run.supported):
                for j in range(n):
                    c = cands[(arg + j) % n]
                    if c.kind in ok and spec.why_rejected(state, c) is None:
                        return c
            # Every host down and host_up unsupported: nothing is enabled; a
            # rejected audit is still a fair question.
            return Step("audit", host=run.cloud.host_names[arg % len(run.cloud.hosts)])

    ConformanceMachine.__name__ = "ConformanceMachine"
    return ConformanceMachine


class _BadInput(BaseException):
    """Stops a run at the adapter's bad input (kept in ``_Run.bad_input``)."""


def run_conformance(factory: Callable[[], Any], cloud: Cloud, *, examples: int = DEFAULT_EXAMPLES,
                    steps: int = DEFAULT_STEPS, seed: int | None = None,
                    timeout: float | None = DEFAULT_TIMEOUT, label: str = "tracker",
                    database: Any = None, on_found: Callable[[Discrepancy], None] | None = None,
                    progress: Callable[[int, int, bool], None] | None = None,
                    tracker: Any = None) -> ConformanceResult:
    """Run Hypothesis-driven conformance of ``factory()`` against the spec on ``cloud``.

    ``database`` is a Hypothesis example database (None: none, so a seeded run
    is reproducible); ``on_found`` is called with each shorter counterexample
    as soon as it is found; ``progress(examples, steps, found)`` after each step.
    Ctrl-C ends the run early with ``interrupted`` set and the best
    counterexample so far.  Never raises for tracker faults: they are discrepancies.
    A tracker created here (``tracker`` None) is closed at the end.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky
    from hypothesis.stateful import run_state_machine_as_test

    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    result = ConformanceResult(label, cloud, seed)
    t0 = time.perf_counter()
    own = tracker is None
    if own:
        try:
            tracker = guarded_call(factory, ..., what=f"creating tracker {label}", timeout=timeout)
        except TrackerFault as e:
            result.discrepancy = Discrepancy(-1, str(e), {}, {"fault": str(e)}, [])
            result.seconds = time.perf_counter() - t0
            return result
    # One reset up front: a jsonl tracker declares its capabilities in its reply.
    probe = Checker(cloud, tracker, timeout=timeout)
    try:
        probe.reset()
    except Discrepancy as d:
        result.discrepancy = d
    result.capabilities = probe.capabilities
    run = _Run(cloud, tracker, timeout, on_found, progress)
    result.unsupported_steps = tuple(k for k in STEPS if k in run.unsupported)
    machine = _machine(run)
    # Distinguish trackers and clouds in a shared example database.
    machine._hypothesis_internal_add_digest = f"{label}|{cloud.to_json()}".encode()
    machine = hseed(seed)(machine)
    conf = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=database,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
        report_multiple_bugs=False, phases=(Phase.explicit, Phase.reuse, Phase.generate,
                                            Phase.shrink))
    try:
        if result.discrepancy is None:
            with alarm_handler():
                run_state_machine_as_test(machine, settings=conf)
    except Discrepancy as d:
        # The last run Hypothesis makes is its minimal example; delete concrete
        # steps Hypothesis could not (see movecheck.conformance.minimize).
        result.discrepancy = d if d.category == "timeout" else minimize(cloud, tracker, d, timeout)
        if on_found is not None and len(result.discrepancy.trace) < len(d.trace):
            on_found(result.discrepancy)
    except Flaky as e:
        result.discrepancy = run.best
        result.note = (f"the tracker is not deterministic (Hypothesis: {type(e).__name__}); "
                       "the counterexample shown is the shortest seen")
    except KeyboardInterrupt:
        result.interrupted = True
        result.discrepancy = run.best
    except _BadInput:
        # Exit 2 with one sentence; the report keeps what the run had done.
        e = run.bad_input
        result.discrepancy = run.best
        e.report_fields = result.report_fields  # read once the counts below are set
        raise e from None
    finally:
        result.examples, result.steps = run.examples, run.steps
        result.coverage = run.coverage
        if own:
            try:
                guarded_call(tracker.close, ..., what="close()", timeout=timeout)
            except TrackerFault:
                pass  # a tracker that cannot close cleanly must not hide the report
        result.seconds = time.perf_counter() - t0
    return result
