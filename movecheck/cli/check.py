"""``movecheck check``: the main job on the embedded default cloud, one summary.

Stages: the proofs (bounded and parametric), exhaustive exploration, the
agreement self-check of the two interpretations of the spec, conformance of
the reference tracker, the catalogue of buggy trackers (each must be caught),
and the pictures.  Each stage is a list of :class:`Part` (a proof family, a
cloud, a catalogue bug) and a function that builds its :class:`Stage` from
the parts' results; the summary table and the ``--json`` report list them all.

The quick run (the default) answers in seconds: it skips the vacuity
witnesses, the 3-host cloud and the shrinking of the catalogue's
counterexamples, explores a cloud of more than :data:`QUICK_STATES` states
with fewer migrations (the default cloud with one instead of two), says so
in each stage's summary and in the report's ``skipped``, and runs the parts
in two forked processes at once (two lanes: the machine's two cores),
longest first.  ``--thorough`` runs everything, one
stage after the other in this process, explore with every core.
"""

from __future__ import annotations

import argparse
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from movecheck.cli import (
    add_cloud_arguments,
    add_solver_timeout,
    add_tracker_timeout,
    check_solver_timeout,
    cloud_from_args,
)

HELP = ("the main job: prove the spec, explore it, run conformance of the reference tracker and "
        "the bug catalogue, draw the graphs; one summary (quick; --thorough for everything)")


@dataclass
class Stage:
    name: str
    ok: bool
    summary: str
    seconds: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class Part:
    """One piece of a stage that can run on its own (in a forked process): its result
    is plain data.  ``cost`` is the expected seconds, to start the longest first."""

    label: str
    run: Callable[[], Any]
    cost: float = 1.0


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    p.add_argument("--out", metavar="DIR", default="movecheck-out",
                   help="where pictures and counterexamples go (default movecheck-out)")
    p.add_argument("--seed", type=int, default=0, help="seed for the generated runs (default 0)")
    add_solver_timeout(p, alias=False)
    add_tracker_timeout(p, alias=False)
    # --timeout meant the solver's here and the tracker's in conform: say which is which.
    p.add_argument("--timeout", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--thorough", action="store_true",
                   help="run everything the quick run skips: parametric proofs, vacuity "
                        "witnesses, the whole cloud when it is large (the default cloud with 2 "
                        "migrations, not 1), the 3-host cloud, shrinking of each catalogue "
                        "bug's counterexample (minutes)")


def check_timeouts(args) -> None:
    from movecheck.cli.conform import check_run_arguments
    from movecheck.spec.errors import InputError

    if args.timeout is not None:
        raise InputError("check has two timeouts: --solver-timeout S (per proof query) and "
                         "--tracker-timeout S (per tracker call); --timeout is not one of them")
    check_solver_timeout(args)
    args.examples = args.steps = None
    _, _, args.tracker_timeout = check_run_arguments(args)


def _thorough(args) -> bool:
    return bool(getattr(args, "thorough", False))


def _proof_rows(results) -> list[dict[str, Any]]:
    return [{"name": r.name, "status": r.status, "seconds": round(r.seconds, 3)} for r in results]


def _prove_parts(cloud, args) -> list[Part]:
    """Induction on this cloud (bounded); the parametric proofs (every cloud size) and the
    vacuity witnesses only with --thorough."""

    def bounded():
        from movecheck.spec.engines.prove import prove_all

        return _proof_rows(prove_all(cloud, timeout=args.solver_timeout))

    def parametric():
        from movecheck.spec.engines.parametric import prove_parametric

        return _proof_rows(prove_parametric(cloud, timeout=args.solver_timeout))

    def vacuity():
        from movecheck.spec.engines.vacuity import vacuity as run_vacuity

        witnesses, _ = run_vacuity(cloud)
        return [w.to_json() for w in witnesses]

    parts = [Part("bounded", bounded, 2.0)]
    if _thorough(args):
        parts += [Part("parametric", parametric, 6.0), Part("vacuity", vacuity, 3.0)]
    return parts


