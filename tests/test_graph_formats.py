"""Every picture format of ``movecheck graph`` (issue 6, "Tests")."""

import json
import os
import re
import stat
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import networkx as nx
import pytest

from movecheck.graph import output
from movecheck.graph.layout import layout
from movecheck.graph.output import parse_formats, render, resolve_renderer
from movecheck.graph.pictures import write_status_machines
from movecheck.graph.scene import Rect, Text
from movecheck.graph.statuses import all_status_drawings, status_drawing
from movecheck.graph.svg import to_svg
from movecheck.graph.textformats import to_dot, to_mermaid
from movecheck.spec.errors import InputError
from movecheck.spec.statuses import NEW, STATUS_MACHINES

SVG = "{http://www.w3.org/2000/svg}"
TYPES = list(STATUS_MACHINES)


def statuses(mtype):
    return [n for n in STATUS_MACHINES[mtype].nodes if n != NEW]


@pytest.mark.parametrize("mtype", TYPES)
def test_svg_parses_and_names_every_status(mtype):
    svg = render(status_drawing(mtype), "svg", "builtin")
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    texts = {t.text for t in root.iter(SVG + "text")}
    missing = [s for s in statuses(mtype) if s not in texts]
    assert not missing
    assert float(root.get("width")) > 100 and float(root.get("height")) > 100


@pytest.mark.parametrize("mtype", ["resize", "evacuation"])
def test_png_has_a_valid_header_and_non_trivial_size(mtype):
    png = render(status_drawing(mtype), "png", "builtin")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 300 and height > 300
    assert len(png) > 5000


@pytest.mark.filterwarnings("ignore:'setParseAction' deprecated")  # pydot's own pyparsing use
@pytest.mark.parametrize("mtype", TYPES)
def test_dot_round_trips_through_networkx(mtype):
    g = nx.nx_pydot.read_dot(_write(to_dot(status_drawing(mtype))))
    want = STATUS_MACHINES[mtype]
    assert set(g.nodes) == set(want.nodes)
    assert {(a, b) for a, b, _ in g.edges} == set(want.edges)
    for a, b, d in want.edges(data=True):
        (attrs,) = g.get_edge_data(a, b).values()
        assert attrs["label"].strip('"') == ", ".join(d["steps"])
        assert (attrs["style"] == "dashed") == d["failure"]


def _write(text, _n=[0]):  # noqa: B006 - a counter for unique temp names
    import tempfile

    _n[0] += 1
    path = os.path.join(tempfile.mkdtemp(), f"g{_n[0]}.dot")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@pytest.mark.parametrize("mtype", TYPES)
def test_mermaid_is_a_flowchart_with_every_status_and_edge_style(mtype):
    text = to_mermaid(status_drawing(mtype))
    assert "\nflowchart TD\n" in text
    for s in statuses(mtype):
        assert f'"{s}"' in text
    g = STATUS_MACHINES[mtype]
    assert len(re.findall(r"^  linkStyle \d+ ", text, re.M)) == g.number_of_edges()
    failures = sum(1 for *_, d in g.edges(data=True) if d["failure"])
    assert text.count("-.->") == failures


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.urls, self.scripts, self._in_script = [], [], [], None

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br", "rect", "circle", "path", "polygon"):
            self.stack.append(tag)
        for name, value in attrs:
            if name in ("src", "href") or (value and re.search(r"\w+://", value)):
                self.urls.append(value)
        if tag == "script":
            self._in_script = dict(attrs).get("type", "")

    def handle_startendtag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href"):
                self.urls.append(value)

    def handle_endtag(self, tag):
        if tag in ("rect", "circle", "path", "polygon"):
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script == "application/json":
            self.scripts.append(json.loads(data))


def test_html_is_self_contained_and_parses(tmp_path):
    paths = write_status_machines(tmp_path, ("html",), "builtin")
    html = (tmp_path / "statuses.html").read_text(encoding="utf-8")
    assert tmp_path / "statuses.html" in paths
    assert "http" not in html and "//" not in re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    p = _Collect()
    p.feed(html)
    p.close()
    assert p.urls == []
    assert p.stack == []
    details, steps = p.scripts
    assert steps == []
    for mtype in TYPES:
        for s in statuses(mtype):
            assert f"{mtype}:{s}" in details
            assert f'data-key="{mtype}:{s}"' in html


def test_svg_is_deterministic():
    d = status_drawing("resize")
    assert to_svg(layout(d)) == to_svg(layout(status_drawing("resize")))


def _boxes(scene):
    """Node boxes and label boxes (estimated text extents) of a laid-out scene."""
    nodes, labels = [], []
    for g in scene.groups:
        if g.kind == "node":
            r = next(it for it in g.items if isinstance(it, (Rect,)) or hasattr(it, "r"))
            if isinstance(r, Rect):
                nodes.append((g.key, r.x, r.y, r.x + r.w, r.y + r.h))
            else:
                nodes.append((g.key, r.cx - r.r, r.cy - r.r, r.cx + r.r, r.cy + r.r))
        elif g.kind == "edge":
            for it in g.items:
                if isinstance(it, Text):
                    # Graphviz's width with 10% to spare: a viewer may substitute a wider font
                    w = it.width * 1.1
                    x = it.x - {"start": 0, "middle": w / 2, "end": w}[it.anchor]
                    labels.append((it.text, x, it.y - it.size, x + w, it.y + it.size / 4))
    return nodes, labels


def _overlap(a, b):
    return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]


@pytest.mark.parametrize("drawing", all_status_drawings(), ids=lambda d: d.name)
def test_no_overlapping_nodes_or_labels_at_the_default_size(drawing):
    nodes, labels = _boxes(layout(drawing))
    assert len(nodes) == len(drawing.nodes)
    boxes = nodes + labels
    clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if _overlap(a, b)]
    assert clashes == []


def test_parse_formats():
    assert parse_formats(None) == output.FORMATS
    assert parse_formats("svg, PNG,svg") == ("svg", "png")
    with pytest.raises(InputError, match="unknown --format 'gif'"):
        parse_formats("svg,gif")
    with pytest.raises(InputError, match="at least one"):
        parse_formats(" , ")


def test_auto_renderer_is_builtin_without_graphviz(monkeypatch):
    monkeypatch.setattr(output, "graphviz_dot", lambda: None)
    assert resolve_renderer("auto") == "builtin"
    with pytest.raises(InputError, match="Graphviz 'dot' is not installed"):
        resolve_renderer("dot")


def test_dot_renderer_calls_graphviz_and_falls_back_when_it_fails(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    # a stand-in for Graphviz: echoes its -T format and the graph name it read
    fake.write_text('#!/bin/sh\nhead -1 | sed "s/^/rendered $1 /"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(output, "graphviz_dot", lambda: str(fake))
    assert resolve_renderer("auto") == "dot"
    out = render(status_drawing("resize"), "svg", "dot")
    assert out.decode().startswith('rendered -Tsvg digraph "status-resize" {')
    fake.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fallback = render(status_drawing("resize"), "svg", "dot")
    assert ET.fromstring(fallback).tag == SVG + "svg"
