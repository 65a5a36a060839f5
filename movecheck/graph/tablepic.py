"""A table as a picture (SVG/PNG): the per-step usage table of a counterexample.

Rows are the steps; per host a cell "used of capacity" (VCPU/MEMORY_MB/
DISK_GB), then who holds each device; a cell over capacity (or where the
tracker's devices differ) is red and bold; the diverging step's row is
outlined in red and shaded.  A cell's parts separated by "; " (the spec's
value; the tracker's) go on lines of their own, and so does every line of a
note (a tracker's stderr), so that nothing is drawn over anything else.
Each row is a group ``row-k`` so the HTML page could highlight it.
"""

from __future__ import annotations

from movecheck.graph.drawing import FAILURE
from movecheck.graph.scene import FONT_SIZE, LINE_HEIGHT, Group, Rect, Scene, Text, text_width

PAD = 6.0
MARGIN = 16.0
MAX_CELL = 60  # characters per line; longer lines are cut with an ellipsis


def _lines(text: str) -> list[str]:
    return [p if len(p) <= MAX_CELL else p[: MAX_CELL - 1] + "…" for p in text.split("; ")]


def table_scene(title: str, header: list[str], rows: list[list[str]], *,
                over: set[tuple[int, int]] = frozenset(), diverging: int | None = None,
                notes: list[str] = ()) -> Scene:
    size = FONT_SIZE - 1
    cols = len(header)
    cells = [[_lines(c) for c in row] + [[""]] * (cols - len(row)) for row in [header, *rows]]
    widths = [max(text_width(line, size) for row in cells for line in row[j]) + 2 * PAD
              for j in range(cols)]
    heights = [max(len(c) for c in row) * LINE_HEIGHT + 5 for row in cells]
    x0, y0 = MARGIN, MARGIN + 26
    groups = [Group("title", "other", [Text(MARGIN, MARGIN + 15, title, size=15, anchor="start",
                                            bold=True)])]
    total_w = sum(widths)

    def row_group(key: str, y: float, h: float, row: list[list[str]], *, bold=False,
                  fill="#ffffff", hot: set[int] = frozenset(), stroke="#cccccc") -> Group:
        g = Group(key, "row")
        g.items.append(Rect(x0, y, total_w, h, fill=fill, stroke=stroke,
                            width=2.0 if stroke != "#cccccc" else 1.0))
        x = x0
        for j in range(cols):
            for k, line in enumerate(row[j]):
                g.items.append(Text(x + PAD, y + (k + 1) * LINE_HEIGHT - 2, line, size=size,
                                    anchor="start", color=FAILURE if j in hot else "#222222",
                                    bold=bold or j in hot))
            x += widths[j]
        return g

    y = y0
    groups.append(row_group("header", y, heights[0], cells[0], bold=True, fill="#eef3f8"))
    for k in range(len(rows)):
        y += heights[k]
        div = k == diverging
        groups.append(row_group(f"row-{k}", y, heights[k + 1], cells[k + 1],
                                hot={j for r, j in over if r == k},
                                fill="#fdecea" if div else ("#ffffff" if k % 2 else "#fafafa"),
                                stroke=FAILURE if div else "#cccccc"))
    y += heights[-1]
    grid = Group("grid", "other")
    x = x0
    for w in widths[:-1]:
        x += w
        grid.items.append(Rect(x, y0, 0.01, y - y0, stroke="#dddddd", width=1.0))
    groups.append(grid)
    y += 8
    note_g = Group("notes", "other")
    notes = [part for line in notes for part in line.split("\n")]  # a note per line
    for line in notes:
        y += 16
        note_g.items.append(Text(MARGIN, y, line, size=12, anchor="start", color="#444444"))
    groups.append(note_g)
    width = max(total_w, max((text_width(n, 12) for n in notes), default=0.0),
                text_width(title, 15))
    return Scene(round(width + 2 * MARGIN), round(y + MARGIN), groups, title)