def _prove_stage(cloud, args, got: dict[str, Any], ctx) -> Stage:
    from movecheck.spec.engines.prove import PROVED

    bounded, parametric = got["bounded"], got.get("parametric")
    nb = sum(r["status"] == PROVED for r in bounded)
    failed = [f"{r['name']} ({r['status']})" for r in bounded + (parametric or [])
              if r["status"] != PROVED]
    summary = f"{nb} of {len(bounded)} proved bounded"
    report: dict[str, Any] = {"invariants": bounded}
    skipped = []
    if parametric is not None:
        npar = sum(r["status"] == PROVED for r in parametric)
        summary += f", {npar} of {len(parametric)} parametric"
        report["parametric"] = parametric
    else:
        summary += "; parametric proofs (every cloud size) skipped (--thorough)"
        skipped.append("parametric proofs")
    ok = not failed
    if "vacuity" in got:
        witnesses = got["vacuity"]
        found = sum(w["found"] for w in witnesses)
        summary += f"; vacuity {found} of {len(witnesses)} witnesses"
        ok = ok and found == len(witnesses)
        report["vacuity"] = [w for w in witnesses if not w["found"]]
    else:
        summary += "; vacuity skipped (--thorough)"
        skipped.append("vacuity")
    if skipped:
        report["skipped"] = skipped
    if failed:
        summary += f"; not proved: {', '.join(failed[:3])}"
    return Stage("prove", ok, summary, report=report)


#: Clouds (hosts, instances, migrations) explored only by ``check --thorough``: minutes each.
THOROUGH_CLOUDS = ((3, 2, 2),)


#: The quick run explores the cloud exhaustively only if about this many states or fewer
#: (a few seconds); a larger cloud is explored with fewer migrations (the default cloud:
#: 2 hosts x 2 instances x 1 migration, 17,844 states) and whole by --thorough.
QUICK_STATES = 100_000


def _quick_cloud(cloud):
    """The cloud the quick run explores: ``cloud`` itself, or ``cloud`` with the most
    migrations (at least one) whose estimated state count fits :data:`QUICK_STATES`."""
    from dataclasses import replace

    from movecheck.spec.engines.estimate import estimate_states

    m = cloud.max_migrations
    while m > 1 and estimate_states(replace(cloud, max_migrations=m)) > QUICK_STATES:
        m -= 1
    return replace(cloud, max_migrations=m)


def _explore_clouds(cloud, args) -> list[tuple[str, Any]]:
    from movecheck.spec.cloudfile import default_cloud

    if not _thorough(args):
        return [("cloud", _quick_cloud(cloud))]
    return [("cloud", cloud)] + [(_cloud_label(*shape), default_cloud(*shape))
                                 for shape in THOROUGH_CLOUDS]


def _explore_skipped(cloud, args) -> list[str]:
    """What the quick run leaves to --thorough, in words."""
    from movecheck.spec.engines.estimate import estimate_states

    if _thorough(args):
        return []
    skipped = []
    if _quick_cloud(cloud).max_migrations < cloud.max_migrations:
        skipped.append(f"the cloud with {cloud.max_migrations} migrations "
                       f"(about {estimate_states(cloud):,} states)")
    return skipped + [_cloud_label(*shape) for shape in THOROUGH_CLOUDS]


def _cloud_label(h: int, i: int, m: int) -> str:
    return f"{h} hosts x {i} instances x {m} migrations"


def _explore_options(args) -> dict[str, Any]:
    """The quick run explores in one process (its lane; the other lane runs the other
    stages meanwhile); --thorough runs the stages one by one and gives explore every core."""
    from movecheck.spec.engines.explore import default_workers

    return {"workers": default_workers() if _thorough(args) else 1, "symmetry": True,
            "full_states": False, "max_states": None}


