"""The built-in layered layout: a :class:`Drawing` to a positioned :class:`Scene`.

Used when Graphviz's ``dot`` is not installed (and always for the HTML page
and the pictures in docs/, so that they do not depend on what is installed).
It is the Sugiyama scheme that ``dot`` itself uses, kept small:

1. break cycles by reversing the edges that close a cycle in a depth-first
   search from the sources, then rank nodes by longest path (networkx
   topological order);
2. give every edge a chain of virtual nodes, one per rank it crosses, on a
   grid with a label rank between any two node ranks; an edge's label sits
   beside its first virtual node, so labels take room in the ordering and
   cannot overlap nodes or each other;
3. order each rank by barycentre sweeps from a breadth-first seed order,
   keeping the order with the fewest crossings (counted with a Fenwick tree);
4. place x by isotonic regression (pool-adjacent-violators) towards the mean
   of each node's neighbours, which keeps the minimum gaps exactly;
5. draw edges straight down through each rank band and as vertical-tangent
   Bézier curves between bands, where no node or label text lives.

Edge ``weight`` works as in ``dot``: the layout keeps heavy edges straight
(the status pictures give failure edges a low weight so the main path is a
straight line).

Self-loops are not drawn (callers list them in tooltips instead).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import networkx as nx

from movecheck.graph.drawing import INITIAL_FILL, Drawing, Edge, LegendEntry, Node
from movecheck.graph.scene import (
    FONT_SIZE,
    LINE_HEIGHT,
    Circle,
    Group,
    Path,
    Polygon,
    Rect,
    Scene,
    Text,
    text_width,
)

PAD_X = 10.0
PAD_Y = 6.0
POINT = 14.0
NODE_GAP = 22.0
VIRTUAL_GAP = 10.0
RANK_GAP = 22.0
MARGIN = 16.0
ARROW = 9.0
TITLE_SIZE = 15.0
NOTE_SIZE = 12.0


@dataclass
class _V:
    """A node of the layered graph (a real node or a virtual one)."""

    id: str
    rank: int
    left: float  # extent left of the anchor (the x an edge passes through)
    right: float
    height: float
    real: Node | None = None
    label: str = ""
    x: float = 0.0
    y: float = 0.0


def node_size(n: Node) -> tuple[float, float]:
    if n.shape == "point":
        return POINT, POINT
    lines = n.label.split("\n")
    w = text_width(n.label) + 2 * PAD_X + (6 if n.double else 0)
    h = len(lines) * LINE_HEIGHT + 2 * PAD_Y + (6 if n.double else 0)
    return w, h


def _back_edges(d: Drawing) -> set[int]:
    """Indices of the edges that close a cycle in a depth-first search from the
    sources (in the drawing's node order); none for an acyclic drawing."""
    out: dict[str, list[int]] = {n.id: [] for n in d.nodes}
    indeg = {n.id: 0 for n in d.nodes}
    for k, e in enumerate(d.edges):
        if e.src != e.dst:
            out[e.src].append(k)
            indeg[e.dst] += 1
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back: set[int] = set()
    starts = [n.id for n in d.nodes if indeg[n.id] == 0] + [n.id for n in d.nodes]
    for s in starts:
        if s in state:
            continue
        state[s] = 1
        stack = [(s, iter(out[s]))]
        while stack:
            u, it = stack[-1]
            k = next(it, None)
            if k is None:
                state[u] = 2
                stack.pop()
                continue
            v = d.edges[k].dst
            if state.get(v) == 1:
                back.add(k)
            elif v not in state:
                state[v] = 1
                stack.append((v, iter(out[v])))
    return back


def _order_nodes(d: Drawing) -> dict[str, int]:
    """Breadth-first order from the sources, in the drawing's node order: the
    seed order of each rank before the barycentre sweeps."""
    succ: dict[str, list[str]] = {n.id: [] for n in d.nodes}
    indeg = {n.id: 0 for n in d.nodes}
    for e in d.edges:
        if e.src != e.dst:
            succ[e.src].append(e.dst)
            indeg[e.dst] += 1
    order: dict[str, int] = {}
    starts = [n.id for n in d.nodes if indeg[n.id] == 0] + [n.id for n in d.nodes]
    for s in starts:
        if s in order:
            continue
        queue = deque([s])
        order[s] = len(order)
        while queue:
            u = queue.popleft()
            for v in succ[u]:
                if v not in order:
                    order[v] = len(order)
                    queue.append(v)
    return order


def _pava(target: list[float], weight: list[float]) -> list[float]:
    """Non-decreasing fit minimising the weighted squared distance to ``target``."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(target, weight, strict=True):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for m, _, c in blocks:
        out.extend([m] * int(c))
    return out


def _crossings(upper: dict[str, int], lower: dict[str, int], segs: list[tuple[str, str]]) -> int:
    pairs = sorted((upper[a], lower[b]) for a, b in segs)
    # inversions of the lower positions = crossings (Fenwick tree)
    size = max(lower.values(), default=0) + 2
    tree = [0] * (size + 1)
    count = 0
    seen = 0
    for _, b in pairs:
        i = b + 2
        s = 0
        while i > 0:
            s += tree[i]
            i -= i & -i
        count += seen - s  # earlier segments ending right of b
        i = b + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
        seen += 1
    return count


class _Layered:
    def __init__(self, d: Drawing):
        self.d = d
        order = _order_nodes(d)
        dag = nx.DiGraph()
        dag.add_nodes_from(n.id for n in d.nodes)
        self.edges: list[tuple[Edge, str, str, bool]] = []  # edge, top, bottom, reversed
        back = _back_edges(d)
        for k, e in enumerate(d.edges):
            if e.src == e.dst:
                continue
            rev = k in back
            a, b = (e.dst, e.src) if rev else (e.src, e.dst)
            dag.add_edge(a, b)
            self.edges.append((e, a, b, rev))
        rank: dict[str, int] = {}
        for u in nx.topological_sort(dag):
            rank[u] = max((rank[p] + 1 for p in dag.predecessors(u)), default=0)
        self.v: dict[str, _V] = {}
        for n in d.nodes:
            w, h = node_size(n)
            self.v[n.id] = _V(n.id, 2 * rank[n.id], w / 2, w / 2, h, real=n)
        self.chains: list[list[str]] = []
        self.seg_w: dict[tuple[str, str], float] = {}
        self.segs: list[tuple[str, str]] = []
        for k, (e, a, b, _rev) in enumerate(self.edges):
            chain = [a]
            for r in range(self.v[a].rank + 1, self.v[b].rank):
                vid = f"\0{k}:{r}"
                if r == self.v[a].rank + 1 and e.label:
                    lw = text_width(e.label, FONT_SIZE - 1)
                    nv = _V(vid, r, 4.0, lw + 12.0, len(e.label.split("\n")) * LINE_HEIGHT,
                            label=e.label)
                else:
                    nv = _V(vid, r, 3.0, 3.0, 0.0)
                self.v[vid] = nv
                chain.append(vid)
            chain.append(b)
            self.chains.append(chain)
            for seg in zip(chain, chain[1:], strict=False):
                self.segs.append(seg)
                self.seg_w[seg] = self.seg_w.get(seg, 0.0) + e.weight
        nranks = max((x.rank for x in self.v.values()), default=0) + 1
        self.layers: list[list[str]] = [[] for _ in range(nranks)]
        first = {n.id: order[n.id] for n in d.nodes}
        for vid, x in sorted(self.v.items(), key=lambda kv: self._seed(kv[0], first)):
            self.layers[x.rank].append(vid)
        self.up: dict[str, list[str]] = {vid: [] for vid in self.v}
        self.down: dict[str, list[str]] = {vid: [] for vid in self.v}
        for a, b in self.segs:
            self.down[a].append(b)
            self.up[b].append(a)

    def _seed(self, vid: str, first: dict[str, int]) -> tuple[float, float]:
        if vid in first:
            return (first[vid], 0.0)
        k = int(vid[1:].split(":")[0])
        _, a, b, _ = self.edges[k]
        return ((first[a] + first[b]) / 2, 0.5)

    # ------------------------------------------------------------------ ordering

    def _pos(self) -> dict[str, int]:
        return {vid: i for layer in self.layers for i, vid in enumerate(layer)}

    def _total_crossings(self) -> int:
        pos = self._pos()
        total = 0
        for i in range(len(self.layers) - 1):
            segs = [(a, b) for a in self.layers[i] for b in self.down[a]]
            total += _crossings(pos, pos, segs)
        return total

    def order(self, sweeps: int = 12) -> None:
        best = [list(layer) for layer in self.layers]
        best_c = self._total_crossings()
        for it in range(sweeps):
            down = it % 2 == 0
            rng = range(1, len(self.layers)) if down else range(len(self.layers) - 2, -1, -1)
            for i in rng:
                pos = self._pos()
                nbrs = self.up if down else self.down
                layer = self.layers[i]

                def bary(vid: str, pos=pos, nbrs=nbrs) -> float:
                    ns = nbrs[vid]
                    return sum(pos[n] for n in ns) / len(ns) if ns else pos[vid]

                self.layers[i] = sorted(layer, key=lambda vid, b=bary, pos=pos: (b(vid), pos[vid]))
            c = self._total_crossings()
            if c < best_c:
                best, best_c = [list(layer) for layer in self.layers], c
        self.layers = best

    # ------------------------------------------------------------------ coordinates

    def _gap(self, a: _V, b: _V) -> float:
        return a.right + b.left + (NODE_GAP if a.real and b.real else VIRTUAL_GAP)

    def place(self, rounds: int = 24) -> None:
        for layer in self.layers:
            x = 0.0
            for i, vid in enumerate(layer):
                if i:
                    x += self._gap(self.v[layer[i - 1]], self.v[vid])
                self.v[vid].x = x
        for it in range(rounds):
            mode = ("up", "down", "both")[it % 3]
            rng = range(len(self.layers)) if mode != "down" else range(len(self.layers) - 1, -1, -1)
            for i in rng:
                self._place_layer(self.layers[i], mode)
        xs = [x.x - x.left for x in self.v.values()]
        shift = -min(xs, default=0.0)
        for x in self.v.values():
            x.x += shift
        y = 0.0
        self.band: list[float] = []
        for layer in self.layers:
            h = max((self.v[vid].height for vid in layer), default=0.0)
            self.band.append(h)
            for vid in layer:
                self.v[vid].y = y + h / 2
            y += h + RANK_GAP
        self.width = max((x.x + x.right for x in self.v.values()), default=0.0)
        self.height = max(y - RANK_GAP, 0.0)

    def _place_layer(self, layer: list[str], mode: str) -> None:
        if not layer:
            return
        targets, weights, offsets = [], [], []
        off = 0.0
        for i, vid in enumerate(layer):
            v = self.v[vid]
            if i:
                off += self._gap(self.v[layer[i - 1]], v)
            ns = []
            if mode != "down":
                ns += [(n, self.seg_w[(n, vid)]) for n in self.up[vid]]
            if mode != "up":
                ns += [(n, self.seg_w[(vid, n)]) for n in self.down[vid]]
            total = sum(w for _, w in ns)
            if total > 0:
                t = sum(self.v[n].x * w for n, w in ns) / total
                w = min(total, 4.0) * (2.0 if v.real is None else 1.0)
            else:
                t, w = v.x, 0.05
            targets.append(t - off)
            weights.append(w)
            offsets.append(off)
        fit = _pava(targets, weights)
        for vid, o, y in zip(layer, offsets, fit, strict=True):
            self.v[vid].x = o + y


def _attach(lay: _Layered) -> dict[tuple[int, str], tuple[float, float]]:
    """Where each edge chain meets its end nodes: spread along the bottom/top side."""
    sides: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for k, chain in enumerate(lay.chains):
        a, b = chain[0], chain[-1]
        sides.setdefault((a, "bottom"), []).append((lay.v[chain[1]].x, k, a))
        sides.setdefault((b, "top"), []).append((lay.v[chain[-2]].x, k, b))
    out: dict[tuple[int, str], tuple[float, float]] = {}
    for (vid, side), items in sides.items():
        v = lay.v[vid]
        items.sort()
        span = 0.0 if v.real.shape == "point" else min(v.left + v.right - 2 * PAD_X, 14.0 * len(items))
        for j, (_, k, _) in enumerate(items):
            dx = 0.0 if len(items) == 1 else -span / 2 + span * j / (len(items) - 1)
            y = v.y + (v.height / 2 if side == "bottom" else -v.height / 2)
            out[(k, vid)] = (v.x + dx, y)
    return out


def _edge_group(lay: _Layered, k: int, attach, ox: float, oy: float) -> Group:
    e, _a, _b, rev = lay.edges[k]
    chain = lay.chains[k]
    # An edge crosses each rank band straight down at its virtual node's x and
    # bends only in the gaps between bands, where no node or label text lives.
    pts = [attach[(k, chain[0])]]
    for c in chain[1:-1]:
        v = lay.v[c]
        half = lay.band[v.rank] / 2
        pts += [(v.x, v.y - half), (v.x, v.y + half)]
    pts.append(attach[(k, chain[-1])])
    pts = [(x + ox, y + oy) for x, y in pts]
    if rev:
        pts.reverse()
    # shorten the last segment by the arrow so the line does not poke through it
    (_, y1), (x2, y2) = pts[-2], pts[-1]
    direction = 1.0 if y2 >= y1 else -1.0
    tip = (x2, y2)
    pts[-1] = (x2, y2 - direction * ARROW)
    curves = []
    for (px, py), (qx, qy) in zip(pts, pts[1:], strict=False):
        if px == qx:
            curves.append(((px, py), (qx, qy), (qx, qy)))
            continue
        my = (qy - py) / 2
        curves.append(((px, py + my), (qx, qy - my), (qx, qy)))
    dash = e.style
    g = Group(key=e.key or f"{e.src}>{e.dst}", kind="edge", title=e.tooltip or e.label)
    g.items.append(Path(pts[0], curves, stroke=e.color, width=e.width, dash=dash))
    base = pts[-1]
    g.items.append(Polygon([tip, (base[0] - 4.5, base[1]), (base[0] + 4.5, base[1])], fill=e.color))
    if e.label:
        lv = lay.v[chain[1]]
        lines = e.label.split("\n")
        top = lv.y + oy - len(lines) * LINE_HEIGHT / 2
        for j, line in enumerate(lines):
            g.items.append(Text(lv.x + ox + 7, top + (j + 1) * LINE_HEIGHT - 4.5, line,
                                size=FONT_SIZE - 1, anchor="start", color=e.color))
    return g


def node_items(n: Node, cx: float, cy: float, w: float, h: float) -> list:
    if n.shape == "point":
        return [Circle(cx, cy, POINT / 2, fill=n.fill if n.fill != "#ffffff" else INITIAL_FILL,
                       stroke=n.stroke, width=n.width)]
    items: list = [Rect(cx - w / 2, cy - h / 2, w, h, fill=n.fill, stroke=n.stroke,
                        width=n.width, rx=7)]
    if n.double:
        items.append(Rect(cx - w / 2 + 3, cy - h / 2 + 3, w - 6, h - 6, fill="none",
                          stroke=n.stroke, width=n.width, rx=5))
    lines = n.label.split("\n")
    top = cy - len(lines) * LINE_HEIGHT / 2
    for j, line in enumerate(lines):
        items.append(Text(cx, top + (j + 1) * LINE_HEIGHT - 4.5, line, color=n.stroke,
                          bold=j == 0 and n.double))
    return items


def _legend_groups(entries: list[LegendEntry], x: float, y: float) -> tuple[list[Group], float, float]:
    g = Group(key="legend", kind="other")
    row = 22.0
    width = 0.0
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
    return [g], width, len(entries) * row


def layout(d: Drawing) -> Scene:
    """Lay out ``d`` and return the scene to paint."""
    lay = _Layered(d)
    lay.order()
    lay.place()
    attach = _attach(lay)
    title_h = TITLE_SIZE + 14 if d.title else 0.0
    ox, oy = MARGIN, MARGIN + title_h
    groups: list[Group] = []
    if d.title:
        groups.append(Group("title", "other", [Text(MARGIN, MARGIN + TITLE_SIZE, d.title,
                                                     size=TITLE_SIZE, anchor="start", bold=True)]))
    for k in range(len(lay.edges)):
        groups.append(_edge_group(lay, k, attach, ox, oy))
    for n in d.nodes:
        v = lay.v[n.id]
        w = v.left + v.right
        groups.append(Group(n.key or n.id, "node", node_items(n, v.x + ox, v.y + oy, w, v.height),
                            title=n.tooltip or n.label))
    y = oy + lay.height + 20
    width = lay.width
    if d.legend:
        lg, lw, lh = _legend_groups(d.legend, MARGIN, y)
        groups.extend(lg)
        y += lh + 8
        width = max(width, lw)
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
