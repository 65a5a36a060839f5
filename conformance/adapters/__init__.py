"""Naming a tracker on the command line (docs/adapters.md).

``--tracker`` takes a built-in name or ``package.module:factory``:

- ``reference``: the reference tracker of :mod:`movecheck.model`;
- ``spec``: the spec itself (a self-check of the harness; :mod:`.spec`);
- ``placement``: OpenStack Placement as the tracker (needs the ``placement`` extra);
- ``nova``: real Nova 34 with its own ResourceTracker, in a subprocess (needs the
  ``nova`` extra, or ``MOVECHECK_NOVA_PYTHON`` naming a Python that has it;
  :mod:`movecheck.conformance.adapters.nova`);
- ``jsonl:COMMAND``: a tracker in any language, as a subprocess speaking one
  JSON object per line (:mod:`movecheck.conformance.adapters.jsonl`);
- ``package.module:factory``: any importable ``() -> Tracker``.

Imports are lazy: naming ``reference`` never imports Placement.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from movecheck.spec.errors import InputError

BUILTIN = ("reference", "spec", "placement", "nova", "jsonl:COMMAND")


def _reference_factory() -> Callable[[], Any]:
    from movecheck.model import reference_factory

    return reference_factory


def _placement_factory() -> Callable[[], Any]:
    try:
        from movecheck.conformance.adapters.placement import factory
    except ImportError as e:
        raise InputError(f"the placement tracker needs the placement extra "
                         f"(pip install 'movecheck[placement]'): {e}") from None
    return factory


def import_factory(spec: str) -> Callable[[], Any]:
    """``package.module:factory`` → the callable, or one sentence saying what is wrong."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(f"--tracker {spec!r} is neither a built-in name ({', '.join(BUILTIN)}) "
                         "nor package.module:factory")
    try:
        mod = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            raise InputError(f"--tracker {spec!r}: no module named {e.name!r} (the built-in "
                             f"names are {', '.join(BUILTIN)})") from None
        raise InputError(f"--tracker {spec!r}: importing {module_name} failed: {e}") from None
    except Exception as e:  # noqa: BLE001 - a user's module may fail in any way
        raise InputError(f"--tracker {spec!r}: importing {module_name} failed: "
                         f"{type(e).__name__}: {e}") from None
    obj = mod
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise InputError(f"--tracker {spec!r}: {module_name} has no {attr!r}")
    if not callable(obj):
        raise InputError(f"--tracker {spec!r}: {attr} is not callable (a factory () -> Tracker)")
    return obj


def resolve_tracker(name: str, timeout: float | None = None) -> Callable[[], Any]:
    """The factory named by ``--tracker``; InputError listing the built-ins if unknown."""
    if name == "reference":
        return _reference_factory()
    if name == "spec":
        from movecheck.conformance.adapters.spec import factory

        return factory
    if name == "placement":
        return _placement_factory()
    if name == "nova":
        from movecheck.conformance.adapters.nova import NovaTracker, check_extra

        python = check_extra()  # InputError naming the install command
        return lambda: NovaTracker(python, timeout=timeout)
    if name.startswith("jsonl:"):
        command = name[len("jsonl:"):].strip()
        if not command:
            raise InputError("--tracker jsonl:COMMAND needs a command, e.g. "
                             "'jsonl:node conformance/examples/tracker.js'")
        from movecheck.conformance.adapters.jsonl import JsonlTracker

        return lambda: JsonlTracker(command, timeout=timeout)
    if ":" not in name:
        raise InputError(f"unknown tracker {name!r}; the built-in trackers are "
                         f"{', '.join(BUILTIN)}, or name a factory as package.module:factory")
    return import_factory(name)
