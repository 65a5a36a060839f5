"""One self-contained HTML page: pictures, click-a-state details, trace stepping.

Everything is inline (SVG, CSS, script, data), with no link to any other
file or host, so the page works offline and can be attached to a bug.
Clicking a node or an edge of a picture shows its ``details`` entry (for a
state: per-host usage against capacity and the enabled steps).  A page with
``steps`` gets Previous/Next buttons that walk a counterexample: the current
row of the table and the edges of the current step are highlighted and the
state after the step is shown.  A picture is scaled down to fit the
window beside the side panel (a flex item's ``min-width: 0`` lets it shrink
below its content's width); the browser's zoom shows the details.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape

from movecheck.graph.scene import Scene
from movecheck.graph.svg import to_svg


@dataclass
class Section:
    heading: str
    scene: Scene | None = None
    html: str = ""  # trusted markup built by this package (tables), already escaped
    text: list[str] = field(default_factory=list)


_CSS = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:0;color:#222}
header{padding:12px 20px;border-bottom:1px solid #ddd}
h1{font-size:20px;margin:0 0 4px}
main{display:flex;align-items:flex-start}
#pictures{flex:1;min-width:0;padding:10px 20px;overflow:auto}
#pictures svg{max-width:100%;height:auto}
#panel{width:380px;position:sticky;top:0;max-height:100vh;overflow:auto;padding:12px 16px;
 border-left:1px solid #ddd;background:#fafafa;font-size:13px}
#panel pre{white-space:pre-wrap;font-size:12px}
h2{font-size:16px;margin:18px 0 6px}
svg g.node,svg g.edge{cursor:pointer}
svg g.selected rect,svg g.selected circle{stroke:#e67e22;stroke-width:3}
svg g.current path{stroke-width:5}
table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
tr.current{background:#ffe9cc}
tr.diverging td{border-top:2px solid #c0392b;border-bottom:2px solid #c0392b}
td.over{color:#c0392b;font-weight:bold}
button{font-size:13px;margin-right:6px}
"""

_SCRIPT = """
(function(){
  var details = JSON.parse(document.getElementById('details').textContent);
  var steps = JSON.parse(document.getElementById('steps').textContent);
  var panel = document.getElementById('detail');
  function show(title, lines){
    panel.textContent = '';
    var h = document.createElement('h3'); h.textContent = title; panel.appendChild(h);
    var pre = document.createElement('pre'); pre.textContent = lines.join('\\n');
    panel.appendChild(pre);
  }
  function clear(cls){
    document.querySelectorAll('.' + cls).forEach(function(e){ e.classList.remove(cls); });
  }
  document.querySelectorAll('svg g.node, svg g.edge').forEach(function(g){
    g.addEventListener('click', function(){
      clear('selected'); g.classList.add('selected');
      var d = details[g.getAttribute('data-key')];
      if (d) { show(d.title, d.lines); }
      else { show(g.getAttribute('data-key'), ['(no details)']); }
    });
  });
  var cur = -1;
  function go(i){
    if (!steps.length) { return; }
    cur = Math.max(0, Math.min(steps.length - 1, i));
    clear('current');
    var s = steps[cur];
    var row = document.getElementById('row-' + cur);
    if (row) { row.classList.add('current'); }
    s.keys.forEach(function(k){
      document.querySelectorAll('g[data-key="' + k + '"]').forEach(function(g){
        g.classList.add('current');
      });
    });
    document.getElementById('stepno').textContent = (cur + 1) + ' / ' + steps.length;
    show(s.title, s.lines);
  }
  var prev = document.getElementById('prev'), next = document.getElementById('next');
  if (prev) {
    prev.addEventListener('click', function(){ go(cur - 1); });
    next.addEventListener('click', function(){ go(cur + 1); });
    document.addEventListener('keydown', function(e){
      if (e.key === 'ArrowRight') { go(cur + 1); }
      if (e.key === 'ArrowLeft') { go(cur - 1); }
    });
  }
})();
"""


def _json_script(element_id: str, data) -> str:
    # "</" would end the script element early; JSON allows "<\\/" for it.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def page(title: str, sections: list[Section], details: dict[str, dict] | None = None,
         steps: list[dict] | None = None, intro: str = "") -> str:
    """The page as text.  ``details``: key -> {title, lines}; ``steps``: a list of
    {title, lines, keys} walked by the Previous/Next buttons."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{escape(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             f"<header><h1>{escape(title)}</h1>"]
    if intro:
        parts.append(f"<p>{escape(intro)}</p>")
    parts.append("</header><main><div id=\"pictures\">")
    for k, s in enumerate(sections):
        parts.append(f"<section><h2>{escape(s.heading)}</h2>")
        if s.text:
            parts.append("<pre>" + escape("\n".join(s.text)) + "</pre>")
        if s.scene is not None:
            parts.append(to_svg(s.scene, standalone=False, element_id=f"picture-{k}"))
        if s.html:
            parts.append(s.html)
        parts.append("</section>")
    parts.append('</div><aside id="panel">')
    if steps:
        parts.append('<p><button id="prev" type="button">&#9664; previous</button>'
                     '<button id="next" type="button">next &#9654;</button>'
                     '<span id="stepno"></span></p>'
                     "<p>Step through the counterexample (or use the arrow keys).</p>")
    parts.append('<div id="detail"><p>Click a status, a state or an edge to see its details.'
                 "</p></div></aside></main>")
    parts.append(_json_script("details", details or {}))
    parts.append(_json_script("steps", steps or []))
    parts.append(f"<script>{_SCRIPT}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def table_html(header: list[str], rows: list[list[str]], *, over: set[tuple[int, int]] = frozenset(),
               diverging: int | None = None) -> str:
    """An escaped HTML table; row ``k`` gets id ``row-k`` for trace stepping."""
    out = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header)
           + "</tr></thead><tbody>"]
    for k, row in enumerate(rows):
        cls = ' class="diverging"' if k == diverging else ""
        cells = "".join(
            f'<td class="over">{escape(c)}</td>' if (k, j) in over else f"<td>{escape(c)}</td>"
            for j, c in enumerate(row)
        )
        out.append(f'<tr id="row-{k}"{cls}>{cells}</tr>')
    out.append("</tbody></table>")
    return "\n".join(out)
