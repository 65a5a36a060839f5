"""The ``movecheck`` command line: one entry point, one module per subcommand.

Exit status (docs/cli.md): 0 = holds / conformant, 1 = a property fails or a
discrepancy was found, 2 = bad usage or bad input (one clear sentence, no
traceback), 130 = interrupted (Ctrl-C or SIGTERM; the partial figures are
printed and the report says ``"complete": false, "interrupted": true``).
Every subcommand takes ``--json PATH``.

Each subcommand lives in ``movecheck.cli.<name>`` and defines
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> (exit_code,
report_fields)``; this module adds the shared flags, times the run, writes
the report envelope and turns errors into one sentence.  An interrupted
engine raises :class:`~movecheck.spec.errors.Interrupted` with its partial
figures (or a bare KeyboardInterrupt, in which case the figures the engines
last reported to :mod:`movecheck.spec.engines.progress` are used).  Heavy imports (Z3,
Hypothesis) belong inside ``run`` so that ``movecheck --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import time
from typing import Any

from movecheck import __version__
from movecheck.conformance.report import envelope, write_json
from movecheck.spec.errors import InputError, Interrupted

#: Commands that call Z3: its own Ctrl-C handler is switched off for them.
Z3_COMMANDS = frozenset({"check", "prove", "bmc"})

#: The subcommands, in the order ``--help`` lists them.
COMMANDS = ("check", "prove", "bmc", "explore", "conform", "mutants", "validate", "graph")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one sentence and exit status 2."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised via CLI tests
        raise InputError(f"{self.prog}: {message} (see {self.prog} --help)")


def add_cloud_arguments(p: argparse.ArgumentParser) -> None:
    """--cloud FILE | --hosts N --instances M [--max-migrations K]."""
    p.add_argument("--cloud", metavar="FILE", help="cloud file (TOML or JSON, docs/cloud.md)")
    p.add_argument("--hosts", type=int, metavar="N", help="hosts in the default cloud (default 2)")
    p.add_argument("--instances", type=int, metavar="M",
                   help="instances in the default cloud (default 2)")
    p.add_argument("--max-migrations", type=int, metavar="K",
                   help="migration records a run may create (default 2)")


#: Default seconds per solver query (prove, check) and per tracker call (conform, mutants, check).
SOLVER_TIMEOUT = 60.0
TRACKER_TIMEOUT = 10.0


def add_solver_timeout(p: argparse.ArgumentParser, alias: bool = True) -> None:
    """--solver-timeout S: seconds per Z3 query; a query that runs out is 'unknown'."""
    p.add_argument("--solver-timeout", type=float, default=SOLVER_TIMEOUT, metavar="S",
                   dest="solver_timeout",
                   help=f"seconds per solver query; a query that runs out is 'unknown' "
                        f"(default {SOLVER_TIMEOUT:g})")
    if alias:  # the old name, kept working where it meant only this
        p.add_argument("--timeout", type=float, dest="solver_timeout", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)


def add_tracker_timeout(p: argparse.ArgumentParser, alias: bool = True) -> None:
    """--tracker-timeout S: seconds a tracker may take per call before it is a discrepancy."""
    p.add_argument("--tracker-timeout", type=float, default=None, metavar="S",
                   dest="tracker_timeout",
                   help=f"seconds the tracker may take per call; a slower reply is a "
                        f"discrepancy (default {TRACKER_TIMEOUT:g})")
    if alias:
        p.add_argument("--timeout", type=float, dest="tracker_timeout", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)


def check_solver_timeout(args: argparse.Namespace) -> float:
    if not args.solver_timeout > 0:
        raise InputError(f"--solver-timeout must be a number of seconds > 0, "
                         f"not {args.solver_timeout:g}")
    return args.solver_timeout


def cloud_from_args(args: argparse.Namespace):
    from movecheck.spec.cloudfile import resolve_cloud

    return resolve_cloud(args.cloud, args.hosts, args.instances, args.max_migrations)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = _Parser(
        prog="movecheck",
        description="Formal model and conformance kit for resource tracking of instance moves "
        "(resize, migrate, live migrate, evacuate). Exit status: 0 holds, 1 a property fails "
        "or a discrepancy was found, 2 bad usage or input, 130 interrupted (Ctrl-C).",
    )
    parser.add_argument("--version", action="version", version=f"movecheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules: dict[str, Any] = {}
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"movecheck.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"movecheck.cli.{name}":
                continue  # command not built yet
            raise
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.add_argument("--json", metavar="PATH", help="write a machine-readable report here")
        modules[name] = mod
    return parser, modules


def main(argv: list[str] | None = None, early_signals: list[int] | None = None) -> int:
    """The command line.  ``early_signals``: signals received before this was called
    (``movecheck.__main__`` records them while movecheck imports)."""
    from movecheck.cli.interrupt import EXIT_INTERRUPTED, quiet_z3, stop_on_signals
    from movecheck.conformance.progress import EngineProgress
    from movecheck.spec.engines import progress

    argv = sys.argv[1:] if argv is None else argv
    t0 = time.perf_counter()
    args = None
    live = EngineProgress()
    with stop_on_signals() as received, progress.listening(live), _closing(live):
        try:
            parser, modules = build_parser()
            args = parser.parse_args(argv)
            if early_signals and received.signum is None:
                received.signum = early_signals[0]
            if received.signum is not None:
                raise KeyboardInterrupt  # a signal came while movecheck was starting
            if args.command is None:
                parser.print_help()
                return 2
            if getattr(args, "json", None):
                _check_report_path(args.json)
            if args.command in Z3_COMMANDS:
                quiet_z3()
            code, fields = modules[args.command].run(args)
            if received.signum is not None:
                raise KeyboardInterrupt  # a signal came, and something swallowed it
            ok = code == 0
            if args.json:
                try:
                    write_json(args.json, envelope(args.command, ok, time.perf_counter() - t0,
                                                   **fields))
                except OSError as e:
                    # The verdict is printed above; the report is not there, and the old
                    # one (if any) is left whole: written atomically or not at all.
                    print(f"movecheck: cannot write the report {args.json}: "
                          f"{e.strerror or e} (the verdict above stands; no report written)",
                          file=sys.stderr)
                    return 2
            return code
        except InputError as e:
            print(f"movecheck: {e}", file=sys.stderr)
            fields = getattr(e, "report_fields", None)  # a run cut short by bad input keeps its counts
            _error_report(args, t0, str(e), fields() if callable(fields) else {})
            return 2
        except KeyboardInterrupt as e:
            received.acknowledge()
            live.close()
            stopped = e if isinstance(e, Interrupted) else Interrupted(
                progress.snapshot(), "interrupted")
            _interrupted(args or _guess_args(argv), t0, stopped, received.name)
            return EXIT_INTERRUPTED
        except SystemExit as e:  # argparse --help / --version
            return int(e.code or 0)
        except Exception as e:  # noqa: BLE001 - no traceback reaches the user
            if received.signum is not None:
                received.acknowledge()
                live.close()
                # A library stopped by the interrupt (Z3: "canceled") fails its own way.
                _interrupted(args or _guess_args(argv), t0, Interrupted(progress.snapshot()),
                             received.name)
                return EXIT_INTERRUPTED
            if os.environ.get("MOVECHECK_DEBUG"):
                raise
            print(f"movecheck: internal error: {type(e).__name__}: {e} "
                  "(set MOVECHECK_DEBUG=1 for a traceback)", file=sys.stderr)
            _error_report(args, t0, f"internal error: {e}")
            return 2


def _check_report_path(path: str) -> None:
    """Say before a long run, not after it, that its report could not be saved."""
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        raise InputError(f"--json {path} is a folder; give a file name")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot write the report {path}: {e.strerror or e}") from None
    if not os.access(p.parent, os.W_OK):
        raise InputError(f"cannot write the report {path}: its folder is not writable")


def _guess_args(argv: list[str]) -> argparse.Namespace:
    """The command and --json path of a run interrupted before its arguments were parsed."""
    command = next((a for a in argv if a in COMMANDS), None)
    path = None
    for k, a in enumerate(argv):
        if a == "--json" and k + 1 < len(argv):
            path = argv[k + 1]
        elif a.startswith("--json="):
            path = a.split("=", 1)[1]
    return argparse.Namespace(command=command, json=path)


@contextlib.contextmanager
def _closing(live):
    try:
        yield
    finally:
        live.close()


def _interrupted(args: argparse.Namespace | None, t0: float, e: Interrupted,
                 signame: str) -> None:
    """The partial figures on the terminal and in the report; never a verdict."""
    seconds = time.perf_counter() - t0
    command = getattr(args, "command", None) or "movecheck"
    print(f"INTERRUPTED {command} by {signame} after {seconds:.1f} s: not complete, "
          "no verdict", flush=True)
    if e.message and e.message != "interrupted":
        print(f"  {e.message}", flush=True)
    for line in partial_lines(e.partial):
        print(f"  {line}", flush=True)
    path = getattr(args, "json", None)
    if path:
        try:
            fields = {**e.fields, "complete": False, "interrupted": True, "signal": signame,
                      "message": e.message, "partial": e.partial}
            write_json(path, envelope(command, False, seconds, **fields))
        except OSError as err:
            print(f"movecheck: cannot write the report {path}: {err.strerror or err}",
                  file=sys.stderr)


def partial_lines(partial: dict[str, Any], indent: str = "") -> list[str]:
    """Short lines of a partial-figures dict for the terminal: a dict of plain figures on one
    line, nested dicts indented; long lists are left to the ``--json`` report."""
    out = []
    for k, v in partial.items():
        if isinstance(v, dict) and v and all(_plain(x) for x in v.values()):
            out.append(f"{indent}{k}: " + ", ".join(
                f"{a.replace('_', ' ')} {_show(b)}" for a, b in v.items() if _shown(b)))
        elif isinstance(v, dict):
            if v:
                out.append(f"{indent}{k}:")
                out += partial_lines(v, indent + "  ")
        elif _plain(v):
            if _shown(v):
                out.append(f"{indent}{k.replace('_', ' ')}: {_show(v)}")
        elif v:
            out.append(f"{indent}{k.replace('_', ' ')}: {len(v)} entries (in the --json report)")
    return out


def _plain(v: Any) -> bool:
    return not isinstance(v, (dict, list, tuple)) or (
        isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v))


def _shown(v: Any) -> bool:
    return v is not None and v != [] and v != ()


def _show(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(v)
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def _error_report(args: argparse.Namespace | None, t0: float, message: str,
                  fields: dict | None = None) -> None:
    path = getattr(args, "json", None)
    if path:
        try:
            write_json(path, envelope(args.command, False, time.perf_counter() - t0,
                                      **{**(fields or {}), "error": message}))
        except OSError:
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
