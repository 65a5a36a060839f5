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
- ``package.module:factory``: any importable ``() -> Tracker``;
- ``path/to/file.py:factory``: a factory in a Python file that is not on the
  import path (its folder is put first on ``sys.path``, so it can import its
  neighbours).

Imports are lazy: naming ``reference`` never imports Placement.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from movecheck.spec.errors import InputError

BUILTIN = ("reference", "spec", "placement", "nova", "jsonl:COMMAND")

#: What --tracker takes besides the built-in names.
FORMS = "package.module:factory or path/to/file.py:factory"


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


def _factory_in(spec: str, module: Any, where: str, attr: str) -> Callable[[], Any]:
    """``module``'s (dotted) ``attr``, checked to be callable: the one shape shared by
    the two ``--tracker`` forms (``where`` names the module or file in the sentence)."""
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise InputError(f"--tracker {spec!r}: {where} has no {attr!r}")
    if not callable(obj):
        raise InputError(f"--tracker {spec!r}: {attr} is not callable (a factory () -> Tracker)")
    return obj


def import_factory(spec: str) -> Callable[[], Any]:
    """``package.module:factory`` → the callable, or one sentence saying what is wrong."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(f"--tracker {spec!r} is neither a built-in name ({', '.join(BUILTIN)}) "
                         f"nor {FORMS}")
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
    return _factory_in(spec, mod, module_name, attr)


def import_file_factory(spec: str) -> Callable[[], Any]:
    """``path/to/file.py:factory`` → the callable, or one sentence saying what is wrong."""
    import importlib.util
    import sys
    from pathlib import Path

    path_text, _, attr = spec.rpartition(":")
    path = Path(path_text).expanduser()
    if not attr:
        raise InputError(f"--tracker {spec!r}: name the factory after the file, e.g. "
                         f"{path_text}:make_tracker")
    if not path.is_file():
        raise InputError(f"--tracker {spec!r}: no file {path_text} (relative paths start at "
                         f"{Path.cwd()})")
    path = path.resolve()
    name = f"movecheck_tracker_{path.stem}_{abs(hash(str(path))):x}"
    module = sys.modules.get(name)
    if module is None:
        folder = str(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # the tracker may import files beside it
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise InputError(f"--tracker {spec!r}: {path_text} is not a Python file")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - a user's file may fail in any way
            del sys.modules[name]
            raise InputError(f"--tracker {spec!r}: running {path_text} failed: "
                             f"{type(e).__name__}: {e}") from None
    return _factory_in(spec, module, path_text, attr)


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
                         f"{', '.join(BUILTIN)}, or name a factory as {FORMS}")
    if ".py:" in name or "/" in name.rpartition(":")[0]:
        return import_file_factory(name)
    return import_factory(name)
