"""The coverage overlay: which status edges a conformance run exercised.

The shape consumed (docs/graphs.md, "Coverage shape"), found either as a
report's ``coverage`` field or as the whole JSON document::

    {"steps": {"resize_claim": 12, ...},
     "edges": {"resize": [{"from": "∅", "to": "pre-migrating", "count": 12}, ...], ...}}

``from`` is ``∅`` (:data:`movecheck.spec.statuses.NEW`) for the edge that
creates the record.  Edges absent from the list, or with count 0, were never
exercised.  For compatibility with early conformance reports, a ``coverage``
with ``status_edges: {type: {"exercised": [[from, to], ...]}}`` and
``steps_accepted`` is read too (each exercised edge then counts 1).
"""

from __future__ import annotations

from typing import Any

import jsonschema

from movecheck.graph.drawing import Drawing
from movecheck.graph.statuses import status_drawing
from movecheck.spec.errors import InputError
from movecheck.spec.statuses import STATUS_MACHINES
from movecheck.spec.steps import STEPS

COVERAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["edges"],
    "properties": {
        "steps": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "edges": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["from", "to", "count"],
                    "properties": {
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "count": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    },
}


def _from_legacy(cov: dict[str, Any]) -> dict[str, Any]:
    edges = {}
    for mtype, parts in (cov.get("status_edges") or {}).items():
        if isinstance(parts, dict):
            edges[mtype] = [{"from": e[0], "to": e[1], "count": 1}
                            for e in parts.get("exercised", []) if isinstance(e, list) and len(e) == 2]
    return {"steps": dict(cov.get("steps_accepted") or {}), "edges": edges}


def coverage_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The coverage object of a report (or a bare coverage object), checked."""
    cov = doc.get("coverage", doc) if isinstance(doc, dict) else doc
    if isinstance(cov, dict) and "edges" not in cov and "status_edges" in cov:
        cov = _from_legacy(cov)
    if not isinstance(cov, dict) or "edges" not in cov:
        raise InputError("the report has no coverage (expected a 'coverage' object with "
                         "'steps' and 'edges', docs/graphs.md)")
    try:
        jsonschema.validate(cov, COVERAGE_SCHEMA)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "coverage"
        raise InputError(f"coverage field {where}: {e.message}") from None
    unknown = [t for t in cov["edges"] if t not in STATUS_MACHINES]
    if unknown:
        raise InputError(f"coverage names unknown migration type {unknown[0]!r}; the types are "
                         f"{', '.join(STATUS_MACHINES)}")
    return cov


def edge_counts(cov: dict[str, Any], mtype: str) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for e in cov["edges"].get(mtype, []):
        counts[(e["from"], e["to"])] = counts.get((e["from"], e["to"]), 0) + e["count"]
    return counts


def coverage_drawings(cov: dict[str, Any]) -> list[Drawing]:
    out = []
    for mtype in STATUS_MACHINES:
        d = status_drawing(mtype, coverage=edge_counts(cov, mtype), name=f"coverage-{mtype}",
                           title=f"{mtype}: status edges exercised by the run")
        d.notes += _never_lines(cov, mtype)
        out.append(d)
    return out


def never_exercised(cov: dict[str, Any]) -> dict[str, Any]:
    """Edges and steps the run never exercised, and edges it took that the spec lacks."""
    edges: dict[str, list[dict]] = {}
    outside: dict[str, list[dict]] = {}
    for mtype, g in STATUS_MACHINES.items():
        counts = edge_counts(cov, mtype)
        edges[mtype] = [{"from": a, "to": b, "steps": list(d.get("steps", ()))}
                        for a, b, d in g.edges(data=True) if not counts.get((a, b))]
        extra = [{"from": a, "to": b, "count": n} for (a, b), n in counts.items()
                 if n and not g.has_edge(a, b)]
        if extra:
            outside[mtype] = extra
    steps = cov.get("steps") or {}
    return {
        "edges": edges,
        "steps": [s for s in STEPS if not steps.get(s)],
        "edges_not_in_status_machine": outside,
    }


def _never_lines(cov: dict[str, Any], mtype: str) -> list[str]:
    never = never_exercised(cov)["edges"][mtype]
    if not never:
        return ["every edge was exercised"]
    return [f"never exercised ({len(never)}):"] + [
        f"  {e['from']} -> {e['to']} ({', '.join(e['steps'])})" for e in never]


def coverage_text(cov: dict[str, Any]) -> list[str]:
    never = never_exercised(cov)
    lines = []
    for mtype, g in STATUS_MACHINES.items():
        n = len(never["edges"][mtype])
        lines.append(f"{mtype}: {g.number_of_edges() - n} of {g.number_of_edges()} status edges "
                     "exercised")
        lines += [f"  never: {e['from']} -> {e['to']} ({', '.join(e['steps'])})"
                  for e in never["edges"][mtype]]
    if never["steps"]:
        lines.append(f"steps never exercised: {', '.join(never['steps'])}")
    for mtype, extra in never["edges_not_in_status_machine"].items():
        lines += [f"{mtype}: took {e['from']} -> {e['to']} which the status machine lacks"
                  for e in extra]
    return lines
