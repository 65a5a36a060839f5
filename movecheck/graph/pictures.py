"""The pictures ``movecheck graph`` and ``movecheck check`` write: one function each.

- :func:`write_status_machines` — one picture per migration type + analyses;
- :func:`write_space` — the explored state space of a small cloud;
- :func:`write_trace` — a counterexample from a report;
- :func:`write_coverage` — the coverage overlay of a conformance report.

Each writes into ``out_dir`` in the formats asked for (svg, png, dot,
mermaid, html) and returns the paths written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from movecheck.graph.analysis import analyse_status_machines, analysis_text
from movecheck.graph.coverage import (
    coverage_drawings,
    coverage_of,
    coverage_text,
    edge_counts,
    never_exercised,
)
from movecheck.graph.drawing import Drawing
from movecheck.graph.html import Section, page, table_html
from movecheck.graph.layout import layout
from movecheck.graph.output import FORMATS, ensure_out_dir, resolve_renderer, write_drawing
from movecheck.graph.png import to_png
from movecheck.graph.space import SpaceSummary, space_drawing
from movecheck.graph.statuses import all_status_drawings, status_drawing
from movecheck.graph.svg import to_svg
from movecheck.graph.tablepic import table_scene
from movecheck.graph.trace import TraceView, build_view
from movecheck.spec.statuses import STATUS_MACHINES
from movecheck.spec.vocab import Cloud


def _write(out: Path, drawings: list[Drawing], formats, renderer: str) -> list[Path]:
    paths: list[Path] = []
    for d in drawings:
        paths += write_drawing(d, out, formats, renderer)
    return paths


def _status_details(mtype: str, key_prefix: str | None = None,
                    counts: dict[tuple[str, str], int] | None = None) -> dict[str, dict]:
    g = STATUS_MACHINES[mtype]
    prefix = key_prefix or mtype
    out = {}
    for n, attrs in g.nodes(data=True):
        lines = [f"{mtype} status {n}: "
                 + ("initial (no record yet)" if attrs.get("initial")
                    else "terminal" if attrs.get("terminal") else "in progress")]
        for a, b, d in g.in_edges(n, data=True):
            extra = f" ×{counts.get((a, b), 0)}" if counts is not None else ""
            lines.append(f"  in:  {a} -> {b} by {', '.join(d['steps'])}{extra}")
        for a, b, d in g.out_edges(n, data=True):
            extra = f" ×{counts.get((a, b), 0)}" if counts is not None else ""
            lines.append(f"  out: {a} -> {b} by {', '.join(d['steps'])}"
                         f"{' (failure)' if d.get('failure') else ''}{extra}")
        out[f"{prefix}:{n}"] = {"title": f"{mtype}: {n}", "lines": lines}
    for a, b, d in g.edges(data=True):
        extra = [f"exercised {counts.get((a, b), 0)} times"] if counts is not None else []
        out[f"{prefix}:{a}>{b}"] = {"title": f"{mtype}: {a} → {b}",
                                    "lines": [f"steps: {', '.join(d['steps'])}",
                                              "failure / rollback edge" if d.get("failure")
                                              else "normal edge"] + extra}
    return out


def write_status_machines(out_dir: str | Path, formats: tuple[str, ...] = FORMATS,
                          renderer: str = "auto") -> list[Path]:
    """One picture per migration type, the analyses as JSON, and (html) one page."""
    out = ensure_out_dir(out_dir)
    renderer = resolve_renderer(renderer)
    drawings = all_status_drawings()
    paths = _write(out, drawings, formats, renderer)
    analyses = analyse_status_machines()
    p = out / "status-analysis.json"
    p.write_text(json.dumps(analyses, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths.append(p)
    if "html" in formats:
        sections, details = [], {}
        for d, a in zip(drawings, analyses, strict=True):
            mtype = a["migration_type"]
            sections.append(Section(f"{mtype}", layout(d), text=analysis_text(a)))
            details.update(_status_details(mtype))
        p = out / "statuses.html"
        p.write_text(page("movecheck: migration status machines", sections, details,
                          intro="Migration.status as the spec reads it (spec/statuses.py). "
                                "Click a status or an edge."), encoding="utf-8")
        paths.append(p)
    return paths


def write_space(cloud: Cloud, out_dir: str | Path, formats: tuple[str, ...] = FORMATS, *,
                max_nodes: int = 40, max_states: int = 50_000, abstraction: str | None = None,
                renderer: str = "auto") -> tuple[list[Path], SpaceSummary]:
    """The explored state space of ``cloud`` (summarised above ``max_nodes``)."""
    out = ensure_out_dir(out_dir)
    renderer = resolve_renderer(renderer)
    summary = space_drawing(cloud, max_nodes=max_nodes, max_states=max_states,
                            abstraction=abstraction)
    paths = write_drawing(summary.drawing, out, formats, renderer)
    if "html" in formats:
        p = out / "space.html"
        p.write_text(page("movecheck: explored state space",
                          [Section(summary.drawing.title, layout(summary.drawing))],
                          summary.details,
                          intro="Click a node: per-host usage against capacity and the enabled "
                                "steps of (the first reached state of) that node."),
                     encoding="utf-8")
        paths.append(p)
    return paths, summary


def _trace_drawings(view: TraceView) -> list[Drawing]:
    per_mig: dict[str, tuple[str, list]] = {}
    hot: dict[str, tuple[str, str]] = {}
    for k, row in enumerate(view.rows):
        for mid, mtype, a, b in row.transitions:
            per_mig.setdefault(mid, (mtype, []))[1].append((a, b, row.number, row.step.kind))
            if k == view.diverging:
                hot[mid] = (a, b)
    return [status_drawing(mtype, path=path, diverging=hot.get(mid), name=f"trace-{mid}",
                           title=f"trace: migration {mid} ({mtype})", key_prefix=mid)
            for mid, (mtype, path) in per_mig.items()]


def _trace_notes(view: TraceView) -> list[str]:
    info = view.found.info
    notes = [f"from report field: {view.found.where}"]
    for key in ("invariant", "message"):
        if isinstance(info.get(key), str):
            # a fault's message quotes the tracker's stderr: one note per line
            first, *more = info[key].splitlines() or [""]
            notes += [f"{key}: {first}", *(f"  {line}" for line in more)]
    if view.differences:
        notes.append("where the tracker's observation differs from the spec's:")
        notes += [f"  {line}" for line in view.differences]
    if isinstance(info.get("invariants"), list) and info["invariants"]:
        notes.append("invariants: " + ", ".join(map(str, info["invariants"])))
    if view.diverging is None:
        notes.append("the tracker diverged right after reset, before the first step")
    else:
        notes.append(f"diverging step: #{view.diverging + 1} (outlined in red)")
    return notes


def write_trace(report: dict[str, Any], cloud: Cloud, out_dir: str | Path,
                formats: tuple[str, ...] = FORMATS,
                renderer: str = "auto") -> tuple[list[Path], TraceView]:
    """A counterexample: its path through the status machines and its usage table."""
    out = ensure_out_dir(out_dir)
    renderer = resolve_renderer(renderer)
    view = build_view(report, cloud)
    drawings = _trace_drawings(view)
    paths = _write(out, drawings, formats, renderer)
    notes = _trace_notes(view)
    tscene = table_scene(f"counterexample from {report.get('command', '?')}: per-host usage "
                         "after each step", view.header, view.table, over=view.over,
                         diverging=view.diverging, notes=notes)
    if "svg" in formats:
        p = out / "trace-table.svg"
        p.write_text(to_svg(tscene), encoding="utf-8")
        paths.append(p)
    if "png" in formats:
        p = out / "trace-table.png"
        p.write_bytes(to_png(tscene))
        paths.append(p)
    if "html" in formats:
        sections = [Section("per-host usage after each step (used of capacity)",
                            html=table_html(view.header, view.table, over=view.over,
                                            diverging=view.diverging), text=notes)]
        details: dict[str, dict] = {}
        for d in drawings:
            sections.append(Section(d.title, layout(d)))
            mid = d.name.removeprefix("trace-")
            mtype = next(m.migration_type for r in view.rows for m in r.after.migrations
                         if m.id == mid)
            details.update(_status_details(mtype, key_prefix=mid))
        steps = []
        for k, row in enumerate(view.rows):
            keys = [f"{mid}:{a}>{b}" for mid, _, a, b in row.transitions]
            keys += [f"{mid}:{b}" for mid, _, a, b in row.transitions]
            head = f"step {row.number}: {row.step}"
            lines = (["the spec rejects it: " + row.rejected] if row.rejected else [])
            if k == view.diverging:
                lines.append("THIS IS THE DIVERGING STEP")
            steps.append({"title": head, "keys": keys,
                          "lines": lines + ["", "state after the step:"] + view.state_lines(k)})
        p = out / "trace.html"
        p.write_text(page("movecheck: counterexample", sections, details, steps,
                          intro="Use previous / next to walk the trace."), encoding="utf-8")
        paths.append(p)
    return paths, view


def write_coverage(report_or_coverage: dict[str, Any] | str | Path, out_dir: str | Path,
                   formats: tuple[str, ...] = FORMATS, renderer: str = "auto") -> list[Path]:
    """The coverage overlay of a conformance report (or of a bare coverage object,
    or of a report file's path): exercised edges solid with counts, the others dashed."""
    if isinstance(report_or_coverage, (str, Path)):
        from movecheck.conformance.report import read_report

        report_or_coverage = read_report(report_or_coverage)
    cov = coverage_of(report_or_coverage)
    out = ensure_out_dir(out_dir)
    renderer = resolve_renderer(renderer)
    drawings = coverage_drawings(cov)
    paths = _write(out, drawings, formats, renderer)
    p = out / "coverage-never.json"
    p.write_text(json.dumps(never_exercised(cov), indent=2, ensure_ascii=False) + "\n",
                 encoding="utf-8")
    paths.append(p)
    if "html" in formats:
        sections, details = [Section("summary", text=coverage_text(cov))], {}
        for d, mtype in zip(drawings, STATUS_MACHINES, strict=True):
            sections.append(Section(d.title, layout(d)))
            details.update(_status_details(mtype, counts=edge_counts(cov, mtype)))
        p = out / "coverage.html"
        p.write_text(page("movecheck: coverage of a conformance run", sections, details),
                      encoding="utf-8")
        paths.append(p)
    return paths
