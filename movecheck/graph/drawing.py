"""What a picture shows, independent of how it is drawn.

A :class:`Drawing` is a directed graph with display attributes (labels,
shapes, colours, dashes), a title, a legend and notes.  The pictures of the
status machines, the state space, a counterexample and coverage are all
built as a Drawing first; every output format (built-in SVG/PNG, Graphviz
DOT, Mermaid, HTML) is then written from the same Drawing, so the formats
cannot disagree about what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Colours shared by every picture (colour-blind safe: blue/orange/red/grey).
INK = "#222222"
MUTED = "#8a8a8a"
FAILURE = "#c0392b"
HIGHLIGHT = "#e67e22"
EXERCISED = "#1f6fb2"
INITIAL_FILL = "#222222"
TERMINAL_FILL = "#eef3f8"
STATUS_FILL = "#ffffff"


@dataclass
class Node:
    """One node.  ``shape`` is ``box`` (rounded rectangle) or ``point`` (a
    filled dot, for the pseudo-status before a record exists)."""

    id: str
    label: str
    shape: str = "box"
    fill: str = STATUS_FILL
    stroke: str = INK
    width: float = 1.2  # outline width in px
    double: bool = False  # double outline: a terminal status
    tooltip: str = ""
    key: str = ""  # stable name for the HTML page (defaults to the id)


@dataclass
class Edge:
    """One edge; ``style`` is ``solid``, ``dashed`` or ``dotted``."""

    src: str
    dst: str
    label: str = ""
    style: str = "solid"
    color: str = INK
    width: float = 1.2
    tooltip: str = ""
    key: str = ""  # stable name for HTML highlighting, e.g. "resize:finished>confirming"
    weight: float = 1.0  # how hard the layout keeps the edge straight (like dot's weight)


@dataclass
class LegendEntry:
    """A legend row: either a node swatch (``kind`` node) or an edge swatch."""

    kind: str  # "node" or "edge"
    text: str
    fill: str = STATUS_FILL
    stroke: str = INK
    style: str = "solid"
    double: bool = False
    width: float = 1.2


@dataclass
class Drawing:
    name: str  # file stem, e.g. "status-resize"
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)
