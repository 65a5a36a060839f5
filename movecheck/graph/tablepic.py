"""A table as a picture (SVG/PNG): the per-step usage table of a counterexample.

Rows are the steps; per host a cell "used of capacity" (VCPU/MEMORY_MB/
DISK_GB); a cell over capacity is red and bold; the diverging step's row is
outlined in red and shaded.  Each row is a group ``row-k`` so the HTML page
could highlight it.
"""

from __future__ import annotations

from movecheck.graph.drawing import FAILURE
from movecheck.graph.scene import FONT_SIZE, Group, Rect, Scene, Text, text_width

ROW_H = 22.0
PAD = 6.0
MARGIN = 16.0
MAX_CELL = 60  # characters; longer cells are cut with an ellipsis


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table_scene(title: str, header: list[str], rows: list[list[str]], *,
                over: set[tuple[int, int]] = frozenset(), diverging: int | None = None,
                notes: list[str] = ()) -> Scene:
    size = FONT_SIZE - 1
    cols = len(header)
    widths = [text_width(_cut(h), size) + 2 * PAD for h in header]
    for row in rows:
        for j, c in enumerate(row):
            widths[j] = max(widths[j], text_width(_cut(c), size) + 2 * PAD)
    x0, y0 = MARGIN, MARGIN + 26
    groups = [Group("title", "other", [Text(MARGIN, MARGIN + 15, title, size=15, anchor="start",
                                            bold=True)])]
    total_w = sum(widths)

    def row_group(key: str, y: float, cells: list[str], *, bold=False, fill="#ffffff",
                  hot: set[int] = frozenset(), stroke="#cccccc") -> Group:
        g = Group(key, "row")
        g.items.append(Rect(x0, y, total_w, ROW_H, fill=fill, stroke=stroke,
                            width=2.0 if stroke != "#cccccc" else 1.0))
        x = x0
        for j in range(cols):
            c = _cut(cells[j]) if j < len(cells) else ""
            g.items.append(Text(x + PAD, y + ROW_H - 7, c, size=size, anchor="start",
                                color=FAILURE if j in hot else "#222222", bold=bold or j in hot))
            x += widths[j]
        return g

    groups.append(row_group("header", y0, header, bold=True, fill="#eef3f8"))
    for k, row in enumerate(rows):
        hot = {j for r, j in over if r == k}
        div = k == diverging
        groups.append(row_group(f"row-{k}", y0 + (k + 1) * ROW_H, row, hot=hot,
                                fill="#fdecea" if div else ("#ffffff" if k % 2 else "#fafafa"),
                                stroke=FAILURE if div else "#cccccc"))
    grid = Group("grid", "other")
    x = x0
    for w in widths[:-1]:
        x += w
        grid.items.append(Rect(x, y0, 0.01, (len(rows) + 1) * ROW_H, stroke="#dddddd", width=1.0))
    groups.append(grid)
    y = y0 + (len(rows) + 1) * ROW_H + 8
    note_g = Group("notes", "other")
    for line in notes:
        y += 16
        note_g.items.append(Text(MARGIN, y, line, size=12, anchor="start", color="#444444"))
    groups.append(note_g)
    width = max(total_w, max((text_width(n, 12) for n in notes), default=0.0),
                text_width(title, 15))
    return Scene(round(width + 2 * MARGIN), round(y + MARGIN), groups, title)