def _explore_parts(cloud, args) -> list[Part]:
    """One part per cloud (the default; with --thorough also THOROUGH_CLOUDS)."""
    from movecheck.spec.engines.estimate import check_fits

    opts = _explore_options(args)
    parts = []
    for label, c in _explore_clouds(cloud, args):
        check_fits(c, **opts)  # a cloud too large stops here, before anything runs

        def run_one(c=c, label=label):
            from rich.console import Console

            from movecheck.cli.explore import progress_printer
            from movecheck.spec import Spec
            from movecheck.spec.engines.explore import explore

            console = Console(stderr=True)
            show = _thorough(args)  # two lanes would draw over each other's line
            r, _ = explore(Spec(c), progress=progress_printer(console, c, opts) if show else None,
                           **opts)
            if show and console.is_terminal:
                console.print(" " * 100, end="\r")
            first = r.violations[0].invariant if r.violations else None
            return {"cloud": label, **r.to_json(), "first_violation": first}

        parts.append(Part(label, run_one, 20.0 if label == "cloud" else 300.0))
    return parts


def _explore_stage(cloud, args, got: dict[str, Any], ctx) -> Stage:
    runs = [got[label] for label, _ in _explore_clouds(cloud, args)]
    parts = []
    ok = True
    for r in runs:
        ok = ok and not r["violations"] and r["complete"]
        text = (f"{r['states']:,} states ({r['reduced_states']:,} up to symmetry), "
                f"{r['transitions']:,} transitions, depth {r['depth']}, "
                f"{r['violations']} violations")
        if not r["complete"]:
            text += "; stopped early, not exhaustive"
        if r["first_violation"]:
            text += f" (first: {r['first_violation']})"
        if r["cloud"] == "cloud" and not _thorough(args):
            m = _quick_cloud(cloud).max_migrations
            if m < cloud.max_migrations:
                text = f"with at most {m} migration{'s' if m > 1 else ''}: {text}"
        parts.append(text if r["cloud"] == "cloud" else f"{r['cloud']}: {text}")
    skipped = _explore_skipped(cloud, args)
    summary = "; ".join(parts)
    if skipped:
        summary += f"; skipped {', '.join(skipped)} (--thorough)"
    first = runs[0]
    return Stage("explore", ok, summary, sum(r["seconds"] for r in runs), {
        "states": first["states"], "transitions": first["transitions"], "depth": first["depth"],
        "violations": first["violations"], "complete": first["complete"], "runs": runs,
        "skipped": skipped})


def _agreement(cloud, args, ctx) -> Stage:
    """The two interpretations of the spec agree on random reachable states and steps."""
    from movecheck.spec import Spec
    from movecheck.spec.engines.agreement import self_check

    problems = self_check(Spec(cloud), seed=args.seed)
    summary = "concrete and Z3 interpretations agree" if not problems else \
        f"{len(problems)} disagreements (first: {problems[0]})"
    return Stage("agreement", not problems, summary, report={"problems": problems[:20]})


def _write_counterexample(args, cloud, name, result) -> list[str]:
    """Counterexample to disk (JSON + pytest replay) before anything else can fail."""
    from pathlib import Path

    from movecheck.conformance.counterexample import write_replay
    from movecheck.conformance.report import write_json

    out = Path(args.out)
    paths = [str(write_json(out / f"{name}-counterexample.json", result.report_fields()))]
    paths.append(str(write_replay(out / f"test_{name}_replay.py", name, cloud,
                                  result.discrepancy)))
    return paths


def _conform(cloud, args, ctx) -> Stage:
    from movecheck.cli.conform import coverage_figures, verdict_text
    from movecheck.conformance import resolve_tracker, run_conformance

    r = run_conformance(resolve_tracker("reference", timeout=args.tracker_timeout), cloud,
                        seed=args.seed, label="reference", timeout=args.tracker_timeout)
    fields = r.report_fields()
    ctx["conform"] = fields
    summary = f"reference tracker: {r.examples} examples, {r.steps:,} steps, " + (
        verdict_text(r) if r.ok else f"DISCREPANCY at step {r.discrepancy.step_index}")
    fields.update(coverage_figures(r))
    files = [] if r.ok else _write_counterexample(args, cloud, "reference", r)
    return Stage("conform", r.ok, summary, r.seconds, {**fields, "files": files})


