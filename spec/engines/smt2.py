"""Re-checking the SMT-LIB 2 obligations with a second solver (issue 3 item 7).

``movecheck prove --smt2 DIR`` writes one ``.smt2`` file per obligation: the
hypothesis (every invariant in the pre-state, the step's guard and effect,
and the goals already proved for the same step, each of which has its own
file) and the negated goal, then ``(check-sat)``.  Every file of a proved
obligation must be ``unsat``.  :func:`recheck` runs them through cvc5 (PyPI
package ``cvc5``, its Python API — no binary needed), so that no proof rests
on Z3 alone.
"""

from __future__ import annotations

from pathlib import Path

from movecheck.spec.errors import InputError


def check_file(path: str | Path, seconds: float = 60.0) -> str:
    """cvc5's answer for one SMT-LIB 2 file: 'sat', 'unsat' or 'unknown'."""
    try:
        import cvc5
    except ImportError:
        raise InputError("the second solver needs the cvc5 package: pip install cvc5") from None
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("tlimit-per", str(int(seconds * 1000)))
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    parser.setFileInput(cvc5.InputLanguage.SMT_LIB_2_6, str(path))
    answer = "unknown"
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        out = cmd.invoke(solver, symbols).strip()
        if out in ("sat", "unsat", "unknown"):
            answer = out
    return answer


def recheck(directory: str | Path, seconds: float = 60.0) -> dict[str, str]:
    """cvc5's answer for every ``.smt2`` file under ``directory``, by relative path."""
    root = Path(directory)
    files = sorted(root.rglob("*.smt2"))
    if not files:
        raise InputError(f"no .smt2 files under {root}")
    return {str(f.relative_to(root)): check_file(f, seconds) for f in files}


__all__ = ["check_file", "recheck"]
