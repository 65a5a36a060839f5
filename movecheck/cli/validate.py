"""``movecheck validate TRACE``: check a recorded trace (JSON lines) against the spec."""

from __future__ import annotations

HELP = "check a recorded trace (JSON lines, the jsonl protocol) against the spec"


def add_arguments(p) -> None:
    p.add_argument("trace", metavar="TRACE",
                   help="trace file: one request + reply per line (docs/schemas/trace.schema.json)")


def run(args):
    from rich.table import Table

    from movecheck.conformance.counterexample import report_console
    from movecheck.conformance.validate import validate_file

    result = validate_file(args.trace)
    out = report_console()
    d = result.divergence
    if d is None:
        out.print(f"[green]the trace is explained by the spec[/]: {result.steps:,} steps on "
                  f"{result.lines:,} lines, {result.resets} reset(s); at most "
                  f"{result.max_readings} spec-consistent reading(s) at once", highlight=False)
        return 0, result.report_fields()
    out.print(f"[bold red]DIVERGENCE[/] {d['message']}", highlight=False)
    out.print(f"  the tracker replied: {d['observed']}", highlight=False)
    for k, r in enumerate(d["readings"][:10], 1):
        picks = ", ".join(f"line {p['line']} picked {','.join(p['devices'])}"
                          for p in r["assumed_picks"]) or "no choice"
        t = Table(title=f"reading {k} ({picks})", show_header=False)
        t.add_column("difference")
        for line in r["differences"]:
            t.add_row(line)
        if r.get("invariants"):
            t.add_row("invariants broken: " + ", ".join(r["invariants"]))
        out.print(t)
    if len(d["readings"]) > 10:
        out.print(f"  ... and {len(d['readings']) - 10} more readings (see --json)")
    if d["bugs"]:
        out.print(f"Nova bugs these invariants guard against: {', '.join(d['bugs'])}")
    return 1, result.report_fields()