def _mutant_parts(cloud, args) -> list[Part]:
    """Quick: every catalogue bug in one shared run, each stopped at its first failing
    example, unshrunk.  --thorough: one run per bug, its counterexample shrunk.  The
    reference tracker's own verdict is the conform stage's."""
    from movecheck.conformance.driver import run_conformance
    from movecheck.conformance.mutants import (
        DEFAULT_MUTANT_EXAMPLES,
        DEFAULT_MUTANT_STEPS,
        MutantResult,
        load_catalogue,
        run_together,
    )

    mutants = load_catalogue()
    # As `movecheck mutants`: generated clouds unless the user pinned one.  Some
    # catalogue bugs cannot show on the embedded default cloud (bug 2153425: there
    # every claim short of capacity is short of a device too, so a claim that skips
    # the capacity test is refused anyway).
    from movecheck.cli.conform import pinned_cloud

    cloud = pinned_cloud(args) if hasattr(args, "cloud") else None
    if not _thorough(args):
        # One shared run per lane, the bugs dealt out in turn: every run draws the
        # same steps (the reference's spec state decides them), so each bug is still
        # caught at the example its own run would catch it at.
        n = _lanes(args)

        def together(share):
            results, ref_failure = run_together(cloud, share, seed=args.seed,
                                                timeout=args.tracker_timeout)
            return {"results": [{**r.to_json(), "shrunk": False} for r in results],
                    "reference_failure": ref_failure}
        return [Part(_catalogue_label(k, n), partial(together, mutants[k::n]), 12.0)
                for k in range(n) if mutants[k::n]]

    def run_one(m):
        r = run_conformance(m.factory, cloud, examples=DEFAULT_MUTANT_EXAMPLES,
                            steps=DEFAULT_MUTANT_STEPS, seed=args.seed,
                            timeout=args.tracker_timeout, label=m.name)
        if r.interrupted:
            raise KeyboardInterrupt
        return {**MutantResult(m, r).to_json(), "shrunk": True}

    return [Part(m.name, partial(run_one, m), 1.0) for m in mutants]


def _catalogue_label(k: int, n: int) -> str:
    return "catalogue" if n == 1 else f"catalogue {k + 1}/{n}"


def _mutants_stage(cloud, args, got: dict[str, Any], ctx) -> Stage:
    shares = [v for k, v in got.items() if k.startswith("catalogue")]
    results = ([r for s in shares for r in s["results"]] if shares else list(got.values()))
    ref_failure = next((s["reference_failure"] for s in shares if s["reference_failure"]),
                       None)
    if shares:  # the catalogue's order, not the lanes'
        order = {m: i for i, m in enumerate(_catalogue_names())}
        results.sort(key=lambda r: order.get(r["name"], len(order)))
    caught = [m for m in results if m["caught"]]
    escaped = [m["name"] for m in results if not m["caught"]]
    summary = f"{len(caught)} of {len(results)} historical Nova bugs caught"
    if escaped:
        summary += f"; escaped: {', '.join(escaped)}"
    report: dict[str, Any] = {"mutants": results, "shrunk": _thorough(args)}
    if caught:
        worst = max(caught, key=lambda m: m["examples"])
        summary += f" (the latest after {worst['examples']} examples: {worst['name']})"
    if not _thorough(args):
        summary += (f"; {'one shared run' if len(shares) < 2 else f'{len(shares)} shared runs'}"
                    ", each counterexample is its first failing example, "
                    "not shrunk (--thorough shrinks)")
        report["skipped"] = ["shrinking"]
    if ref_failure:
        summary += f"; the reference tracker FAILED in the shared run: {ref_failure}"
    return Stage("mutants", not escaped and not ref_failure, summary, report=report)


