"""The docs show what the commands really print: each generated block of docs/ is what
``docs/generate.py`` produces now (timings aside), so a change to the output that is not
regenerated into the docs fails here."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _generate():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["docs_generate"] = mod
    spec.loader.exec_module(mod)
    return mod


gen = _generate()


def test_cli_md_shows_every_commands_help_exactly():
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert gen.block(page, "cli-help") == gen.help_texts()


def test_adapters_md_lists_every_step_with_its_parameters():
    page = (DOCS / "adapters.md").read_text(encoding="utf-8")
    table = gen.block(page, "adapters-steps")
    assert table == gen.steps_parameters_table()
    assert len(re.findall(r"^\| \d+ \| `\w+` \|", table, re.M)) == 24  # one row per step


def test_normalize_drops_timings_and_padding_only():
    a = "explored 988 distinct states in 0.06 s (16,000 states/s)\n│ 1 │  x │"
    b = "explored 988 distinct states in 12.50 s (79 states/s)\n│ 1 │ x │"
    assert gen.normalize(a) == gen.normalize(b)
    assert gen.normalize(a) != gen.normalize(a.replace("988", "989"))


FAST = ["tutorial-explore", "tutorial-conform", "tutorial-validate"]
SLOW = ["tutorial-bmc", "tutorial-bug", "tutorial-replay", "tutorial-prove",
        "tutorial-explore-default"]


def _comparable(name: str, text: str) -> str:
    if name == "tutorial-bmc":
        # Z3 may pick another shortest trace from run to run (flavors, hosts); the depth of
        # the shortest violation and the command are what must stay.
        found = re.search(r"violated after \d+ steps", text)
        return text.splitlines()[1] + " " + (found.group(0) if found else "no violation")
    return gen.normalize(text)


def _check_tutorial(names):
    page = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    fresh = gen.tutorial(set(names))
    for name in names:
        assert _comparable(name, gen.block(page, name)) == _comparable(name, fresh[name]), (
            f"docs/tutorial.md block {name} is not current: run python docs/generate.py")


def test_the_tutorial_shows_what_the_quick_commands_print():
    _check_tutorial(FAST)


@pytest.mark.slow
def test_the_tutorial_shows_what_the_long_commands_print():
    _check_tutorial(SLOW)


def test_every_tutorial_block_is_filled_and_states_it_came_from_a_run():
    page = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    for name in [*gen.TUTORIAL, "tutorial-check"]:
        assert gen.block(page, name).strip(), f"{name} is empty: run python docs/generate.py"
    assert "python docs/generate.py" in page and "2-core machine" in page


def test_check_estimates_come_from_the_generator():
    from movecheck.cli import check
    from movecheck.cli.estimates import CHECK_SECONDS

    # Every stage, and the whole quick run (its stages overlap: its own figure).
    assert set(CHECK_SECONDS) == {fn.__name__.lstrip("_") for fn in check.STAGES} | {"total"}
    assert "docs/generate.py" in (ROOT / "movecheck" / "cli" / "estimates.py").read_text()


def test_no_user_facing_text_cites_developer_only_files():
    """Users do not have the developers' design notes: code, output and docs cite docs/
    pages or Nova's own files instead."""
    pat = re.compile(r"design\.md|nova-moves\.md")
    offenders = []
    for folder in ("spec", "model", "conformance", "movecheck/cli", "movecheck/graph", "docs"):
        for p in (ROOT / folder).rglob("*"):
            if p.suffix in (".py", ".md", ".js", ".json") and pat.search(
                    p.read_text(encoding="utf-8", errors="replace")):
                offenders.append(str(p.relative_to(ROOT)))
    if pat.search((ROOT / "README.md").read_text(encoding="utf-8")):
        offenders.append("README.md")
    assert offenders == []
