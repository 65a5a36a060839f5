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

from ..cli import add_cloud_arguments, cloud_from_args

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


def _explore(cloud, args) -> Stage:
    from movecheck.spec.concrete import Spec
    from movecheck.spec.explore import explore

    r, _ = explore(Spec(cloud))
    summary = (f"{r.states:,} states, {r.transitions:,} transitions, depth {r.depth}, "
               f"{len(r.violations)} violations")
    if r.violations:
        summary += f" (first: {r.violations[0].invariant})"
    return Stage("explore", not r.violations and r.complete, summary, r.seconds, {
        "states": r.states, "transitions": r.transitions, "depth": r.depth,
        "violations": len(r.violations)})


#: The stages, in order.  Each takes (cloud, args) and returns a Stage.
STAGES: list[Callable[[Any, Any], Stage]] = [_explore]


def run(args):
    from rich.console import Console
    from rich.table import Table

    cloud = cloud_from_args(args)
    console = Console()
    stages: list[Stage] = []
    for fn in STAGES:
        t0 = time.perf_counter()
        stage = fn(cloud, args)
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