def _catalogue_names() -> list[str]:
    from movecheck.conformance.mutants import load_catalogue

    return [m.name for m in load_catalogue()]


def _graph(cloud, args, ctx) -> Stage:
    from pathlib import Path

    from movecheck.graph import write_coverage, write_status_machines

    out = Path(args.out)
    files = write_status_machines(out / "status-machines")
    if "conform" in ctx:
        files += write_coverage(ctx["conform"], out / "coverage")
    return Stage("graph", True, f"{len(files)} pictures in {out}/",
                 report={"files": [str(f) for f in files]})


def _single(fn: Callable[[Any, Any, dict], Stage], cost: float):
    """(parts, combine) of a stage that is one part returning its Stage."""
    def parts(cloud, args, ctx):
        return [Part(fn.__name__.lstrip("_"), lambda: fn(cloud, args, ctx), cost)]

    def combine(cloud, args, got, ctx):
        return next(iter(got.values()))
    return parts, combine


def _conform_combine(cloud, args, got, ctx) -> Stage:
    stage = next(iter(got.values()))
    # The graph stage draws the coverage of this run (computed in another process).
    ctx["conform"] = {k: v for k, v in stage.report.items() if k != "files"}
    return stage


#: Per stage, in order: (its parts, how its Stage is built from the parts' results).
PLAN: dict[str, tuple[Callable, Callable]] = {
    "prove": (lambda cloud, args, ctx: _prove_parts(cloud, args), _prove_stage),
    "explore": (lambda cloud, args, ctx: _explore_parts(cloud, args), _explore_stage),
    "agreement": _single(_agreement, 1.0),
    "conform": (_single(_conform, 3.0)[0], _conform_combine),
    "mutants": (lambda cloud, args, ctx: _mutant_parts(cloud, args), _mutants_stage),
    "graph": _single(_graph, 2.0),
}

#: Stages that need another's result: the graph draws the conform run's coverage.
AFTER = {"graph": "conform"}

#: The order the quick run plans (and so starts) the stages in: the longest first.
FIRST = ["explore", "mutants", "conform", "prove", "agreement", "graph"]


def _stage_runner(name: str) -> Callable[[Any, Any, dict], Stage]:
    def run_stage(cloud, args, ctx) -> Stage:
        parts, combine = PLAN[name]
        return combine(cloud, args, {p.label: p.run() for p in parts(cloud, args, ctx)}, ctx)
    run_stage.__name__ = f"_{name}"
    return run_stage


_prove, _explore, _mutants = (_stage_runner(n) for n in ("prove", "explore", "mutants"))

#: The stages, in order.  Each takes (cloud, args, shared context) and returns a Stage.
STAGES: list[Callable[[Any, Any, dict], Stage]] = [
    _prove, _explore, _agreement, _conform, _mutants, _graph,
]

#: What each stage does, for the line printed when it starts.
STARTS = {
    "prove": "proving every invariant by induction (with --thorough also parametric, and vacuity)",
    "explore": "exploring every reachable state of the spec",
    "agreement": "checking that the concrete and Z3 readings of the spec agree",
    "conform": "conformance of the reference tracker",
    "mutants": "conformance of every catalogue bug (each must be caught)",
    "graph": "drawing the status machines and coverage",
}


def _estimate(name: str, cloud, thorough: bool = False) -> str:
    """About how long a stage of the quick run (or the whole quick run, ``total``) took on
    the default cloud; nothing for --thorough, whose stages do more than those measured."""
    from movecheck.cli.estimates import CHECK_SECONDS, MACHINE
    from movecheck.spec.cloudfile import resolve_cloud

    seconds = None if thorough else CHECK_SECONDS.get(name)
    if seconds is None or (name == "total" and cloud.to_json() != resolve_cloud(
            None, None, None, None).to_json()):
        return ""
    where = f"on {MACHINE}"
    if cloud.to_json() != resolve_cloud(None, None, None, None).to_json():
        where += " for the default cloud; this cloud may take longer"
    return f" (about {_fmt_seconds(seconds)} {where})"


