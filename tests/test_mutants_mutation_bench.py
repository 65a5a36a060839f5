"""bench/mutation.py: Cosmic Ray's mutants of the reference tracker, judged by a default run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from movecheck.conformance.mutants import MUTATION_SECTION, keep_mutation_section

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_mutation", ROOT / "bench" / "mutation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_mutation"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_statement_deletion_turns_one_statement_into_pass(bench):
    from cosmic_ray.mutating import mutate_code

    op = bench.statement_deletion_class()()
    code = 'def f(x):\n    """doc"""\n    x.a = 1\n    g(x)\n    return x\n'
    assert mutate_code(code, op, 0) == 'def f(x):\n    """doc"""\n    pass\n    g(x)\n    return x\n'
    assert mutate_code(code, op, 2) == 'def f(x):\n    """doc"""\n    x.a = 1\n    g(x)\n    pass\n'
    assert mutate_code(code, op, 3) is None  # the docstring is not a statement to delete


def test_the_population_uses_cosmic_ray_operators_and_statement_deletion(bench):
    pop = bench.population(ROOT, ("model/records.py",))
    ops = {m.operator for m in pop}
    assert bench.STATEMENT_DELETION in ops
    assert any(o.startswith("core/ReplaceComparisonOperator") for o in ops)
    assert not ops & set(bench.SKIPPED_OPERATORS)
    assert all(m.file == "model/records.py" and m.line > 0 for m in pop)


def _mutant(bench, file: str, text: str, operator: str):
    line = next(k for k, s in enumerate((ROOT / file).read_text().splitlines(), 1) if text in s)
    return next(m for m in bench.population(ROOT, (file,)) if m.line == line and m.operator == operator)


def test_a_default_run_kills_a_mutant_of_the_api_checks(bench, tmp_path):
    m = _mutant(bench, "model/compute.py", "if step.dest == inst.host and step.flavor == inst.flavor:",
                "core/ReplaceComparisonOperator_Eq_NotEq")
    bench.copy_tree(tmp_path)
    before = (tmp_path / m.file).read_text()
    out = bench.run_one(tmp_path, m, seed=0, timeout=120)
    assert out.verdict == "killed", out
    assert "-        if step.dest == inst.host" in m.diff and m.key.startswith("model/compute.py | -")
    assert (tmp_path / m.file).read_text() == before  # the copy is restored


def test_the_docs_section_lists_every_survivor_and_survives_the_catalogue_page(bench, tmp_path):
    m = bench.Mutation("model/store.py", bench.STATEMENT_DELETION, 3, 42, "-    x()\n+    pass", "k")
    outcomes = [bench.Outcome(m, "survived", 1.0, classification={"kind": "equivalent", "why": "w"}),
                bench.Outcome(bench.Mutation("model/compute.py", "core/AddNot", 0, 7), "killed", 2.0)]
    data = bench.summarize(outcomes, pop=[m, m, m], sample=2, seed=0, conform_seed=0, timeout=60,
                           seconds=3.0)
    assert data["sampled"] and data["score"] == 0.5 and data["score_non_equivalent"] == 1.0
    page = tmp_path / "bugs.md"
    page.write_text("# The bug catalogue\n")
    bench.write_docs(page, data)
    text = page.read_text()
    assert text.startswith("# The bug catalogue") and "| equivalent | w |" in text
    assert "**a seeded sample of 2**" in text
    # movecheck mutants --write-docs rewrites the catalogue and keeps the section
    again = keep_mutation_section("# The bug catalogue (new)\n", text)
    assert again.startswith("# The bug catalogue (new)") and again.count(MUTATION_SECTION[0]) == 1
    assert keep_mutation_section("# page\n", "# no section\n") == "# page\n"


def test_every_classified_survivor_says_what_it_is_and_why(bench):
    classes = json.loads(bench.CLASSIFICATION.read_text())
    assert classes
    for key, c in classes.items():
        assert key.startswith(bench.TARGETS) and " | " in key
        assert c["kind"] in ("equivalent", "unreachable", "escape"), key
        assert len(c["why"]) > 20, key


def test_a_run_over_the_time_limit_has_no_verdict(bench):
    m = bench.Mutation("model/compute.py", "core/AddNot", 0, 7)
    outcomes = [bench.Outcome(m, "killed", 2.0), bench.Outcome(m, "timeout", 60.0),
                bench.Outcome(m, "survived", 9.0, classification={"kind": "escape", "why": "w"})]
    data = bench.summarize(outcomes, pop=[m] * 3, sample=None, seed=0, conform_seed=0,
                           timeout=60, seconds=71.0)
    assert data["killed"] == 1 and data["timeouts"] == 1 and data["survived"] == 1
    assert data["score"] == 0.5 and data["score_non_equivalent"] == 0.5
