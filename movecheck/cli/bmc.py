"""``movecheck bmc --depth K``: bounded model checking; the shortest trace to a violation."""

from __future__ import annotations

import sys

from movecheck.cli import add_cloud_arguments, cloud_from_args

HELP = "bounded model checking from the initial states; shortest counterexample"


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    p.add_argument("--spec-mutant", metavar="NAME",
                   help="check a deliberately broken spec instead (docs/proofs.md lists them)")
    p.add_argument("--depth", type=int, required=True, metavar="K",
                   help="check every trace of up to K steps")
    p.add_argument("--budget", type=float, metavar="S",
                   help="stop deepening after S seconds (the report says how deep it got)")


def run(args):
    from movecheck.conformance.counterexample import report_console
    from movecheck.spec import Spec
    from movecheck.spec.describe import describe_state
    from movecheck.spec.engines.bmc import bmc, bmc_table
    from movecheck.spec.errors import InputError

    if args.depth < 0:
        raise InputError("--depth must be 0 or more")
    if args.budget is not None and args.budget <= 0:
        raise InputError("--budget must be a number of seconds > 0")
    cloud = cloud_from_args(args)
    from movecheck.spec.engines.spec_mutants import spec_class

    sym_cls = spec_class(args.spec_mutant)
    from movecheck.spec.engines import progress as engine_progress

    def progress(k, seconds):
        # Drawn live on a terminal by the command line; the partial figures if interrupted.
        engine_progress.report("bmc", depth_done=k, depth_total=args.depth,
                               seconds=round(seconds, 1))

    result = bmc(cloud, args.depth, sym_cls, budget=args.budget, progress=progress)
    out = report_console()
    violation = None
    if result.invariant is None:
        how = "" if result.complete else f" (stopped by --budget at depth {result.depth})"
        out.print(f"[green]no invariant or two-state property is violated by any trace of up to "
                  f"{result.depth} steps[/]{how} ({result.seconds:.2f} s)")
    else:
        out.print(f"[bold red]invariant {result.invariant} violated[/] after {result.depth} steps "
                  f"(shortest; also broken: {', '.join(result.broken[1:]) or 'nothing else'}):")
        out.print(bmc_table(result))
        spec = Spec(result.cloud)
        for line in describe_state(spec, result.trace[-1].state if result.trace else result.initial):
            out.print("  " + line)
        violation = {"invariant": result.invariant, "broken": result.broken,
                     "trace": result.trace_json()}
    sys.stdout.flush()
    fields = {"depth": result.depth, "violation": violation, "complete": result.complete,
              "cloud": cloud.to_json()}
    return (1 if violation else 0), fields
