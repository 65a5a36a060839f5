"""A small SVG writer for a :class:`~.scene.Scene` (no dependency, deterministic).

The output is byte-for-byte reproducible (fixed number formatting, no
timestamps), which is what lets a test regenerate the pictures in docs/ and
compare them.  Each node and edge is one ``<g>`` with ``data-key`` and a
``<title>`` tooltip, which the HTML page uses to react to clicks.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from movecheck.graph.scene import FONT_FAMILY, Circle, Path, Polygon, Rect, Scene, Text

_DASH = {"solid": None, "dashed": "6,4", "dotted": "2,3"}


def _n(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _stroke(color: str, width: float, dash: str) -> str:
    out = f' stroke="{color}" stroke-width="{_n(width)}"'
    if _DASH.get(dash):
        out += f' stroke-dasharray="{_DASH[dash]}"'
    return out


def _item(it) -> str:
    if isinstance(it, Rect):
        s = (f'<rect x="{_n(it.x)}" y="{_n(it.y)}" width="{_n(it.w)}" height="{_n(it.h)}"'
             f' fill="{it.fill}"')
        if it.rx:
            s += f' rx="{_n(it.rx)}"'
        if it.stroke != "none":
            s += _stroke(it.stroke, it.width, it.dash)
        return s + "/>"
    if isinstance(it, Circle):
        s = f'<circle cx="{_n(it.cx)}" cy="{_n(it.cy)}" r="{_n(it.r)}" fill="{it.fill}"'
        if it.stroke != "none":
            s += _stroke(it.stroke, it.width, "solid")
        return s + "/>"
    if isinstance(it, Text):
        weight = ' font-weight="bold"' if it.bold else ""
        return (f'<text x="{_n(it.x)}" y="{_n(it.y)}" font-size="{_n(it.size)}"'
                f' text-anchor="{it.anchor}" fill="{it.color}"{weight}>{escape(it.text)}</text>')
    if isinstance(it, Path):
        d = f"M{_n(it.start[0])},{_n(it.start[1])}"
        for c1, c2, p in it.curves:
            d += f" C{_n(c1[0])},{_n(c1[1])} {_n(c2[0])},{_n(c2[1])} {_n(p[0])},{_n(p[1])}"
        return f'<path d="{d}" fill="none"{_stroke(it.stroke, it.width, it.dash)}/>'
    if isinstance(it, Polygon):
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in it.points)
        return f'<polygon points="{pts}" fill="{it.fill}"/>'
    raise TypeError(f"cannot draw {it!r}")


def to_svg(scene: Scene, *, standalone: bool = True, element_id: str = "") -> str:
    """The scene as SVG text.  ``standalone`` adds the XML declaration and the
    SVG namespace (an SVG embedded in HTML needs neither)."""
    lines = []
    if standalone:
        lines.append('<?xml version="1.0" encoding="UTF-8"?>')
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    ident = f' id="{element_id}"' if element_id else ""
    lines.append(
        f'<svg{ns}{ident} width="{_n(scene.width)}" height="{_n(scene.height)}"'
        f' viewBox="0 0 {_n(scene.width)} {_n(scene.height)}"'
        f' font-family="{FONT_FAMILY}" role="img">'
    )
    if scene.title:
        lines.append(f"<title>{escape(scene.title)}</title>")
    lines.append(f'<rect x="0" y="0" width="{_n(scene.width)}" height="{_n(scene.height)}"'
                 ' fill="#ffffff"/>')
    for g in scene.groups:
        lines.append(f'<g class="{g.kind}" data-key={quoteattr(g.key)}>')
        if g.title:
            lines.append(f"<title>{escape(g.title)}</title>")
        lines.extend(_item(it) for it in g.items)
        lines.append("</g>")
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
