"""``movecheck graph``: pictures of the status machines, the explored state space,
a counterexample, or the coverage of a conformance run (docs/graphs.md)."""

from __future__ import annotations

from movecheck.cli import add_cloud_arguments

HELP = ("draw the status machines, the explored state space, a counterexample or coverage "
        "(SVG/PNG, DOT, Mermaid, HTML)")

WHATS = ("statuses", "space", "trace", "coverage")

#: The cloud ``--what space`` explores when no cloud flag is given: 1,068 states,
#: every move type reachable (one instance, two hosts, one migration).
SPACE_DEFAULT = (2, 1, 1)


def add_arguments(p) -> None:
    p.add_argument("--what", choices=WHATS, default="statuses",
                   help="statuses (default), space, trace (needs --report) or coverage "
                        "(needs --report)")
    p.add_argument("--format", metavar="LIST", default=None,
                   help="comma-separated: svg,png,dot,mermaid,html (default: all)")
    p.add_argument("--out", metavar="DIR", default="movecheck-out",
                   help="directory for the files (default movecheck-out, as for check)")
    p.add_argument("--report", metavar="PATH",
                   help="a movecheck --json report (conform, bmc, prove, validate, explore) for "
                        "--what trace or coverage")
    p.add_argument("--renderer", choices=("auto", "dot", "builtin"), default="auto",
                   help="SVG/PNG renderer: Graphviz dot if installed (auto, default), dot, or "
                        "the built-in layout")
    p.add_argument("--max-nodes", type=int, default=40, metavar="N",
                   help="--what space: above N nodes, summarise by an abstraction (default 40)")
    p.add_argument("--abstraction", choices=("state", "phase", "move"), default=None,
                   help="--what space: force an abstraction (default: the finest that fits)")
    p.add_argument("--max-states", type=int, default=50_000, metavar="N",
                   help="--what space: stop exploring after N states (default 50000)")
    add_cloud_arguments(p)


def _cloud(args, default=None):
    from movecheck.spec.cloudfile import resolve_cloud

    if default is not None and args.cloud is None and args.hosts is None \
            and args.instances is None and args.max_migrations is None:
        h, i, m = default
        return resolve_cloud(None, h, i, m)
    return resolve_cloud(args.cloud, args.hosts, args.instances, args.max_migrations)


def run(args):
    from rich.console import Console

    from movecheck.conformance.report import read_report
    from movecheck.graph import (
        parse_formats,
        write_coverage,
        write_space,
        write_status_machines,
        write_trace,
    )
    from movecheck.graph.analysis import analysis_text
    from movecheck.graph.coverage import coverage_of, coverage_text, never_exercised
    from movecheck.spec.errors import InputError

    formats = parse_formats(args.format)
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # a log or a pipe: do not squeeze the trace table to 80 columns
        console = Console(highlight=False, soft_wrap=True, width=200)
    fields: dict = {"what": args.what, "formats": list(formats), "out": args.out}
    if args.what in ("trace", "coverage") and not args.report:
        raise InputError(f"--what {args.what} needs --report PATH (a movecheck --json report)")
    if args.report and args.what in ("statuses", "space"):
        raise InputError(f"--report is for --what trace or coverage, not {args.what}")
    if args.max_nodes < 1 or args.max_nodes > 2000:
        raise InputError("--max-nodes must be a whole number from 1 to 2000")
    if args.max_states < 1:
        raise InputError("--max-states must be at least 1")
    code = 0
    if args.what == "statuses":
        from movecheck.graph import analyse_status_machines

        paths = write_status_machines(args.out, formats, args.renderer)
        analyses = analyse_status_machines()
        for a in analyses:
            for line in analysis_text(a):
                console.print(line)
        fields["analysis"] = analyses
        code = 0 if all(a["ok"] for a in analyses) else 1
    elif args.what == "space":
        paths, summary = write_space(_cloud(args, SPACE_DEFAULT), args.out, formats,
                                     max_nodes=args.max_nodes, max_states=args.max_states,
                                     abstraction=args.abstraction, renderer=args.renderer)
        console.print(f"explored {summary.states:,} states, {summary.transitions:,} transitions"
                      + ("" if summary.complete else " (incomplete: --max-states reached)")
                      + f"; drawn as {summary.nodes} nodes, {summary.edges} edges "
                        f"(abstraction {summary.abstraction})")
        if summary.left_out:
            console.print(f"{summary.left_out} smaller classes left out; raise --max-nodes")
        fields["space"] = summary.to_json()
        fields["cloud"] = summary.cloud.to_json()
    elif args.what == "trace":
        report = read_report(args.report)
        paths, view = write_trace(report, _cloud(args), args.out, formats, args.renderer)
        from rich.table import Table

        table = Table(title=f"counterexample ({view.found.where} of the {report['command']} "
                            "report)")
        for h in view.header:
            table.add_column(h)
        for k, row in enumerate(view.table):
            table.add_row(*row, style="bold red" if k == view.diverging else None)
        console.print(table)
        fields["trace"] = {"where": view.found.where, "steps": len(view.rows),
                           "diverging_step": view.diverging}
    else:
        report = read_report(args.report)
        cov = coverage_of(report)
        paths = write_coverage(cov, args.out, formats, args.renderer)
        for line in coverage_text(cov):
            console.print(line)
        fields["coverage"] = never_exercised(cov)
    console.print(f"wrote {len(paths)} files to {args.out}/")
    for p in paths:
        console.print(f"  {p}")
    fields["files"] = [str(p) for p in paths]
    return code, fields
