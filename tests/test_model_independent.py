"""The reference tracker is an independent implementation: no module of movecheck.model
imports the spec's step functions or invariants (only vocabulary and errors)."""

from __future__ import annotations

import ast
from pathlib import Path

import movecheck.model

ALLOWED = {"movecheck.spec.vocab", "movecheck.spec.errors"}


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_model_imports_only_the_spec_vocabulary():
    root = Path(movecheck.model.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 20  # the tracker and the catalogue
    for f in files:
        spec_imports = {m for m in imported_modules(f) if m.startswith("movecheck.spec")}
        bad = {m for m in spec_imports if not any(m == a or m.startswith(a + ".") for a in ALLOWED)}
        assert not bad, f"{f.relative_to(root)} imports {sorted(bad)}"
