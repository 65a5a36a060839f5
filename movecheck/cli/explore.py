"""``movecheck explore``: exhaustive explicit-state search of a small cloud."""

from __future__ import annotations

import sys

from movecheck.cli import add_cloud_arguments, cloud_from_args

HELP = "exhaustive explicit-state search of a small cloud; state and transition counts"


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    p.add_argument("--max-states", type=int, metavar="N",
                   help="stop after N distinct states (the report says the search is incomplete)")


def run(args):
    from rich.console import Console

    from movecheck.spec import Spec
    from movecheck.spec.describe import describe_state, replay, trace_table, trace_to_json
    from movecheck.spec.engines.explore import explore
    from movecheck.spec.errors import InputError

    if args.max_states is not None and args.max_states < 1:
        raise InputError("--max-states must be at least 1")
    cloud = cloud_from_args(args)
    spec = Spec(cloud)
    console = Console(stderr=True)
    show = console.is_terminal

    def progress(states, transitions, depth):
        if show:
            console.print(f"  {states:,} states, {transitions:,} transitions, depth {depth}",
                          end="\r")

    result, _ = explore(spec, max_states=args.max_states, progress=progress)
    out = Console()
    out.print(f"explored {result.states:,} distinct states, {result.transitions:,} transitions, "
              f"depth {result.depth} in {result.seconds:.2f} s "
              f"({result.states_per_second:,.0f} states/s)"
              + ("" if result.complete else " [incomplete: --max-states reached]"))
    violation = None
    if result.violations:
        v = result.violations[0]
        out.print(f"[bold red]invariant {v.invariant} violated[/] after {len(v.trace)} steps:")
        for m in v.messages:
            out.print(f"  - {m}")
        out.print(trace_table(spec, v.trace))
        for line in describe_state(spec, replay(spec, v.trace)[-1]):
            out.print("  " + line)
        violation = {"invariant": v.invariant, "messages": v.messages,
                     "trace": trace_to_json(v.trace)}
    else:
        out.print("[green]every invariant and two-state property holds on every reachable "
                  "state and transition[/]")
    sys.stdout.flush()
    fields = {
        "states": result.states,
        "transitions": result.transitions,
        "depth": result.depth,
        "violations": len(result.violations),
        "violation": violation,
        "complete": result.complete,
        "states_per_second": round(result.states_per_second),
        "cloud": cloud.to_json(),
    }
    return (1 if result.violations else 0), fields