def _fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min"


def _lanes(args) -> int:
    """Processes the quick run uses at once: the machine's cores, at most two (the stages
    do not split further); --thorough runs one stage at a time."""
    import multiprocessing as mp

    from movecheck.spec.engines.explore import default_workers

    if "fork" not in mp.get_all_start_methods():  # Windows: the stages one by one
        return 1
    return 1 if _thorough(args) else min(2, default_workers())


def _child(conn, fn) -> None:
    """A lane's process: run one part, send back its result (or its error as text)."""
    # Only the parent listens for Ctrl-C and SIGTERM; it stops the lanes itself.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from movecheck.spec.errors import InputError

    try:
        value = fn()
        conn.send(("ok", (value, time.process_time())))
    except InputError as e:
        conn.send(("input", str(e)))
    except BaseException as e:  # noqa: BLE001 - reported by the parent, with the traceback
        import traceback

        conn.send(("error", "".join(traceback.format_exception(e))))
    finally:
        conn.close()


def _run_sequential(cloud, args, ctx, console, on_done) -> None:
    from movecheck.spec.engines import progress
    from movecheck.spec.errors import Interrupted

    for name, (parts, combine) in PLAN.items():
        console.print(f"{name}: {STARTS[name]}{_estimate(name, cloud, _thorough(args))} ...",
                      highlight=False)
        t0 = time.perf_counter()
        try:
            stage = combine(cloud, args, {p.label: p.run() for p in parts(cloud, args, ctx)}, ctx)
        except KeyboardInterrupt as e:
            inner = e.partial if isinstance(e, Interrupted) else progress.snapshot()
            raise Interrupted({
                "stages_done": {s.name: ("ok: " if s.ok else "FAIL: ") + s.summary
                                for s in on_done.stages},
                "interrupted_in": name,
                name: inner,
            }, f"check stopped during {name}; the stages before it finished") from None
        stage.seconds = stage.seconds or (time.perf_counter() - t0)
        on_done(stage)


