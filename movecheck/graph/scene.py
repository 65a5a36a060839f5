"""Positioned shapes: what the built-in SVG and PNG writers paint.

The layout turns a :class:`~.drawing.Drawing` (and the trace table turns a
table) into a :class:`Scene` of rectangles, circles, text, Bézier paths and
polygons in pixel coordinates.  Both writers paint exactly these shapes, so
the SVG and the PNG of a picture are the same picture.

Graphviz sizes the nodes and places the labels of a graph (:mod:`.layout`)
with its Helvetica metrics.  The legend, the notes and the trace table are
laid out here, with estimated text widths: a character is taken as
:data:`CHAR_WIDTH` ems wide, wider than the average glyph of the sans-serif
fonts that viewers substitute, so that boxes always hold their labels
whatever font the viewer picks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FONT_SIZE = 13.0
LINE_HEIGHT = 17.0
#: Estimated glyph width in ems (DejaVu Sans averages ~0.55; Arial ~0.5).
CHAR_WIDTH = 0.6
#: Helvetica first: Graphviz measured the labels with its metrics (Arial and
#: Liberation Sans have the same).
FONT_FAMILY = "Helvetica, Arial, Liberation Sans, DejaVu Sans, sans-serif"


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return max((len(line) for line in text.split("\n")), default=0) * size * CHAR_WIDTH


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str = "none"
    stroke: str = "none"
    width: float = 1.0
    rx: float = 0.0
    dash: str = "solid"


@dataclass
class Circle:
    cx: float
    cy: float
    r: float
    fill: str = "none"
    stroke: str = "none"
    width: float = 1.0


@dataclass
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float = FONT_SIZE
    anchor: str = "middle"  # start | middle | end
    color: str = "#222222"
    bold: bool = False
    width: float = 0.0  # as measured by the layout (Graphviz's font metrics); 0 = unknown


@dataclass
class Path:
    """A stroke through ``start`` and then cubic Bézier segments (c1, c2, end)."""

    start: tuple[float, float]
    curves: list[tuple[tuple[float, float], tuple[float, float], tuple[float, float]]]
    stroke: str = "#222222"
    width: float = 1.0
    dash: str = "solid"

    def sample(self, per_curve: int = 12) -> list[tuple[float, float]]:
        """The path as a polyline (for raster painting)."""
        pts = [self.start]
        p0 = self.start
        for c1, c2, p3 in self.curves:
            for k in range(1, per_curve + 1):
                t = k / per_curve
                u = 1 - t
                pts.append((
                    u * u * u * p0[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t * t * t * p3[0],
                    u * u * u * p0[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t * t * t * p3[1],
                ))
            p0 = p3
        return pts


@dataclass
class Polygon:
    points: list[tuple[float, float]]
    fill: str = "#222222"


@dataclass
class Group:
    """Shapes that belong to one node or edge: ``key`` lets the HTML page find
    them (click a state, highlight a step); ``title`` becomes a tooltip."""

    key: str
    kind: str  # "node" | "edge" | "row" | "other"
    items: list = field(default_factory=list)
    title: str = ""


@dataclass
class Scene:
    width: float
    height: float
    groups: list[Group] = field(default_factory=list)
    title: str = ""
