"""Regenerate the figures and examples in docs/ from real runs, so that they cannot drift.

    python docs/generate.py              # everything (about 4 minutes on 2 cores)
    python docs/generate.py cli adapters # only these parts (or single tutorial blocks)
    python docs/generate.py --check      # exit 1 if a page is not current (timings aside)

Each part rewrites the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``
in a page (the convention of ``movecheck.spec.docgen``):

- ``tutorial``: docs/tutorial.md, every example output, from running the commands
  shown (``python -m movecheck ...`` in a scratch folder), trimmed where a table is long;
- ``estimates``: movecheck/cli/estimates.py, the stage times ``movecheck check`` prints
  when a stage starts, and the tutorial's ``check`` example, from one ``check`` run;
- ``cli``: docs/cli.md, the ``--help`` of every command;
- ``adapters``: docs/adapters.md, the table of steps and their parameters.

tests/test_docs_generated.py checks that the pages match what this script produces,
timings aside.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: argparse wraps --help at the terminal width: the docs use a fixed one.
HELP_COLUMNS = "100"


# ---------------------------------------------------------------------- markers

def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the part between the markers of ``name`` replaced by ``body``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    pat = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pat.search(text):
        raise SystemExit(f"no {begin} ... {end} markers")
    return pat.sub(lambda _m: f"{begin}\n{body.rstrip()}\n{end}", text, count=1)


def block(text: str, name: str) -> str:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def normalize(text: str) -> str:
    """Text with what changes from run to run (timings, rates, table padding) taken out."""
    text = re.sub(r"\d[\d,]*\.\d+", "#", text)  # seconds are the only decimals shown
    text = re.sub(r"[\d,]+ (steps|states)/s", r"# \1/s", text)
    text = re.sub(r"about \d+ (s|min)", "about # s", text)
    text = re.sub(r"[━─═]+", "─", text)
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------- running

def movecheck(argv: list[str], cwd: Path) -> str:
    """``python -m movecheck ARGV`` as a user runs it, piped (so: quiet, unwrapped)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    env.pop("MOVECHECK_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "movecheck", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1800)
    return done.stdout


def _console(cmd: str, lines: list[str]) -> str:
    return "```console\n$ " + cmd + "\n" + "\n".join(lines).rstrip() + "\n```"


def _table_rows(lines: list[str], keep: int, last: bool = False) -> list[str]:
    """A rich table's header and first ``keep`` rows (and the last row), then '...'."""
    body = [ln for ln in lines if ln.startswith("│")]
    head = [ln for ln in lines if ln.startswith("┃")]
    kept = head + body[:keep]
    if len(body) > keep:
        kept.append("│ ...")
        if last:
            kept.append(body[-1])
    return kept


# ---------------------------------------------------------------------- the tutorial

def _explore_small(cwd: Path) -> str:
    cmd = ["explore", "--hosts", "2", "--instances", "1", "--max-migrations", "1"]
    return _console("movecheck " + " ".join(cmd), movecheck(cmd, cwd).splitlines())


def _explore_default(cwd: Path) -> str:
    movecheck(["explore", "--json", "explore.json"], cwd)
    r = json.loads((cwd / "explore.json").read_text())
    return (f"The default cloud (two instances, two migrations) has {r['states']:,} states and "
            f"{r['transitions']:,} transitions (depth {r['depth']}); `movecheck explore` "
            f"checks them in about {r['seconds']:.0f} s on a {os.cpu_count()}-core machine.")


def _prove(cwd: Path) -> str:
    lines = movecheck(["prove"], cwd).splitlines()
    table = _table_rows(lines, 3)
    vac = [ln for ln in lines if ln.startswith("vacuity")]
    return _console("movecheck prove", table + vac)


def _bmc(cwd: Path) -> str:
    # One instance is enough for the shortest violation and keeps the run to seconds.
    cmd = ["bmc", "--instances", "1", "--depth", "8", "--spec-mutant", "confirm_keeps_source"]
    lines = movecheck(cmd, cwd).splitlines()
    first = [ln for ln in lines if "violated" in ln][:1]
    return _console("movecheck " + " ".join(cmd), first + _table_rows(lines, 2, last=True))


def _conform(cwd: Path) -> str:
    cmd = ["conform", "--tracker", "reference", "--seed", "1"]
    lines = [ln for ln in movecheck(cmd, cwd).splitlines() if not ln.startswith("  ")]
    return _console("movecheck " + " ".join(cmd), lines)


BUG = "movecheck.model.bugs.lp1607219_revert_keeps_new_devices:factory"


def _bug(cwd: Path) -> str:
    cmd = ["conform", "--tracker", BUG, "--seed", "1", "--json", "bug.json",
           "--replay-out", "test_bug.py"]
    lines = movecheck(cmd, cwd).splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("DISCREPANCY"))
    lines = lines[start:]
    split = next(i for i, ln in enumerate(lines) if "first diverging step" in ln)
    box = ("┃", "│", "┏", "┡", "└", "┗")
    trace = _table_rows(lines[:split], 2, last=True)
    side = [ln for ln in lines[split:] if ln.startswith("┃") or "≠" in ln]
    after = [ln for ln in lines[split + 1:] if not ln.startswith(box)]
    shown = lines[:1] + trace + [lines[split].strip()] + side + after
    cmd_text = (f"movecheck conform --tracker {BUG} \\\n      --seed 1 --json bug.json "
                "--replay-out test_bug.py")
    return _console(cmd_text, shown)


