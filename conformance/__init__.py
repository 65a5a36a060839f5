"""movecheck.conformance: adapters, the conformance driver, reports and the command line.

Python API (imports are lazy, so ``import movecheck.conformance`` stays cheap):

- :func:`run_conformance` (``driver``): Hypothesis-driven conformance of a tracker;
- :func:`run_mutants`, :func:`load_catalogue` (``mutants``): the bug catalogue run;
- :func:`pytest_case` (``pytest_plugin``): a one-line conformance test for pytest;
- :func:`resolve_tracker` (``adapters``): a ``--tracker`` name to a factory;
- :func:`validate_file` (``validate``): check a recorded trace against the spec.
"""

from __future__ import annotations

_EXPORTS = {
    "run_conformance": "driver",
    "ConformanceResult": "driver",
    "Discrepancy": "checker",
    "Checker": "checker",
    "run_mutants": "mutants",
    "load_catalogue": "mutants",
    "pytest_case": "pytest_plugin",
    "resolve_tracker": "adapters",
    "validate_file": "validate",
    "RecordingTracker": "adapters.recorder",
    "Tracker": "tracker",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'movecheck.conformance' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
