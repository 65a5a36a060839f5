"""``movecheck conform``: Hypothesis-driven conformance of a tracker against the spec."""

from __future__ import annotations

from movecheck.cli import add_cloud_arguments, add_tracker_timeout, cloud_from_args

HELP = "Hypothesis-driven conformance run of a tracker against the spec"


def add_arguments(p) -> None:
    p.add_argument("--tracker", default="reference", metavar="T",
                   help="reference | placement | nova | jsonl:COMMAND | package.module:factory "
                        "| path/to/file.py:factory (default reference)")
    add_cloud_arguments(p)
    p.add_argument("--examples", type=int, default=None, metavar="N",
                   help="Hypothesis examples (step sequences) to run (default 500)")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="steps per example (default 15)")
    p.add_argument("--shrink-examples", type=int, default=None, metavar="N",
                   help="examples Hypothesis may run shrinking after the first failure, before "
                        "the run stops on the shortest counterexample seen (default 500; 0: "
                        "the first failure as found, only cut down step by step)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed (default: a fresh one, printed so the run can be repeated)")
    add_tracker_timeout(p)
    p.add_argument("--replay-out", metavar="PATH",
                   help="write the counterexample's pytest program (the one printed) here")
    p.add_argument("--record-trace", metavar="PATH",
                   help="record every request and reply as a trace for movecheck validate")
    p.add_argument("--database", metavar="DIR",
                   help="Hypothesis example database directory (shares counterexamples "
                        "between runs); 'none' (the default) keeps nothing on disk")


def pinned_cloud(args):
    """The cloud the user pinned with --cloud or --hosts/--instances/--max-migrations,
    or None: each example draws its own (movecheck.conformance.clouds)."""
    if args.cloud is None and args.hosts is None and args.instances is None and (
            args.max_migrations is None):
        return None
    return cloud_from_args(args)


def hypothesis_storage(database: str | None):
    """The Hypothesis example database for --database, and, for none, a storage
    directory outside the working directory: Hypothesis caches the constants it
    reads from local source files under its storage directory (``.hypothesis/``
    in the working directory unless HYPOTHESIS_STORAGE_DIRECTORY says otherwise)."""
    import atexit
    import os
    import shutil
    import tempfile

    if database is not None and database.lower() != "none":
        from hypothesis.database import DirectoryBasedExampleDatabase

        return DirectoryBasedExampleDatabase(database)
    if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
        tmp = tempfile.mkdtemp(prefix="movecheck-hypothesis-")
        # Hypothesis reads the variable once, at its first use of storage; it
        # is taken back after the run so that child processes of a program
        # that called movecheck in-process do not inherit it.
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tmp
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        _restore.append(lambda: os.environ.pop("HYPOTHESIS_STORAGE_DIRECTORY", None))
    return None


#: Undo what hypothesis_storage changed in the environment, after the run.
_restore: list = []


def check_run_arguments(args) -> tuple[int, int, float]:
    """--examples/--steps/--tracker-timeout with defaults; one sentence if out of range."""
    from movecheck.conformance.driver import DEFAULT_EXAMPLES, DEFAULT_STEPS, DEFAULT_TIMEOUT
    from movecheck.spec.errors import InputError

    examples = DEFAULT_EXAMPLES if args.examples is None else args.examples
    steps = DEFAULT_STEPS if args.steps is None else args.steps
    timeout = DEFAULT_TIMEOUT if args.tracker_timeout is None else args.tracker_timeout
    if not 1 <= examples <= 1_000_000:
        raise InputError(f"--examples must be from 1 to 1000000, not {examples}")
    if not 1 <= steps <= 10_000:
        raise InputError(f"--steps must be from 1 to 10000, not {steps}")
    if not timeout > 0:
        raise InputError(f"--tracker-timeout must be a positive number of seconds, not {timeout:g}")
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**32:
        raise InputError(f"--seed must be from 0 to {2**32 - 1}, not {args.seed}")
    return examples, steps, timeout


def coverage_figures(result) -> dict:
    """How much of the spec a conformance run checked: step kinds accepted at least once
    (of all the spec's steps) and status edges exercised.  A verdict names these, so that
    a tracker supporting a few steps is never called conformant without saying on what."""
    from movecheck.spec.steps import STEPS

    cov = result.coverage.to_json()
    never = sum(len(v["never"]) for v in cov["status_edges"].values())
    edges = never + sum(len(v["exercised"]) for v in cov["status_edges"].values())
    checked = [k for k in STEPS if k in cov["steps_accepted"]]
    return {"steps_checked": len(checked), "steps_total": len(STEPS),
            "steps_unsupported": list(result.unsupported_steps),
            "status_edges_exercised": edges - never, "status_edges_total": edges}


def verdict_text(result) -> str:
    """``conformant on 3 of 23 steps (...); 0 of 47 status edges exercised``."""
    f = coverage_figures(result)
    head = "conformant" if result.discrepancy is None else "DISCREPANCY"
    if f["steps_checked"] == f["steps_total"]:
        on = f"on all {f['steps_total']} steps"
    else:
        on = f"on {f['steps_checked']} of {f['steps_total']} steps"
        if f["steps_unsupported"]:
            on += f" ({len(f['steps_unsupported'])} declared unsupported, not generated)"
    if result.discrepancy is not None:
        return f"{head} after checking {on[3:]}"
    return (f"{head} {on}; {f['status_edges_exercised']} of {f['status_edges_total']} status "
            f"edges exercised")