def _replay(cwd: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_bug.py"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    last = [ln for ln in done.stdout.splitlines() if ln.strip()][-1:]
    return _console("python3 -m pytest -q test_bug.py", ["..."] + last)


def _validate(cwd: Path) -> str:
    path = ROOT / "conformance" / "examples" / "trace.jsonl"
    return _console("movecheck validate conformance/examples/trace.jsonl",
                    movecheck(["validate", str(path)], cwd).splitlines())


#: Tutorial blocks in the order they run (``_bug`` writes the file ``_replay`` runs).
TUTORIAL: dict[str, Callable[[Path], str]] = {
    "tutorial-explore": _explore_small,
    "tutorial-explore-default": _explore_default,
    "tutorial-prove": _prove,
    "tutorial-bmc": _bmc,
    "tutorial-conform": _conform,
    "tutorial-bug": _bug,
    "tutorial-replay": _replay,
    "tutorial-validate": _validate,
}


def tutorial(names=None) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="movecheck-docs-") as d:
        return {name: fn(Path(d)) for name, fn in TUTORIAL.items()
                if names is None or name in names or (name == "tutorial-bug" and
                                                      "tutorial-replay" in names)}


def estimates() -> tuple[dict[str, str], str]:
    """The ``check`` example of the tutorial and the text of movecheck/cli/estimates.py."""
    with tempfile.TemporaryDirectory(prefix="movecheck-docs-") as d:
        lines = movecheck(["check", "--json", "check.json"], Path(d)).splitlines()
        report = json.loads((Path(d) / "check.json").read_text())
    seconds = {s["name"]: max(1, round(s["seconds"])) for s in report["stages"]}
    # The quick run's stages overlap: the wall-clock time of the whole run is its own figure.
    seconds["total"] = max(1, round(report.get("wall_seconds", report["seconds"])))
    cores = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    py = (f'"""How long each ``movecheck check`` stage takes on the default cloud.\n\n'
          f"Generated by ``python docs/generate.py estimates`` from a real ``movecheck check`` "
          f"run;\ndo not edit by hand.  ``check`` prints these when a stage starts.\n\n"
          f"Measured with load average {load} (a shared machine: other jobs slow it).\n"
          f'"""\n\nMACHINE = "a {cores}-core machine"\n\nCHECK_SECONDS = {{\n'
          + "".join(f'    "{k}": {v},\n' for k, v in seconds.items()) + "}\n")
    summary = [ln for ln in lines if not ln.startswith(("ok ", "FAIL "))]
    return {"tutorial-check": _console("movecheck check", summary)}, py


# ---------------------------------------------------------------------- cli.md, adapters.md

def help_texts() -> str:
    """Every command's ``--help``, as the user sees it at 100 columns."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        sys.path.insert(0, str(ROOT))
        from movecheck.cli import COMMANDS, build_parser

        parser, modules = build_parser()
        out = ["```console", "$ movecheck --help", parser.format_help().rstrip(), "```"]
        for name in COMMANDS:
            if name not in modules:
                continue
            buf = io.StringIO()
            with redirect_stdout(buf):
                try:
                    parser.parse_args([name, "--help"])
                except SystemExit:
                    pass
            out += ["", f"### `movecheck {name} --help`", "", "```console",
                    f"$ movecheck {name} --help", buf.getvalue().rstrip(), "```"]
        return "\n".join(out)
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def steps_parameters_table() -> str:
    """All steps with their parameters and what a tracker replies (from STEPS)."""
    sys.path.insert(0, str(ROOT))
    from movecheck.spec.steps import STEPS

    rows = ["| # | step | parameters | a claim? (reply names the devices picked) | Nova |",
            "|---:|---|---|---|---|"]
    for n, sd in enumerate(STEPS.values(), 1):
        rows.append(f"| {n} | `{sd.name}` | {', '.join(f'`{p}`' for p in sd.params) or '—'} | "
                    f"{'yes' if sd.claims else ''} | `{sd.nova}` |")
    return "\n".join(rows)


# ---------------------------------------------------------------------- main

PARTS = ("tutorial", "estimates", "cli", "adapters")


def generate(parts) -> dict[Path, dict[str, str]]:
    """{page: {block name: body}} for the parts asked for."""
    out: dict[Path, dict[str, str]] = {}
    if "cli" in parts:
        out.setdefault(DOCS / "cli.md", {})["cli-help"] = help_texts()
    if "adapters" in parts:
        out.setdefault(DOCS / "adapters.md", {})["adapters-steps"] = steps_parameters_table()
    if "tutorial" in parts:
        out.setdefault(DOCS / "tutorial.md", {}).update(tutorial())
    elif any(p in TUTORIAL for p in parts):
        out.setdefault(DOCS / "tutorial.md", {}).update(tutorial({p for p in parts
                                                                   if p in TUTORIAL}))
    if "estimates" in parts:
        blocks, py = estimates()
        out.setdefault(DOCS / "tutorial.md", {}).update(blocks)
        out[ROOT / "movecheck" / "cli" / "estimates.py"] = {"": py}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="*", metavar="PART", help=f"{', '.join(PARTS)} (default: all)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if a page differs (timings aside)")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.parts) - set(PARTS) - set(TUTORIAL))
    if unknown:
        ap.error(f"unknown part {', '.join(unknown)}; the parts are {', '.join(PARTS)}")
    stale = []
    for path, blocks in generate(args.parts or PARTS).items():
        text = path.read_text(encoding="utf-8")
        new = blocks[""] if "" in blocks else text
        for name, body in blocks.items():
            if name:
                new = replace_block(new, name, body)
        if args.check:
            if normalize(new) != normalize(text):
                stale.append(str(path.relative_to(ROOT)))
        elif new != text:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("not current (run python docs/generate.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
