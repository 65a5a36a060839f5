"""Text graph formats written from a :class:`~.drawing.Drawing`: Graphviz DOT and Mermaid.

DOT is the input of Graphviz (and of ``networkx.nx_pydot.read_dot``);
Mermaid ``flowchart`` renders on GitHub inside a ```` ```mermaid ```` block.
Mermaid is chosen over ``stateDiagram`` because a flowchart can dash and
colour single edges (``linkStyle``), which failure edges and coverage need.
"""

from __future__ import annotations

import re

from movecheck.graph.drawing import INITIAL_FILL, Drawing

_DOT_STYLE = {"solid": "solid", "dashed": "dashed", "dotted": "dotted"}
#: A font whose metrics Graphviz knows without system fonts (its WebAssembly
#: build has none), so boxes fit their labels; viewers substitute Arial or
#: Liberation Sans (same metrics), hence also the generous node margin.
FONT = "Helvetica"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(d: Drawing) -> str:
    """The drawing as a DOT digraph (node ids are the status / state names).

    Every node and edge carries ``id`` = its key, which Graphviz writes on the
    ``<g>`` of its SVG, as the built-in SVG writes ``data-key``."""
    out = [f"digraph {_q(d.name)} {{"]
    # the notes (e.g. the never-exercised edges) go under the title, left-justified
    label = _q(d.title)
    if d.notes:
        label = _q(d.title)[:-1] + "\\n" + "".join(_q(n)[1:-1] + "\\l" for n in d.notes) + '"'
    out.append(f"  graph [label={label}, labelloc=t, fontname={FONT}, fontsize=11,"
               " rankdir=TB, nodesep=0.35, ranksep=0.45];")
    out.append(f'  node [shape=box, style="rounded,filled", fontname={FONT}, fontsize=11,'
               ' margin="0.16,0.06"];')
    out.append(f"  edge [fontname={FONT}, fontsize=10, arrowsize=0.8];")
    for n in d.nodes:
        attrs = [f"label={_q(n.label)}", f"color={_q(n.stroke)}", f"fillcolor={_q(n.fill)}",
                 f"fontcolor={_q(n.stroke)}", f"penwidth={n.width:g}"]
        if n.shape == "point":
            attrs = ["shape=point", "width=0.18", f"color={_q(n.stroke)}",
                     f"fillcolor={_q(INITIAL_FILL)}", f"xlabel={_q(n.label)}"]
        elif n.double:
            attrs.append("peripheries=2")
        attrs.append(f"id={_q(n.key or n.id)}")
        if n.tooltip:
            attrs.append(f"tooltip={_q(n.tooltip)}")
        out.append(f"  {_q(n.id)} [{', '.join(attrs)}];")
    for e in d.edges:
        attrs = [f"color={_q(e.color)}", f"fontcolor={_q(e.color)}", f"penwidth={e.width:g}",
                 f"style={_DOT_STYLE[e.style]}", f"id={_q(e.key or e.src + '>' + e.dst)}"]
        if e.label:
            attrs.insert(0, f"label={_q(e.label)}")
        if e.tooltip:
            attrs.append(f"tooltip={_q(e.tooltip)}")
        if e.weight < 1:
            attrs.append("weight=0")  # let the main path stay straight (dot's integer weights)
        out.append(f"  {_q(e.src)} -> {_q(e.dst)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _mid(k: int) -> str:
    return f"n{k}"


def _mlabel(s: str) -> str:
    # Mermaid labels are quoted; it has no escape for '"', so use the HTML entity.
    return s.replace('"', "#quot;").replace("\n", "<br/>")


def to_mermaid(d: Drawing) -> str:
    """The drawing as a Mermaid flowchart (top to bottom)."""
    ids = {n.id: _mid(k) for k, n in enumerate(d.nodes)}
    # the title is YAML front matter: quoted, since titles hold ": "
    title = d.title.replace("\\", "\\\\").replace('"', '\\"')
    out = ["---", f'title: "{title}"', "---", "flowchart TD"]
    classes: dict[str, list[str]] = {}
    for n in d.nodes:
        i = ids[n.id]
        if n.shape == "point":
            out.append(f'  {i}(("{_mlabel(n.label)}"))')
        elif n.double:
            out.append(f'  {i}[["{_mlabel(n.label)}"]]')
        else:
            out.append(f'  {i}("{_mlabel(n.label)}")')
        cls = "c" + re.sub(r"[^0-9a-f]", "", (n.fill + n.stroke).lower())
        classes.setdefault(cls, []).append(i)
        classes.setdefault(cls + "_def", [f"fill:{n.fill},stroke:{n.stroke},color:{n.stroke}"])
    styles = []
    for k, e in enumerate(d.edges):
        arrow = "-.->" if e.style != "solid" else "-->"
        label = f'|"{_mlabel(e.label)}"|' if e.label else ""
        out.append(f"  {ids[e.src]} {arrow}{label} {ids[e.dst]}")
        styles.append(f"  linkStyle {k} stroke:{e.color},stroke-width:{e.width:g}px,color:{e.color}")
    out.extend(styles)
    for cls, members in classes.items():
        if cls.endswith("_def"):
            continue
        out.append(f"  classDef {cls} {classes[cls + '_def'][0]}")
        out.append(f"  class {','.join(members)} {cls}")
    return "\n".join(out) + "\n"
