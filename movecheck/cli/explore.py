"""``movecheck explore``: exhaustive explicit-state search of a small cloud."""

from __future__ import annotations

import sys

from movecheck.cli import add_cloud_arguments, cloud_from_args

HELP = "exhaustive explicit-state search of a small cloud; state and transition counts"


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    add_search_arguments(p)


def add_search_arguments(p) -> None:
    """The flags of the search itself (shared with ``movecheck check``)."""
    p.add_argument("--max-states", type=int, metavar="N",
                   help="stop after N distinct states, counted up to symmetry (the report says "
                        "the search is not exhaustive)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes (default: the cores this process may use)")
    p.add_argument("--no-symmetry", action="store_true",
                   help="store every state, not one per orbit of interchangeable hosts and "
                        "instances (same counts, slower)")
    p.add_argument("--full-states", action="store_true",
                   help="keep whole states in the visited set instead of 64-bit fingerprints "
                        "(certain, more memory; one process)")


def search_options(args) -> dict:
    """The explore() keywords for the parsed flags; bad values are InputErrors."""
    from movecheck.spec.engines.explore import default_workers
    from movecheck.spec.errors import InputError

    if args.max_states is not None and args.max_states < 1:
        raise InputError("--max-states must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1")
    workers = args.workers or default_workers()
    if args.full_states:
        workers = 1
    return {"max_states": args.max_states, "workers": workers,
            "symmetry": not args.no_symmetry, "full_states": args.full_states}


#: Below this many estimated states, one process: starting workers costs more than it saves.
SMALL = 20_000


def default_worker_count(cloud, args, opts) -> None:
    """Without --workers, one worker for a small cloud."""
    from movecheck.spec.engines.estimate import estimate_states

    if args.workers is None and estimate_states(cloud) < SMALL:
        opts["workers"] = 1


def progress_line(p, expected: int | None) -> str:
    """One progress line: states, states/s, queue, depth and, if the size is estimated,
    a rough time left."""
    eta = ""
    if expected and p.states_per_second > 0 and expected > p.states:
        eta = f", ~{(expected - p.states) / p.states_per_second:,.0f} s left"
    return (f"explore: {p.states:,} states ({p.full_states:,} in all), "
            f"{p.states_per_second:,.0f}/s, queue {p.queue:,}, depth {p.depth}, "
            f"{p.seconds:.0f} s{eta}")


def progress_printer(console, cloud, opts):
    """A live progress line on a terminal; None when the output is not a terminal, or
    when the command line already draws every engine's progress."""
    from movecheck.conformance import progress as conformance_progress
    from movecheck.spec.engines.estimate import estimate_states
    from movecheck.spec.symmetry import Symmetry

    # Once the command line draws every engine's figures (EngineProgress), it draws ours.
    if not console.is_terminal or hasattr(conformance_progress, "EngineProgress"):
        return None
    from movecheck.spec import Spec

    group = Symmetry(Spec(cloud)).group_size if opts["symmetry"] else 1
    expected = estimate_states(cloud) // group

    def show(p):
        console.print(progress_line(p, expected), end="\r", highlight=False, no_wrap=True,
                      overflow="ellipsis", crop=True)
    return show


def guard_memory(cloud, opts) -> None:
    """Stop before starting when the search cannot fit in memory (exit 2, with the estimate)."""
    from movecheck.spec.engines.estimate import check_fits

    check_fits(cloud, **opts)


def summary_lines(result, cloud) -> list[str]:
    """What the search did, in words: counts, reduction, workers, fingerprints, completeness."""
    r = result
    lines = [f"explored {r.states:,} distinct states, {r.transitions:,} transitions, "
             f"depth {r.depth} in {r.seconds:.2f} s "
             f"({r.states_per_second:,.0f} states/s, {r.workers} "
             f"worker{'s' if r.workers != 1 else ''})"]
    if r.symmetry:
        lines.append(f"symmetry: {r.reduced_states:,} states stored, one per orbit of "
                     f"interchangeable hosts and instances (group of {r.group_size}); "
                     f"{r.reduced_transitions:,} transitions taken")
    if r.full_states_kept:
        lines.append("visited set: whole states (no fingerprint collisions possible)")
    else:
        lines.append(f"visited set: 64-bit fingerprints; probability that a collision hid a "
                     f"state, calculated (optimistic): {r.collision_probability:.1E}")
    if not r.complete:
        lines.append(f"NOT EXHAUSTIVE: {bounded_text(r)}")
    return lines


def bounded_text(r) -> str | None:
    """Where a search that stopped early stopped, and that it is not exhaustive."""
    if r.complete:
        return None
    return (f"stopped at --max-states: {r.states:,} states ({r.reduced_states:,} stored), "
            f"depth {r.depth}; not exhaustive")


def run(args):
    from rich.console import Console

    from movecheck.spec import Spec
    from movecheck.spec.describe import describe_state, replay, trace_table, trace_to_json
    from movecheck.spec.engines.explore import explore

    cloud = cloud_from_args(args)
    opts = search_options(args)
    default_worker_count(cloud, args, opts)
    guard_memory(cloud, opts)
    spec = Spec(cloud)
    console = Console(stderr=True)
    # Ctrl-C: explore raises Interrupted with the counts so far; the command line
    # prints them, marks the report incomplete and exits 130.
    result, _ = explore(spec, progress=progress_printer(console, cloud, opts), **opts)
    if console.is_terminal:
        console.print(" " * 100, end="\r")
    out = Console(highlight=False, soft_wrap=True)
    for line in summary_lines(result, cloud):
        out.print(line)
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
    elif result.complete:
        out.print("[green]every invariant and two-state property holds on every reachable "
                  "state and transition[/]")
    else:
        # A search cut short proves nothing about the states it did not reach.
        out.print("no violation among the states explored")
    sys.stdout.flush()
    report = result.to_json()
    report["search_seconds"] = report.pop("seconds")
    fields = {
        **report,
        "violation": violation,
        "stopped_at": bounded_text(result),
        "cloud": cloud.to_json(),
    }
    return (1 if result.violations else 0), fields
