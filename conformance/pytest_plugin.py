"""pytest integration: a tracker author's one-line conformance test (issue 5 item 6).

In the tracker's own test suite::

    # test_movecheck.py
    import movecheck.conformance
    from my_tracker import make_tracker

    test_my_tracker = movecheck.conformance.pytest_case(make_tracker)

The test runs the full conformance run with Hypothesis's example database
(``settings.default.database``: ``.hypothesis/examples``, or whatever the
active Hypothesis profile sets, e.g. a Redis database shared by a team), so a
counterexample found once is replayed first on every later run, on every
machine that shares the database.  ``seeds=range(8)`` makes eight test cases
that pytest-xdist (``pytest -n auto``) runs in parallel; they share one
database key per tracker and cloud, so what one worker finds every worker
replays.  A failure is an AssertionError carrying the readable report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

_DEFAULT = object()


def pytest_case(factory: Callable[[], Any], *, cloud: Any = None, examples: int = 200,
                steps: int = 15, seeds: Iterable[int | None] = (None,),
                timeout: float | None = 10.0, database: Any = _DEFAULT,
                name: str | None = None) -> Callable[..., None]:
    """A pytest test function running conformance of ``factory()`` against the spec.

    ``cloud`` is a :class:`~movecheck.spec.vocab.Cloud` (default: each example
    draws its own, docs/conformance.md "Generated clouds"); ``seeds``
    parametrises the test (None: a fresh seed per run, printed in the report);
    ``database`` overrides Hypothesis's.
    """
    import pytest

    from movecheck.conformance.counterexample import render_text
    from movecheck.conformance.driver import run_conformance

    label = name or f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', factory)}"
    seed_list = list(seeds)

    @pytest.mark.parametrize("movecheck_seed", seed_list,
                             ids=[f"seed{s}" if s is not None else "random" for s in seed_list])
    def test_conformance(movecheck_seed):
        from hypothesis import settings

        db = settings.default.database if database is _DEFAULT else database
        result = run_conformance(factory, cloud, examples=examples, steps=steps,
                                 seed=movecheck_seed, timeout=timeout, label=label, database=db)
        if result.discrepancy is not None:
            raise AssertionError(f"seed {result.seed}\n" + render_text(
                result.failing_cloud, result.discrepancy, label))
        assert result.steps > 0, "no step was run"

    test_conformance.__doc__ = f"movecheck conformance of {label} against the spec."
    return test_conformance
