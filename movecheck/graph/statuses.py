"""Pictures of the migration status machines, from the spec's own data.

The graphs are :data:`movecheck.spec.statuses.STATUS_MACHINES` (movecheck's
reading of the statuses Nova writes to ``Migration.status``; Nova never
merged a state machine for them, reviews 197668/197669).
Statuses are nodes, the steps that take an edge label it, the pseudo-status
``∅`` (no record yet) is a dot, terminal statuses have a double outline and
failure/rollback edges are dashed red.

The same picture carries the two overlays: a counterexample path
(:func:`status_drawing` ``path=``) and conformance coverage (``coverage=``).
"""

from __future__ import annotations

import networkx as nx

from movecheck.graph.drawing import (
    EXERCISED,
    FAILURE,
    HIGHLIGHT,
    INK,
    MUTED,
    TERMINAL_FILL,
    Drawing,
    Edge,
    LegendEntry,
    Node,
)
from movecheck.spec.statuses import NEW, STATUS_MACHINES

#: Where each type's statuses are written in Nova (for titles and docs).
NOVA_SOURCE = {
    "resize": "nova/compute/manager.py (prep_resize .. confirm/revert_resize)",
    "migration": "nova/compute/manager.py (cold migrate = resize to the same flavor)",
    "live-migration": "nova/compute/manager.py (live_migration, _post_live_migration)",
    "evacuation": "nova/compute/api.py evacuate + manager.py rebuild_instance",
}


def edge_key(migration_type: str, src: str, dst: str) -> str:
    return f"{migration_type}:{src}>{dst}"


def failure_statuses(g: nx.DiGraph) -> set[str]:
    """Statuses reached only by failure edges (error, failed, cancelled)."""
    out = set()
    for n in g.nodes:
        ins = list(g.in_edges(n, data=True))
        if ins and all(d.get("failure") for _, _, d in ins):
            out.add(n)
    return out


def status_drawing(
    migration_type: str,
    graph: nx.DiGraph | None = None,
    *,
    coverage: dict[tuple[str, str], int] | None = None,
    path: list[tuple[str, str, int, str]] | None = None,
    diverging: tuple[str, str] | None = None,
    name: str | None = None,
    title: str | None = None,
    key_prefix: str | None = None,
) -> Drawing:
    """The status machine of ``migration_type`` as a :class:`Drawing`.

    ``coverage`` maps (from, to) to how often a conformance run took the edge;
    ``path`` lists the (from, to, step number, step name) a trace took, and
    ``diverging`` is the edge of the step where the trace went wrong.
    """
    g = STATUS_MACHINES[migration_type] if graph is None else graph
    fails = failure_statuses(g)
    d = Drawing(name=name or f"status-{migration_type}",
                title=title or f"{migration_type}: Migration.status")
    visited: set[str] = set()
    taken: dict[tuple[str, str], list[str]] = {}
    if path:
        for src, dst, number, step in path:
            visited.update((src, dst))
            taken.setdefault((src, dst), []).append(f"#{number} {step}")
    for n, attrs in g.nodes(data=True):
        terminal = bool(attrs.get("terminal"))
        if n == NEW or attrs.get("initial"):
            d.nodes.append(Node(n, n, shape="point", tooltip=f"{n}: no migration record yet"))
            d.nodes[-1].key = f"{key_prefix or migration_type}:{n}"
            continue
        stroke = FAILURE if n in fails else INK
        width = 1.2
        if path is not None:
            stroke, width = (HIGHLIGHT, 2.4) if n in visited else (MUTED, 1.0)
        d.nodes.append(Node(n, n, fill=TERMINAL_FILL if terminal else "#ffffff", stroke=stroke,
                            width=width, double=terminal,
                            tooltip=f"{n} ({'terminal' if terminal else 'in progress'})",
                            key=f"{key_prefix or migration_type}:{n}"))
    for src, dst, attrs in g.edges(data=True):
        steps = ", ".join(attrs.get("steps", ()))
        failure = bool(attrs.get("failure"))
        color = FAILURE if failure else INK
        style = "dashed" if failure else "solid"
        width = 1.2
        label = steps
        if coverage is not None:
            count = coverage.get((src, dst), 0)
            if count:
                color = FAILURE if failure else EXERCISED
                style, width, label = "solid", 2.0, f"{steps} x{count}"
            else:
                color, style, width = MUTED, "dashed", 1.0
        if path is not None:
            if (src, dst) in taken:
                hot = diverging == (src, dst)
                color, style, width = (FAILURE if hot else HIGHLIGHT), "solid", 2.6
                label = "\n".join(taken[(src, dst)])
            else:
                color, width = MUTED, 1.0
        d.edges.append(Edge(src, dst, label=label, style=style, color=color, width=width,
                            tooltip=f"{src} → {dst}: {steps}",
                            key=edge_key(key_prefix or migration_type, src, dst),
                            # failure edges give way so that the main path stays straight
                            weight=0.15 if failure else 1.0))
    d.legend = _legend(coverage is not None, path is not None)
    return d


def _legend(coverage: bool, path: bool) -> list[LegendEntry]:
    out = [
        LegendEntry("node", "status in progress"),
        LegendEntry("node", "terminal status (absorbing)", fill=TERMINAL_FILL, double=True),
    ]
    if coverage:
        out += [
            LegendEntry("edge", "exercised by the run (x count)", stroke=EXERCISED, width=2.0),
            LegendEntry("edge", "failure edge exercised", stroke=FAILURE, width=2.0),
            LegendEntry("edge", "never exercised", stroke=MUTED, style="dashed"),
        ]
    elif path:
        out += [
            LegendEntry("edge", "taken by the trace (#step number)", stroke=HIGHLIGHT, width=2.6),
            LegendEntry("edge", "the diverging step", stroke=FAILURE, width=2.6),
            LegendEntry("edge", "not taken", stroke=MUTED),
        ]
    else:
        out += [
            LegendEntry("edge", "step (label: the steps that take the edge)"),
            LegendEntry("edge", "failure / rollback", stroke=FAILURE, style="dashed"),
        ]
    return out


def all_status_drawings() -> list[Drawing]:
    """One picture per migration type, in the spec's order."""
    return [status_drawing(t) for t in STATUS_MACHINES]
