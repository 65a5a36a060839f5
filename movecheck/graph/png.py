"""Paint a :class:`~.scene.Scene` as PNG with Pillow (no system package needed).

Pillow is the one raster dependency: it ships wheels for every platform and
carries its own FreeType font (``ImageFont.load_default(size)``, Pillow >=
10.1), so a fresh machine without Graphviz or system fonts still gets a
legible PNG (docs/graphs.md, "Why Pillow").  The scene is painted at
``scale`` (2 by default) so text stays crisp on high-density screens.
"""

from __future__ import annotations

import io
import math

from movecheck.graph.scene import Circle, Path, Polygon, Rect, Scene, Text

_DASH = {"solid": None, "dashed": (6.0, 4.0), "dotted": (2.0, 3.0)}

#: Glyphs the bundled font lacks, spelled in ASCII instead of drawn as boxes.
_ASCII = str.maketrans({"∅": "(new)", "×": "x", "→": "->", "…": "..."})


def _dashed(draw, pts, fill, width, pattern) -> None:
    on, off = pattern
    carry = 0.0  # position within the on/off cycle, carried across segments
    for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False):
        seg = math.hypot(x2 - x1, y2 - y1)
        if seg == 0:
            continue
        t = 0.0
        while t < seg:
            phase = carry % (on + off)
            if phase < on:
                run = min(on - phase, seg - t)
                a, b = t / seg, (t + run) / seg
                draw.line([(x1 + (x2 - x1) * a, y1 + (y2 - y1) * a),
                           (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b)], fill=fill, width=width)
            else:
                run = min(on + off - phase, seg - t)
            t += run
            carry += run


#: Pixel budget of one PNG: a huge state-space picture is painted smaller
#: rather than taking gigabytes of memory (the SVG keeps every detail).
MAX_PIXELS = 40_000_000


def to_png(scene: Scene, scale: float = 2.0) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    area = max(1.0, scene.width * scene.height)
    scale = min(scale, (MAX_PIXELS / area) ** 0.5)

    img = Image.new("RGB", (max(1, round(scene.width * scale)), max(1, round(scene.height * scale))),
                    "#ffffff")
    draw = ImageDraw.Draw(img)
    fonts: dict[tuple[float, bool], ImageFont.ImageFont] = {}

    def font(size: float, bold: bool):
        key = (size, bold)
        if key not in fonts:
            fonts[key] = ImageFont.load_default(size=size * scale)
        return fonts[key]

    def s(p):
        return (p[0] * scale, p[1] * scale)

    for g in scene.groups:
        for it in g.items:
            if isinstance(it, Rect):
                box = [s((it.x, it.y)), s((it.x + it.w, it.y + it.h))]
                fill = None if it.fill == "none" else it.fill
                outline = None if it.stroke == "none" else it.stroke
                draw.rounded_rectangle(box, radius=it.rx * scale, fill=fill, outline=outline,
                                       width=max(1, round(it.width * scale)))
            elif isinstance(it, Circle):
                box = [s((it.cx - it.r, it.cy - it.r)), s((it.cx + it.r, it.cy + it.r))]
                draw.ellipse(box, fill=None if it.fill == "none" else it.fill,
                             outline=None if it.stroke == "none" else it.stroke)
            elif isinstance(it, Path):
                pts = [s(p) for p in it.sample()]
                width = max(1, round(it.width * scale))
                pattern = _DASH.get(it.dash)
                if pattern:
                    _dashed(draw, pts, it.stroke, width, (pattern[0] * scale, pattern[1] * scale))
                else:
                    draw.line(pts, fill=it.stroke, width=width, joint="curve")
            elif isinstance(it, Polygon):
                draw.polygon([s(p) for p in it.points], fill=it.fill)
            elif isinstance(it, Text):
                anchor = {"start": "ls", "middle": "ms", "end": "rs"}[it.anchor]
                f = font(it.size, it.bold)
                x, y = s((it.x, it.y))
                text = it.text.translate(_ASCII)
                draw.text((x, y), text, fill=it.color, font=f, anchor=anchor)
                if it.bold:  # the bundled font has no bold face: overstrike by a pixel
                    draw.text((x + 1, y), text, fill=it.color, font=f, anchor=anchor)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
