"""``movecheck mutants``: conformance against the catalogue of buggy trackers."""

from __future__ import annotations

from movecheck.cli import add_cloud_arguments, add_tracker_timeout
from movecheck.cli.conform import _restore, hypothesis_storage, pinned_cloud

HELP = "run conformance against the catalogue of buggy trackers (historical Nova bugs)"


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    p.add_argument("--examples", type=int, default=None, metavar="N",
                   help="Hypothesis examples per mutant (default 1000; a run stops at its "
                        "first discrepancy)")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="steps per example (default 15)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    add_tracker_timeout(p)
    p.add_argument("--catalogue", default=None, metavar="MODULE:NAME",
                   help="the catalogue (default movecheck.model.bugs:CATALOGUE)")
    p.add_argument("--only", metavar="NAME", action="append",
                   help="run only this catalogue entry (repeatable)")
    p.add_argument("--write-docs", metavar="PATH",
                   help="write the catalogue table with each counterexample as Markdown "
                        "(docs/bugs.md)")


def run(args):
    import time
    from pathlib import Path

    from rich.table import Table

    from movecheck.cli.conform import check_run_arguments
    from movecheck.conformance.counterexample import report_console
    from movecheck.conformance.mutants import (
        DEFAULT_CATALOGUE,
        DEFAULT_MUTANT_EXAMPLES,
        DEFAULT_MUTANT_STEPS,
        bugs_markdown,
        keep_mutation_section,
        load_catalogue,
        run_mutants,
    )
    from movecheck.spec.errors import InputError

    if args.examples is None:
        args.examples = DEFAULT_MUTANT_EXAMPLES
    if args.steps is None:
        args.steps = DEFAULT_MUTANT_STEPS
    examples, steps, timeout = check_run_arguments(args)
    cloud = pinned_cloud(args)
    mutants = load_catalogue(args.catalogue or DEFAULT_CATALOGUE)
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in mutants})
        if unknown:
            raise InputError(f"no catalogue entry named {', '.join(unknown)}; the entries are "
                             f"{', '.join(m.name for m in mutants)}")
        mutants = [m for m in mutants if m.name in args.only]
    from movecheck.spec.engines import progress as engine_progress

    done: list = []

    def progress(name, r):
        # Drawn live on a terminal by the command line; the partial figures if interrupted.
        if r is None:
            engine_progress.report("mutants", bugs_done=len(done), bugs_total=len(mutants),
                                   current=name, caught=sum(x.caught for x in done))
        else:
            done.append(r)

    t0 = time.perf_counter()
    hypothesis_storage(None)  # no example database: nothing left in the working directory
    try:
        results, ref = run_mutants(cloud, mutants=mutants, examples=examples, steps=steps,
                                   seed=args.seed, timeout=timeout, progress=progress)
    finally:
        while _restore:
            _restore.pop()()
    seconds = time.perf_counter() - t0
    out = report_console()
    table = Table(title=f"bug catalogue (seed {args.seed})")
    for col in ("mutant", "Nova bugs", "caught", "seconds", "shrunk", "invariants"):
        table.add_column(col, justify="right" if col in ("seconds", "shrunk") else "left")
    for r in results:
        j = r.to_json()
        table.add_row(j["name"], ", ".join(j["bugs"]),
                      "[green]yes[/]" if j["caught"] else "[bold red]NO[/]", f"{j['seconds']:.2f}",
                      str(j["counterexample_length"] or "-"), ", ".join(j["invariants"]))
    out.print(table)
    caught = sum(r.caught for r in results)
    lengths = sorted(r.to_json()["counterexample_length"] for r in results if r.caught)
    median = lengths[len(lengths) // 2] if lengths else None
    firsts = sorted(r.result.first_failure_seconds for r in results if r.caught)
    median_first = firsts[len(firsts) // 2] if firsts else None
    ref_ok = ref is not None and ref.ok
    out.print(f"{caught} of {len(results)} bugs caught in {seconds:.1f} s"
              + (f"; median shrunk counterexample {median} steps" if median else "")
              + (f"; median time to first failure {median_first:.2f} s" if firsts else "")
              + f"; reference tracker {'passes' if ref_ok else 'FAILS: ' + str(ref.discrepancy)}",
              highlight=False)
    if args.write_docs:
        path = Path(args.write_docs)
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        page = keep_mutation_section(bugs_markdown(results, ref, cloud, args.seed, seconds), old)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
        out.print(f"wrote {args.write_docs}")
    fields = {
        "mutants": [r.to_json() for r in results],
        "caught": caught,
        "total": len(results),
        "median_counterexample_length": median,
        "median_first_failure_seconds": None if median_first is None else round(median_first, 3),
        "reference": None if ref is None else {
            "ok": ref.ok, "examples": ref.examples, "steps": ref.steps,
            "discrepancy": None if ref.discrepancy is None else ref.discrepancy.to_json()},
        "seed": args.seed,
    }
    return (0 if caught == len(results) and ref_ok else 1), fields
