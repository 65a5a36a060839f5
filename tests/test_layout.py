"""The layout: a plain checkout imports, and dependencies flow one way (docs/layout.md)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Package -> the movecheck packages it may import (besides itself).
ALLOWED = {
    "movecheck.spec": {"movecheck"},
    "movecheck.model": {"movecheck", "movecheck.spec"},
    "movecheck.conformance": {"movecheck", "movecheck.spec", "movecheck.model"},
}


def test_a_plain_checkout_imports_with_only_the_path_set(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import movecheck.spec, movecheck.cli, movecheck.graph; print(movecheck.spec.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve().is_relative_to(ROOT)


def _layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


@pytest.mark.parametrize("folder, package", [("spec", "movecheck.spec"), ("model", "movecheck.model"),
                                             ("conformance", "movecheck.conformance")])
def test_dependencies_flow_one_way(folder, package):
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.split(".")[0] != "movecheck":
                    continue
                layer = _layer(name)
                if layer != package and layer not in ALLOWED[package]:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_spec_itself_does_not_import_its_engines():
    engines = ROOT / "spec" / "engines"
    bad = []
    for path in sorted((ROOT / "spec").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("movecheck.spec.engines"):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert engines.is_dir() and not bad, bad
