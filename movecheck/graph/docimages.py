"""Regenerate the status-machine pictures that docs/graphs.md embeds.

Run ``python -m movecheck.graph.docimages [DOCS_DIR]`` after
changing spec/statuses.py; tests/test_graph_docs.py fails until the
pictures in docs/images/ are current.  They are always drawn with the
built-in Graphviz (WebAssembly, installed by pip), so they do not depend on
whether a system Graphviz is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from movecheck.graph.layout import layout
from movecheck.graph.statuses import all_status_drawings
from movecheck.graph.svg import to_svg
from movecheck.graph.textformats import to_mermaid


def expected_images() -> dict[str, str]:
    """File name -> content of every picture docs/images/ should hold."""
    out = {}
    for d in all_status_drawings():
        out[d.name + ".svg"] = to_svg(layout(d))
        out[d.name + ".mmd"] = to_mermaid(d)
    return out


def write(docs_dir: Path) -> list[Path]:
    images = docs_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in expected_images().items():
        p = images / name
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    for p in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(p)