def summary_lines(result, detail: bool = True) -> list[str]:
    cov = result.coverage.to_json()
    never_edges = sum(len(v["never"]) for v in cov["status_edges"].values())
    all_edges = never_edges + sum(len(v["exercised"]) for v in cov["status_edges"].values())
    clouds = ("each example on its own generated cloud (pin one with --cloud or --hosts)"
              if result.generated_clouds else "the pinned cloud")
    lines = [
        f"tracker {result.tracker}: {result.examples:,} examples, {result.steps:,} steps in "
        f"{result.seconds:.2f} s ({result.steps_per_second:,.0f} steps/s), seed {result.seed}",
        f"clouds: {clouds}",
        f"observed parts compared: {', '.join(sorted(result.capabilities))}",
        f"coverage: {len(cov['steps_accepted'])} step kinds accepted, "
        f"{all_edges - never_edges} of {all_edges} status edges exercised",
    ]
    never = [k for k in cov["steps_never_accepted"] if k not in result.unsupported_steps]
    if never and detail:  # the unsupported ones are listed once, below
        lines.append(f"  steps never accepted: {', '.join(never)}")
    for mtype, edges in cov["status_edges"].items():
        if edges["never"] and not edges["exercised"] and detail:
            lines.append(f"  {mtype} edges: none of {len(edges['never'])} exercised")
        elif edges["never"] and detail:
            lines.append(f"  {mtype} edges never exercised: "
                         + ", ".join(f"{a}->{b}" for a, b in edges["never"]))
    if result.unsupported_steps:
        lines.append(f"steps the tracker does not support (not generated): "
                     f"{', '.join(result.unsupported_steps)}")
    if result.note:
        lines.append(f"note: {result.note}")
    if result.first_failure_seconds is not None:
        lines.append(f"first failure found after {result.first_failure_seconds:.2f} s, in example "
                     f"{result.first_failure_example:,}; shrinking took "
                     f"{result.shrink_seconds:.2f} s more")
    return lines


def interrupted_fields(result) -> dict:
    """What an interrupted conformance run had done: figures, coverage, any discrepancy."""
    cov = result.coverage.to_json()
    never = sum(len(v["never"]) for v in cov["status_edges"].values())
    edges = never + sum(len(v["exercised"]) for v in cov["status_edges"].values())
    return {
        "tracker": result.tracker, "seed": result.seed, "examples": result.examples,
        "steps": result.steps, "status_edges_exercised": f"{edges - never} of {edges}",
        "discrepancy_so_far": None if result.discrepancy is None else str(result.discrepancy),
    }


def run(args):
    import time

    from movecheck.conformance.adapters import resolve_tracker
    from movecheck.conformance.adapters.recorder import RecordingTracker
    from movecheck.conformance.counterexample import render, report_console
    from movecheck.conformance.driver import run_conformance
    from movecheck.conformance.progress import Progress
    from movecheck.conformance.replay import program, write_program
    from movecheck.conformance.report import envelope, write_json
    from movecheck.spec.errors import Interrupted

    examples, steps, timeout = check_run_arguments(args)
    cloud = pinned_cloud(args)
    factory = resolve_tracker(args.tracker, timeout=timeout)
    if args.record_trace:
        inner_factory = factory

        def factory():
            return RecordingTracker(inner_factory(), args.record_trace)

    database = hypothesis_storage(args.database)
    t0 = time.perf_counter()
    fields_of = None

    def save(d, failing_cloud, partial: bool) -> None:
        # Written at once, before any shrinking output, so Ctrl-C or a crash
        # leaves the best counterexample so far on disk.
        if args.replay_out:
            write_program(args.replay_out, program(args.tracker, failing_cloud, d))
        if args.json:
            fields = {"tracker": args.tracker, "examples": None, "steps": None,
                      "discrepancy": d.to_json(), "coverage": None, "partial": partial,
                      "cloud": failing_cloud.to_json()}
            if fields_of is not None:
                fields = fields_of()
            write_json(args.json, envelope("conform", False, time.perf_counter() - t0, **fields))

    try:
        with Progress(f"conform {args.tracker}", total=examples) as progress:
            result = run_conformance(factory, cloud, examples=examples, steps=steps,
                                     seed=args.seed, timeout=timeout, label=args.tracker,
                                     database=database, on_found=lambda d, c: save(d, c, True),
                                     progress=progress,
                                     **({} if args.shrink_examples is None else
                                        {"shrink_budget": max(0, args.shrink_examples)}))
    finally:
        while _restore:
            _restore.pop()()
    fields = {**result.report_fields(), **coverage_figures(result),
              "verdict": verdict_text(result)}
    if result.discrepancy is not None:
        fields_of = result.report_fields  # noqa: F841 - final files carry the full report
        save(result.discrepancy, result.failing_cloud, result.interrupted)
        if args.json:
            fields = dict(fields, partial=result.interrupted)
    if result.interrupted:
        # The best counterexample so far is in the report's fields.
        raise Interrupted(interrupted_fields(result), "conformance run stopped early",
                          fields=result.report_fields())
    out = report_console()
    for line in summary_lines(result, detail=result.discrepancy is None):
        out.print(line, highlight=False)
    if result.discrepancy is not None:
        render(out, result.failing_cloud, result.discrepancy, args.tracker)
        out.print("\nFalsifying example, as a pytest program"
                  + (f" (written to {args.replay_out}):" if args.replay_out else ":"),
                  highlight=False)
        out.print(program(args.tracker, result.failing_cloud, result.discrepancy),
                  highlight=False, markup=False, soft_wrap=True)
        if args.replay_out:
            out.print(f"replay file: {args.replay_out} (run it: python3 -m pytest "
                      f"{args.replay_out})", highlight=False)
        return 1, fields
    full = coverage_figures(result)
    color = "green" if full["steps_checked"] == full["steps_total"] else "yellow"
    out.print(f"[{color}]{verdict_text(result)}: no discrepancy found[/]", highlight=False)
    return 0, fields
