"""The proofs do not rest on Z3 alone: cvc5 re-checks every written obligation."""

import pytest

from movecheck.spec import default_cloud
from movecheck.spec.engines.prove import PROVED, prove_all
from movecheck.spec.engines.smt2 import recheck
from movecheck.spec.engines.spec_mutants import MUTANTS


@pytest.mark.solver2
def test_cvc5_agrees_every_bounded_obligation_is_unsat(tmp_path):
    results = prove_all(default_cloud(2, 1), timeout=60, smt2_dir=str(tmp_path))
    assert all(r.status == PROVED for r in results)
    answers = recheck(tmp_path)
    # one file per obligation that ran a query, plus the corollary non_negative <= conservation
    assert "corollary__non_negative.smt2" in answers and len(answers) >= 380
    assert set(answers.values()) == {"unsat"}, {f: a for f, a in answers.items() if a != "unsat"}


@pytest.mark.solver2
def test_cvc5_finds_the_counterexample_of_a_spec_mutant(tmp_path):
    prove_all(default_cloud(2, 1), timeout=60, smt2_dir=str(tmp_path),
              sym_cls=MUTANTS["confirm_keeps_source"], steps=["confirm_finish"],
              names=["conservation", "capacity"])
    answers = recheck(tmp_path)
    assert answers["confirm_finish__conservation.smt2"] == "sat"
    assert answers["confirm_finish__capacity.smt2"] == "unsat"


def test_prove_command_writes_smt2_files(tmp_path):
    from movecheck.cli import main

    out = tmp_path / "smt"
    assert main(["prove", "--instances", "1", "--no-parametric", "--no-vacuity",
                 "--smt2", str(out)]) == 0
    files = sorted(p.name for p in (out / "bounded").glob("*.smt2"))
    assert "init__capacity.smt2" in files and "confirm_finish__confirm_frees_source.smt2" in files
    text = (out / "bounded" / "boot__capacity.smt2").read_text()
    assert text.startswith("(set-logic ALL)") and "(check-sat)" in text