def _run_lanes(cloud, args, ctx, console, on_done, lanes: int) -> None:
    """The parts of every stage, ``lanes`` forked processes at a time, longest first; a
    stage's line is printed as soon as its last part is in."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    from movecheck.spec.errors import InputError, Interrupted

    mpc = mp.get_context("fork")
    queue: list[tuple[str, Part]] = []
    got: dict[str, dict[str, Any]] = {}
    left: dict[str, int] = {}
    busy: dict[str, float] = {}
    cpu = ctx.setdefault("cpu_seconds", {})

    def plan(name):
        parts = PLAN[name][0](cloud, args, ctx)
        got[name], left[name], busy[name] = {}, len(parts), 0.0
        queue.extend((name, p) for p in parts)
        queue.sort(key=lambda q: -q[1].cost)

    running: dict[Any, tuple[Any, str, Part, float]] = {}
    t_start = time.perf_counter()

    def fill() -> None:
        while queue and len(running) < lanes:
            name, part = queue.pop(0)
            r, w = mpc.Pipe(duplex=False)
            proc = mpc.Process(target=_child, args=(w, part.run), daemon=True)
            proc.start()
            w.close()
            running[r] = (proc, name, part, time.perf_counter())

    console.print(f"check: {len(PLAN)} stages, {lanes} processes at "
                  f"once{_estimate('total', cloud)} ...", highlight=False)
    try:
        # The longest stages first, each started as soon as it is planned (planning the
        # others imports Hypothesis and the catalogue: the longest need not wait for that).
        for name in sorted((n for n in PLAN if n not in AFTER), key=FIRST.index):
            plan(name)
            fill()
        while queue or running:
            fill()
            for r in wait(list(running), timeout=0.5):
                proc, name, part, t0 = running.pop(r)
                try:
                    kind, value = r.recv()
                except EOFError:
                    kind, value = "error", f"the process died (exit {proc.exitcode})"
                r.close()
                proc.join()
                if kind == "input":
                    raise InputError(value)
                if kind == "error":
                    raise RuntimeError(f"check: {name} ({part.label}) failed:\n{value}")
                got[name][part.label], used = value
                busy[name] += time.perf_counter() - t0
                cpu[name] = cpu.get(name, 0.0) + used
                left[name] -= 1
                if left[name] == 0:
                    if console.is_terminal:
                        console.print(" " * 100, end="\r")
                    stage = PLAN[name][1](cloud, args, got[name], ctx)
                    stage.seconds = stage.seconds or busy[name]
                    stage.report["cpu_seconds"] = round(cpu[name], 3)
                    on_done(stage)
                    for after, before in AFTER.items():
                        if before == name:
                            plan(after)
            if console.is_terminal and running:
                doing = sorted({f"{n} ({len(got[n])} of {len(got[n]) + left[n]})"
                                if left[n] > 1 else n for _, n, _, _ in running.values()})
                console.print(f"  running {', '.join(doing)}; "
                              f"{time.perf_counter() - t_start:.0f} s", end="\r",
                              highlight=False)
    except KeyboardInterrupt:
        raise Interrupted({
            "stages_done": {s.name: ("ok: " if s.ok else "FAIL: ") + s.summary
                            for s in on_done.stages},
            "interrupted_in": sorted({n for _, n, _, _ in running.values()}),
            "parts_done": {n: sorted(v) for n, v in got.items() if left.get(n) and v},
        }, "check stopped; the stages listed as done finished") from None
    finally:
        for proc, *_ in running.values():
            proc.terminate()
        for proc, *_ in running.values():
            proc.join(5)


def run(args):
    from rich.table import Table

    from movecheck.conformance.counterexample import report_console

    check_timeouts(args)
    cloud = cloud_from_args(args)
    console = report_console()
    ctx: dict[str, Any] = {}
    t0 = time.perf_counter()
    lanes = _lanes(args)

    def on_done(stage: Stage) -> None:
        on_done.stages.append(stage)
        mark = "[green]ok[/]" if stage.ok else "[bold red]FAIL[/]"
        console.print(f"{mark} {stage.name}: {stage.summary} ({stage.seconds:.1f} s)",
                      highlight=False)
    on_done.stages = []

    if lanes == 1:
        _run_sequential(cloud, args, ctx, console, on_done)
    else:
        _run_lanes(cloud, args, ctx, console, on_done, lanes)
    wall = time.perf_counter() - t0
    order = list(PLAN)
    stages = sorted(on_done.stages, key=lambda s: order.index(s.name))
    skipped = {s.name: s.report["skipped"] for s in stages if s.report.get("skipped")}
    mode = "thorough" if _thorough(args) else "quick"
    table = Table(title=f"movecheck check ({mode}: {wall:.1f} s"
                        + (f", {lanes} stages at a time)" if lanes > 1 else ")"))
    table.add_column("stage")
    table.add_column("result")
    table.add_column("summary")
    table.add_column("seconds", justify="right")
    for s in stages:
        table.add_row(s.name, "ok" if s.ok else "FAIL", s.summary, f"{s.seconds:.1f}")
    console.print(table)
    if skipped:
        console.print("Skipped by the quick run (all run with --thorough): "
                      + "; ".join(f"{k}: {', '.join(v)}" for k, v in skipped.items()) + ".",
                      highlight=False)
    ok = all(s.ok for s in stages)
    fields = {
        "cloud": cloud.to_json(),
        "mode": mode,
        "processes": lanes,
        "wall_seconds": round(wall, 3),
        "skipped": skipped,
        "complete": all(s.report.get("complete", True) for s in stages),
        "stages": [{"name": s.name, "ok": s.ok, "summary": s.summary,
                    "seconds": round(s.seconds, 3), "report": s.report} for s in stages],
    }
    return (0 if ok else 1), fields
