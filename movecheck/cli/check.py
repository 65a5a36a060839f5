"""``movecheck check``: the main job on the embedded default cloud, one summary.

Runs, in order: the proofs (bounded and parametric), exhaustive exploration,
the agreement self-check of the two interpretations of the spec, conformance
of the reference tracker, the catalogue of buggy trackers (each must be
caught), and the pictures.  Each stage is a function below returning a
:class:`Stage`; the summary table and the ``--json`` report list them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from movecheck.cli import add_cloud_arguments, cloud_from_args

HELP = ("the main job: prove the spec, explore it, run conformance of the reference tracker and "
        "the bug catalogue, draw the graphs; one summary")


@dataclass
class Stage:
    name: str
    ok: bool
    summary: str
    seconds: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    p.add_argument("--out", metavar="DIR", default="movecheck-out",
                   help="where pictures and counterexamples go (default movecheck-out)")
    p.add_argument("--seed", type=int, default=0, help="seed for the generated runs (default 0)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="solver timeout per proof obligation in seconds (default 60)")
    p.add_argument("--thorough", action="store_true",
                   help="also explore the clouds the quick run skips (3 hosts; minutes)")


def _prove(cloud, args, ctx) -> Stage:
    """Induction proofs, bounded (free capacities and sizes) and parametric, plus vacuity."""
    from movecheck.spec.engines.parametric import prove_parametric
    from movecheck.spec.engines.prove import PROVED, prove_all
    from movecheck.spec.engines.vacuity import vacuity

    bounded = prove_all(cloud, timeout=args.timeout)
    parametric = prove_parametric(cloud, timeout=args.timeout)
    witnesses, _ = vacuity(cloud)
    nb = sum(r.status == PROVED for r in bounded)
    npar = sum(r.status == PROVED for r in parametric)
    found = sum(w.found for w in witnesses)
    failed = [f"{r.name} ({r.status})" for r in bounded + parametric if r.status != PROVED]
    summary = (f"{nb} of {len(bounded)} proved bounded, {npar} of {len(parametric)} parametric; "
               f"vacuity {found} of {len(witnesses)} witnesses")
    if failed:
        summary += f"; not proved: {', '.join(failed[:3])}"
    ok = not failed and found == len(witnesses)
    return Stage("prove", ok, summary, report={
        "invariants": [{"name": r.name, "status": r.status, "seconds": round(r.seconds, 3)}
                       for r in bounded],
        "parametric": [{"name": r.name, "status": r.status, "seconds": round(r.seconds, 3)}
                       for r in parametric],
        "vacuity": [w.to_json() for w in witnesses if not w.found],
    })


#: Clouds (hosts, instances, migrations) explored only by ``check --thorough``: minutes each.
THOROUGH_CLOUDS = ((3, 2, 2),)


def _explore(cloud, args, ctx) -> Stage:
    """Exhaustive search of the cloud (and, with --thorough, of THOROUGH_CLOUDS)."""
    from rich.console import Console

    from movecheck.cli.explore import progress_printer
    from movecheck.spec import Spec
    from movecheck.spec.cloudfile import default_cloud
    from movecheck.spec.engines.estimate import check_fits
    from movecheck.spec.engines.explore import default_workers, explore

    opts = {"workers": default_workers(), "symmetry": True, "full_states": False,
            "max_states": None}
    clouds = [("cloud", cloud)]
    extra = [(f"{h} hosts x {i} instances x {m} migrations", default_cloud(h, i, m))
             for h, i, m in THOROUGH_CLOUDS]
    if getattr(args, "thorough", False):
        clouds += extra
    console = Console(stderr=True)
    runs = []
    parts = []
    ok = True
    seconds = 0.0
    for label, c in clouds:
        check_fits(c, **opts)
        r, _ = explore(Spec(c), progress=progress_printer(console, c, opts), **opts)
        if console.is_terminal:
            console.print(" " * 100, end="\r")
        seconds += r.seconds
        ok = ok and not r.violations and r.complete
        text = (f"{r.states:,} states ({r.reduced_states:,} up to symmetry), "
                f"{r.transitions:,} transitions, depth {r.depth}, {len(r.violations)} violations")
        if not r.complete:
            text += "; stopped early, not exhaustive"
        if r.violations:
            text += f" (first: {r.violations[0].invariant})"
        parts.append(text if label == "cloud" else f"{label}: {text}")
        runs.append({"cloud": label, **r.to_json()})
    skipped = [] if getattr(args, "thorough", False) else [label for label, _ in extra]
    summary = "; ".join(parts)
    if skipped:
        summary += f"; skipped {', '.join(skipped)} (--thorough)"
    first = runs[0]
    return Stage("explore", ok, summary, seconds, {
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
    from movecheck.conformance import resolve_tracker, run_conformance

    r = run_conformance(resolve_tracker("reference"), cloud, seed=args.seed, label="reference")
    fields = r.report_fields()
    ctx["conform"] = fields
    status_edges = fields.get("coverage", {}).get("status_edges", {})
    hit = sum(len(e["exercised"]) for e in status_edges.values())
    total = hit + sum(len(e["never"]) for e in status_edges.values())
    summary = f"reference tracker: {r.examples} examples, {r.steps:,} steps, " + (
        "conformant" if r.ok else f"DISCREPANCY at step {r.discrepancy.step_index}")
    if total:
        summary += f"; {hit} of {total} status edges exercised"
    files = [] if r.ok else _write_counterexample(args, cloud, "reference", r)
    return Stage("conform", r.ok, summary, r.seconds, {**fields, "files": files})


def _mutants(cloud, args, ctx) -> Stage:
    from movecheck.conformance import run_mutants

    results, ref = run_mutants(cloud, seed=args.seed)
    caught = [m for m in results if m.caught]
    escaped = [m.to_json()["name"] for m in results if not m.caught]
    ref_ok = ref is None or ref.ok
    summary = f"{len(caught)} of {len(results)} historical Nova bugs caught"
    if escaped:
        summary += f"; escaped: {', '.join(escaped)}"
    if not ref_ok:
        summary += "; the reference tracker FAILED"
    return Stage("mutants", not escaped and ref_ok, summary,
                 report={"mutants": [m.to_json() for m in results]})


def _graph(cloud, args, ctx) -> Stage:
    from pathlib import Path

    from movecheck.graph import write_coverage, write_status_machines

    out = Path(args.out)
    files = write_status_machines(out / "status-machines")
    if "conform" in ctx:
        files += write_coverage(ctx["conform"], out / "coverage")
    return Stage("graph", True, f"{len(files)} pictures in {out}/",
                 report={"files": [str(f) for f in files]})


#: The stages, in order.  Each takes (cloud, args, shared context) and returns a Stage.
STAGES: list[Callable[[Any, Any, dict], Stage]] = [
    _prove, _explore, _agreement, _conform, _mutants, _graph,
]


def run(args):
    from rich.console import Console
    from rich.table import Table

    cloud = cloud_from_args(args)
    console = Console()
    stages: list[Stage] = []
    ctx: dict[str, Any] = {}
    for fn in STAGES:
        t0 = time.perf_counter()
        stage = fn(cloud, args, ctx)
        stage.seconds = stage.seconds or (time.perf_counter() - t0)
        stages.append(stage)
        mark = "[green]ok[/]" if stage.ok else "[bold red]FAIL[/]"
        console.print(f"{mark} {stage.name}: {stage.summary} ({stage.seconds:.1f} s)")
    table = Table(title="movecheck check")
    table.add_column("stage")
    table.add_column("result")
    table.add_column("summary")
    table.add_column("seconds", justify="right")
    for s in stages:
        table.add_row(s.name, "ok" if s.ok else "FAIL", s.summary, f"{s.seconds:.1f}")
    console.print(table)
    ok = all(s.ok for s in stages)
    fields = {
        "cloud": cloud.to_json(),
        "stages": [{"name": s.name, "ok": s.ok, "summary": s.summary,
                    "seconds": round(s.seconds, 3), "report": s.report} for s in stages],
    }
    return (0 if ok else 1), fields
