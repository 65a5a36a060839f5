"""The bug catalogue run: conformance against every buggy tracker (issue 5 item 7).

Each catalogue entry is a tracker that reproduces one historical Nova bug
(``movecheck.model.bugs``, one module per bug).  Each must be caught — the
conformance run finds a discrepancy — and the reference tracker must pass.
In the spirit of CrossHair's ``bugs_detected/`` examples: the pinned figure
is "every catalogue bug caught, the reference clean".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from movecheck.conformance.driver import DEFAULT_TIMEOUT, ConformanceResult, run_conformance
from movecheck.spec.errors import InputError, Interrupted
from movecheck.spec.vocab import Cloud

#: Where the catalogue lives unless ``--catalogue`` says otherwise.
DEFAULT_CATALOGUE = "movecheck.model.bugs:CATALOGUE"

#: Examples and steps per mutant by default: a run stops at its first
#: discrepancy, so only a bug that escapes pays the whole budget.  Short
#: examples, many of them: the default cloud allows two migrations, and the
#: steps after both have ended rarely find anything new (seeds 0-5 catch all
#: 19 catalogue bugs with 1000 x 15; with 500 x 30 each seed from 3 on missed one).
DEFAULT_MUTANT_EXAMPLES = 1000
DEFAULT_MUTANT_STEPS = 15


#: The section of docs/bugs.md that bench/mutation.py writes (the mutation score
#: and every surviving mutant's classification); ``--write-docs`` keeps it.
MUTATION_SECTION = ("<!-- mutation-score: begin -->", "<!-- mutation-score: end -->")

#: What the table says when a bug shows only as a disagreement about a guard.
GUARD_ONLY = "none: accepts/rejects a step unlike the spec"


@dataclass
class Mutant:
    name: str
    bugs: tuple[str, ...]
    factory: Callable[[], Any]
    summary: str = ""
    fix: str = ""


@dataclass
class MutantResult:
    mutant: Mutant
    result: ConformanceResult

    @property
    def caught(self) -> bool:
        return self.result.discrepancy is not None

    def to_json(self) -> dict[str, Any]:
        d = self.result.discrepancy
        return {
            "name": self.mutant.name,
            "bugs": list(self.mutant.bugs),
            "caught": self.caught,
            "seconds": round(self.result.seconds, 3),
            "counterexample_length": None if d is None else len(d.trace),
            "first_failure_seconds": None if self.result.first_failure_seconds is None
            else round(self.result.first_failure_seconds, 3),
            "examples": self.result.examples,
            "steps": self.result.steps,
            "invariants": [] if d is None else d.invariants,
            "message": None if d is None else d.message,
            "counterexample": None if d is None else [
                {k: v for k, v in e.items() if k != "expected"} for e in d.trace],
        }


def _attr(obj: Any, *names: str) -> Any:
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
        if isinstance(obj, dict) and n in obj:
            return obj[n]
    return None


def _mutant(name: str, entry: Any) -> Mutant:
    """A catalogue entry (a module, an object or a mapping) as a :class:`Mutant`."""
    factory = _attr(entry, "factory", "FACTORY", "tracker_factory")
    if factory is None and callable(entry) and not isinstance(entry, type(importlib)):
        factory = entry
    if factory is None:
        raise InputError(f"catalogue entry {name!r} has no factory")
    bugs = _attr(entry, "bugs", "BUGS", "bug_ids", "BUG_IDS", "BUG_ID", "bug") or ()
    if isinstance(bugs, str):
        bugs = (bugs,)
    doc = _attr(entry, "summary", "SUMMARY", "description") or (getattr(entry, "__doc__", None) or "")
    fix = _attr(entry, "fix", "FIX", "FIXED_BY", "fixed_by", "commit", "COMMIT") or ""
    return Mutant(name, tuple(str(b) for b in bugs), factory, str(doc).strip(), str(fix))


def load_catalogue(spec: str = DEFAULT_CATALOGUE) -> list[Mutant]:
    """The mutants named by ``package.module:NAME`` (a dict name → entry, or a list)."""
    module_name, _, attr = spec.partition(":")
    try:
        mod = importlib.import_module(module_name)
    except ImportError as e:
        raise InputError(f"cannot import the bug catalogue {module_name}: {e}") from None
    cat = getattr(mod, attr or "CATALOGUE", None)
    if cat is None:
        raise InputError(f"{module_name} has no {attr or 'CATALOGUE'} (the bug catalogue is "
                         "not built yet)")
    if isinstance(cat, dict):
        items = list(cat.items())
    else:
        items = [(_attr(e, "name", "NAME") or getattr(e, "__name__", str(e)).rsplit(".", 1)[-1], e)
                 for e in cat]
    if not items:
        raise InputError(f"the bug catalogue {spec} is empty")
    return [_mutant(str(n), e) for n, e in items]


def run_mutants(cloud: Cloud | None, *, mutants: list[Mutant] | None = None,
                reference: Callable[[], Any] | None = None,
                examples: int = DEFAULT_MUTANT_EXAMPLES, steps: int = DEFAULT_MUTANT_STEPS,
                seed: int = 0, timeout: float | None = DEFAULT_TIMEOUT,
                reference_examples: int = 100,
                progress: Callable[[str, MutantResult | None], None] | None = None,
                shrink: bool = True,
                ) -> tuple[list[MutantResult], ConformanceResult | None]:
    """Run conformance against every mutant (and the reference, unless ``reference`` is False)."""
    from movecheck.conformance.adapters import resolve_tracker

    if mutants is None:
        mutants = load_catalogue()
    out = []
    for m in mutants:
        if progress is not None:
            progress(m.name, None)
        r = run_conformance(m.factory, cloud, examples=examples, steps=steps, seed=seed,
                            timeout=timeout, label=m.name, shrink=shrink)
        if r.interrupted:
            # A stopped run is no verdict on this mutant or the ones after it.
            raise Interrupted({"mutants_run": len(out), "mutants_total": len(mutants),
                               "caught": sum(x.caught for x in out),
                               "interrupted_at": m.name,
                               "results": [x.to_json() for x in out]},
                              f"bug catalogue stopped at {m.name}")
        out.append(MutantResult(m, r))
        if progress is not None:
            progress(m.name, out[-1])
    ref = None
    if reference is not False:
        factory = reference or resolve_tracker("reference", timeout=timeout)
        ref = run_conformance(factory, cloud, examples=reference_examples, steps=steps,
                              seed=seed, timeout=timeout, label="reference")
        if ref.interrupted:
            raise Interrupted({"mutants_run": len(out), "mutants_total": len(mutants),
                               "caught": sum(x.caught for x in out),
                               "interrupted_at": "reference tracker",
                               "results": [x.to_json() for x in out]},
                              "bug catalogue stopped while checking the reference tracker")
    return out, ref


class _AllCaught(BaseException):
    """Ends a shared run once every bug is caught (a BaseException passes through
    Hypothesis, which would otherwise count it as a failure)."""


def run_together(cloud: Cloud | None, mutants: list[Mutant], *, seed: int = 0,
                 examples: int = DEFAULT_MUTANT_EXAMPLES, steps: int = DEFAULT_MUTANT_STEPS,
                 timeout: float | None = DEFAULT_TIMEOUT,
                 ) -> tuple[list[MutantResult], str | None]:
    """Every catalogue bug caught in one conformance run, unshrunk (``movecheck check``).

    One Hypothesis run draws the steps, as for the reference tracker (the lead:
    its spec state decides what is drawn); each step goes to the reference and
    to every bug not caught yet, each with its own :class:`Checker`.  A bug is
    caught at its first discrepancy (its counterexample is that example, from
    its reset); the run ends when every bug is caught or after ``examples``.
    Drawing once for all the bugs instead of once per bug is what makes this
    fast: a step costs one draw and one check per tracker still in the run.
    Returns (per bug, its result; the reference tracker's discrepancy, if any).
    """
    import time

    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as hseed
    from hypothesis.stateful import run_state_machine_as_test

    from movecheck.conformance.adapters import resolve_tracker
    from movecheck.conformance.checker import Checker, Discrepancy
    from movecheck.conformance.driver import (
        SetupError,
        _Run,
        conformance_machine,
    )
    from movecheck.conformance.faults import (
        TrackerFault,
        alarm_handler,
        guarded_call,
        no_local_constants,
    )

    t0 = time.perf_counter()
    trackers: dict[str, Any] = {}
    for m in mutants:
        try:
            trackers[m.name] = guarded_call(m.factory, ..., what=f"creating tracker {m.name}",
                                            timeout=timeout)
        except TrackerFault as e:
            raise SetupError(f"tracker {m.name} could not be created: {e}") from None
    live = [m.name for m in mutants]
    taken: dict[str, int] = dict.fromkeys(live, 0)
    caught: dict[str, ConformanceResult] = {}
    lead = resolve_tracker("reference", timeout=timeout)()
    run = _Run(cloud, lead, timeout, None, None)

    def catch(name: str, d: Discrepancy, on: Cloud) -> None:
        live.remove(name)
        seconds = time.perf_counter() - t0
        caught[name] = ConformanceResult(
            name, cloud, seed, examples=run.examples, steps=taken[name], discrepancy=d,
            seconds=seconds, failing_cloud=on, first_failure_seconds=seconds,
            first_failure_example=run.examples)

    base = conformance_machine(run)

    class Together(base):  # type: ignore[misc, valid-type]
        def start(self, cloud, swarm):
            super().start(cloud, swarm)
            self.others = {}
            for name in list(live):
                ch = Checker(cloud, trackers[name], timeout=timeout, spec=self.checker.spec)
                try:
                    ch.reset()
                except Discrepancy as d:
                    catch(name, d, self.checker.cloud)
                    continue
                self.others[name] = ch
            if not live:
                raise _AllCaught

        def apply(self, step):
            super().apply(step)
            for name, ch in list(self.others.items()):
                taken[name] += 1
                try:
                    ch.apply(step)
                except Discrepancy as d:
                    del self.others[name]
                    catch(name, d, self.checker.cloud)
            if not live:
                raise _AllCaught

    conf = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
        report_multiple_bugs=False, phases=(Phase.explicit, Phase.reuse, Phase.generate))
    ref_failure = None
    try:
        with alarm_handler(), no_local_constants():
            run_state_machine_as_test(hseed(seed)(Together), settings=conf)
    except _AllCaught:
        pass
    except Discrepancy as d:
        ref_failure = d.message
    finally:
        for t in [lead, *trackers.values()]:
            try:
                guarded_call(t.close, ..., what="close()", timeout=timeout)
            except TrackerFault:
                pass
    seconds = time.perf_counter() - t0
    out = []
    for m in mutants:
        r = caught.get(m.name) or ConformanceResult(m.name, cloud, seed, examples=run.examples,
                                                    steps=taken[m.name], seconds=seconds)
        out.append(MutantResult(m, r))
    return out, ref_failure


def bugs_markdown(results: list[MutantResult], ref: ConformanceResult | None, cloud: Cloud | None,
                  seed: int, seconds: float) -> str:
    """docs/bugs.md: the catalogue table and each shrunk counterexample."""
    caught = sum(r.caught for r in results)
    lines = [
        "# The bug catalogue",
        "",
        "Each entry is the reference tracker with one small change that reproduces a",
        "historical Nova bug (`model/bugs/`, one module per bug: its docstring gives the",
        "Launchpad bug, the Nova commit that fixed it - or, where that commit is not",
        "recorded, Nova's regression test for the bug - and what went wrong).",
        "`movecheck mutants` runs conformance against every one; each must be caught",
        "(a discrepancy with the spec) and the reference tracker must pass.",
        "",
        "This page is generated: `movecheck mutants --seed "
        f"{seed} --write-docs docs/bugs.md` ("
        + ("each example on its own generated cloud, docs/conformance.md" if cloud is None else
           f"cloud: {len(cloud.hosts)} hosts, {len(cloud.instances)} instances, "
           f"{cloud.max_migrations} migrations") + ").",
        "",
        f"**{caught} of {len(results)} bugs caught** in {seconds:.1f} s; reference tracker: "
        + ("passes" if ref is not None and ref.ok else "FAILS" if ref is not None else "not run")
        + ".",
        "",
        "| catalogue entry | Nova bugs | fixed by | caught | seconds | shrunk length | invariants |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for r in results:
        j = r.to_json()
        lines.append(f"| [`{j['name']}`](#{j['name'].lower()}) | "
                     f"{', '.join(j['bugs'])} | {r.mutant.fix or '-'} | "
                     f"{'yes' if j['caught'] else '**NO**'} | "
                     f"{j['seconds']:.2f} | {j['counterexample_length'] or '-'} | "
                     f"{', '.join(j['invariants']) or GUARD_ONLY} |")
    lines.append("")
    for r in results:
        j = r.to_json()
        lines += [f"## {j['name']}", ""]
        if r.mutant.summary:
            fix = f" (fixed by {r.mutant.fix})" if r.mutant.fix else ""
            lines += [f"Nova bug {', '.join(r.mutant.bugs)}{fix}: {r.mutant.summary}.", ""]
        if j["counterexample"] is None:
            lines += ["Not caught.", ""]
            continue
        lines += [f"Caught: {j['message']}.", "", "Shrunk counterexample:", "", "```"]
        for n, e in enumerate(j["counterexample"], 1):
            args = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("step", "picks"))
            picks = f"  picks {','.join(e['picks'])}" if e.get("picks") else ""
            lines.append(f"{n:>2}. {e['step']}({args}){picks}")
        lines += ["```", ""]
    return "\n".join(lines)


def keep_mutation_section(page: str, old: str) -> str:
    """``page`` with the mutation-score section of ``old`` (the page it replaces) appended."""
    begin, end = MUTATION_SECTION
    if begin not in old or end not in old[old.index(begin):]:
        return page
    section = old[old.index(begin):]
    section = section[:section.index(end) + len(end)]
    return page.rstrip("\n") + "\n\n" + section + "\n"
