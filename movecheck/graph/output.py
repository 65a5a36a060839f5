"""Writing a :class:`~.drawing.Drawing` to files, in the formats asked for.

Every picture is laid out by Graphviz ``dot``.  With a system Graphviz
(renderer ``auto`` or ``dot``) SVG and PNG are ``dot -Tsvg`` / ``-Tpng``;
otherwise (renderer ``builtin``) the Graphviz that pip installs with
movecheck, compiled to WebAssembly, lays the drawing out (:mod:`.layout`)
and movecheck paints it: SVG with :mod:`.svg`, PNG with Pillow
(:mod:`.png`), so a fresh machine needs no system package.  DOT and Mermaid
are text and need nothing.  The HTML page is assembled by the callers
(:mod:`.html`), always from the built-in SVG, whose ``data-key`` groups the
page's script reacts to.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from movecheck.graph.drawing import Drawing
from movecheck.graph.layout import layout
from movecheck.graph.png import to_png
from movecheck.graph.svg import to_svg
from movecheck.graph.textformats import to_dot, to_mermaid
from movecheck.spec.errors import InputError

FORMATS = ("svg", "png", "dot", "mermaid", "html")
EXTENSION = {"svg": ".svg", "png": ".png", "dot": ".dot", "mermaid": ".mmd", "html": ".html"}
RENDERERS = ("auto", "dot", "builtin")
#: Seconds one system ``dot`` call may take before the built-in Graphviz is used instead.
DOT_TIMEOUT = 60


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``"svg,png"`` -> ("svg", "png"); an unknown name is one sentence of error."""
    if text is None:
        return FORMATS
    names = tuple(dict.fromkeys(x.strip().lower() for x in text.split(",") if x.strip()))
    if not names:
        raise InputError(f"--format needs at least one of {', '.join(FORMATS)}")
    bad = [x for x in names if x not in FORMATS]
    if bad:
        raise InputError(f"unknown --format {bad[0]!r}; choose from {', '.join(FORMATS)}")
    return names


def graphviz_dot() -> str | None:
    """The path of Graphviz's ``dot``, or None when it is not installed."""
    return shutil.which("dot")


def resolve_renderer(name: str) -> str:
    """``auto`` -> ``dot`` when a system Graphviz is installed, else ``builtin``."""
    if name not in RENDERERS:
        raise InputError(f"unknown renderer {name!r}; choose from {', '.join(RENDERERS)}")
    if name == "auto":
        return "dot" if graphviz_dot() else "builtin"
    if name == "dot" and not graphviz_dot():
        raise InputError("Graphviz 'dot' is not installed; install graphviz or use "
                         "--renderer builtin (the Graphviz pip installed)")
    return name


def _system_dot(source: str, fmt: str) -> bytes | None:
    exe = graphviz_dot()
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=DOT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"movecheck: graphviz dot failed ({e}); using the built-in Graphviz",
              file=sys.stderr)
        return None
    if done.returncode != 0 or not done.stdout:
        msg = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        print(f"movecheck: graphviz dot failed ({'; '.join(msg) or done.returncode}); "
              "using the built-in Graphviz", file=sys.stderr)
        return None
    return done.stdout


def render(d: Drawing, fmt: str, renderer: str = "builtin") -> bytes:
    """One drawing in one format (not html) as bytes."""
    if fmt in ("svg", "png") and renderer == "dot":
        out = _system_dot(to_dot(d), fmt)
        if out is not None:
            return out
    if fmt == "svg":
        return to_svg(layout(d)).encode("utf-8")
    if fmt == "png":
        return to_png(layout(d))
    if fmt == "dot":
        return to_dot(d).encode("utf-8")
    if fmt == "mermaid":
        return to_mermaid(d).encode("utf-8")
    raise ValueError(f"render() does not write {fmt}")


def write_drawing(d: Drawing, out_dir: Path, formats: tuple[str, ...],
                  renderer: str = "builtin") -> list[Path]:
    """Write ``d`` as ``out_dir/<name>.<ext>`` for each non-HTML format."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        if fmt == "html":
            continue
        p = out_dir / (d.name + EXTENSION[fmt])
        p.write_bytes(render(d, fmt, renderer))
        paths.append(p)
    return paths


def ensure_out_dir(path: str | Path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"--out {p} exists and is not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create --out directory {p}: {e.strerror or e}") from None
    return p
