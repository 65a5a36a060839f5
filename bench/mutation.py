"""Mutation score of conformance: how many mutants of the reference tracker a default run kills.

A measure of bug-finding power that nobody can tune to: the mutants are not
written by us but made by Cosmic Ray's operators (``cosmic_ray.operators``:
arithmetic, comparison, boolean, unary, ``break``/``continue``, exceptions,
numbers, decorators, zero-iteration loops) plus one of our own,
:class:`StatementDeletion` (a statement becomes ``pass``), over the reference
tracker in ``model/``, leaving out positions inside type annotations (never
evaluated there: ``from __future__ import annotations``).  Each mutant is put
into a private copy of the source tree and judged by one default run::

    python -m movecheck conform --tracker reference --seed S --json REPORT

A mutant is *killed* when the run reports a discrepancy (exit 1 with a
report), *survives* when the run is conformant (exit 0), and is *incompetent*
when no report is written (the mutated module does not even import, or the
command crashes).  A run over the time limit has no verdict: it is listed
apart and left out of the score (on a loaded machine a surviving mutant's full
run can take longer than the limit, so counting it as killed would flatter the
score); rerun those with a larger ``--timeout``.

Survivors are classified by hand in ``bench/mutation_survivors.json`` (keyed by
file and the changed line, so that unrelated edits keep the keys): either
``equivalent`` (no run of any tracker can tell it from the reference, and
why), ``unreachable`` (code a conformance run never executes, and which) or
``escape`` (a run could, and what the driver must send to see it).  The score
is killed / (killed + survived), and the same over the mutants that are
neither equivalent nor unreachable.

The whole population is too slow for a shared 2-core machine (several
seconds per mutant), so by default a seeded uniform sample is run; the JSON
says so (``sampled``, ``population``, ``sample``).  ``--write-docs`` puts the
score and every survivor's classification into docs/bugs.md (between the
``mutation-score`` markers, after the catalogue that ``movecheck mutants
--write-docs`` writes).

    python bench/mutation.py --sample 150 --json bench/mutation.json --write-docs docs/bugs.md
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))
CLASSIFICATION = Path(__file__).with_name("mutation_survivors.json")

#: The reference tracker (model/bugs/ is the catalogue, not the reference).
TARGETS = ("model/resource_tracker.py", "model/compute.py", "model/tracker.py",
           "model/store.py", "model/records.py")

#: Cosmic Ray operators left out: the two that need arguments (variable
#: replacement / insertion) and the no-op used for baselining.
SKIPPED_OPERATORS = ("core/VariableReplacer", "core/VariableInserter", "core/NoOp")

STATEMENT_DELETION = "movecheck/StatementDeletion"


def statement_deletion_class():
    """A Cosmic Ray operator that replaces one statement of a block by ``pass``.

    Cosmic Ray has no statement deletion of its own; its operator interface
    (``cosmic_ray.operators.operator.Operator``) is what its plugin mechanism
    registers, and is used here directly.  Docstrings and ``pass`` itself are
    left alone.
    """
    from cosmic_ray.operators.operator import Example, Operator
    from parso.python.tree import Keyword, PythonNode

    class StatementDeletion(Operator):
        def mutation_positions(self, node):
            if (node.type == "simple_stmt" and node.parent is not None
                    and node.parent.type == "suite" and node.children[0].type != "string"
                    and node.children[0].get_code().strip() != "pass"):
                yield (node.start_pos, node.end_pos)

        def mutate(self, node, index):
            first = node.get_first_leaf()
            return PythonNode("simple_stmt", [Keyword("pass", first.start_pos, prefix=first.prefix),
                                              node.children[-1]])

        @classmethod
        def examples(cls):
            return (Example("def f():\n    x = 1\n", "def f():\n    pass\n"),)

    return StatementDeletion


@dataclass
class Mutation:
    file: str
    operator: str
    occurrence: int
    line: int
    diff: str = ""
    key: str = ""


@dataclass
class Outcome:
    mutation: Mutation
    verdict: str  # killed | survived | incompetent | timeout
    seconds: float
    detail: str = ""
    classification: dict = field(default_factory=dict)


def operators() -> list[tuple[str, object]]:
    import cosmic_ray.plugins

    ops = [(name, cosmic_ray.plugins.get_operator(name)())
           for name in cosmic_ray.plugins.operator_names()
           if name.startswith("core/") and name not in SKIPPED_OPERATORS]
    ops.append((STATEMENT_DELETION, statement_deletion_class()()))
    return ops


def in_annotation(node) -> bool:
    """True inside a type annotation: the targets have ``from __future__ import
    annotations``, so annotations are never evaluated and every mutant of one
    is equivalent by construction (left out of the population)."""
    child, parent = node, node.parent
    while parent is not None:
        kids = parent.children
        k = kids.index(child)
        before = kids[k - 1] if k else None
        if parent.type in ("tfpdef", "annassign") and before is not None and before.type == "operator" \
                and before.value == ":":
            return True
        if parent.type == "param" and before is not None and before.type == "operator" \
                and before.value == ":":
            return True
        if parent.type == "funcdef" and before is not None and before.type == "operator" \
                and before.value == "->":
            return True
        child, parent = parent, parent.parent
    return False


def population(root: Path, targets=TARGETS) -> list[Mutation]:
    """Every mutation of every operator in every target file (Cosmic Ray's enumeration),
    less those inside annotations (:func:`in_annotation`).  ``occurrence`` counts all
    positions, as Cosmic Ray's ``mutate_code`` does."""
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    out = []
    ops = operators()
    for rel in targets:
        module = get_ast_from_path(root / rel)
        nodes = list(ast_nodes(module))
        for name, op in ops:
            k = 0
            for node in nodes:
                for start, _end in op.mutation_positions(node):
                    if not in_annotation(node):
                        out.append(Mutation(rel, name, k, start[0]))
                    k += 1
    return out


def mutate(source: str, m: Mutation) -> str | None:
    from cosmic_ray.mutating import mutate_code

    op = dict(operators())[m.operator]
    return mutate_code(source, op, m.occurrence)


def describe(original: str, mutated: str, m: Mutation) -> None:
    """Fill in the unified diff and a stable key (file + removed/added lines)."""
    diff = list(difflib.unified_diff(original.splitlines(), mutated.splitlines(),
                                     f"a/{m.file}", f"b/{m.file}", n=0, lineterm=""))
    m.diff = "\n".join(diff[2:])
    changed = [ln[0] + " ".join(ln[1:].split()) for ln in diff[2:] if ln[:1] in "+-"]
    m.key = m.file + " | " + " / ".join(changed)


def copy_tree(dest: Path) -> None:
    """A private copy of the package source (the links under movecheck/ stay links)."""
    for name in ("spec", "model", "conformance", "movecheck"):
        shutil.copytree(ROOT / name, dest / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))


def run_one(tree: Path, m: Mutation, *, seed: int, timeout: float) -> Outcome:
    path = tree / m.file
    original = path.read_text()
    mutated = mutate(original, m)
    if mutated is None:
        return Outcome(m, "incompetent", 0.0, "no mutation at this occurrence")
    describe(original, mutated, m)
    report = tree / "report.json"
    report.unlink(missing_ok=True)
    path.write_text(mutated)
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    t0 = time.perf_counter()
    try:
        # No shrinking: the verdict is settled at the first failure, and shrinking a
        # killed mutant's counterexample only costs time.
        run = subprocess.run([sys.executable, "-m", "movecheck", "conform", "--tracker", "reference",
                              "--seed", str(seed), "--shrink-examples", "0",
                              "--json", str(report)],
                             cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(m, "timeout", time.perf_counter() - t0, f"over {timeout:g} s")
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - t0
    if not report.exists():
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or [""]
        return Outcome(m, "incompetent", seconds, tail[0][:200])
    data = json.loads(report.read_text())
    if run.returncode == 0 and data.get("ok"):
        return Outcome(m, "survived", seconds)
    d = data.get("discrepancy") or {}
    return Outcome(m, "killed", seconds, (d.get("message") or data.get("note") or "")[:200])


def load_classification() -> dict[str, dict]:
    if CLASSIFICATION.exists():
        return json.loads(CLASSIFICATION.read_text())
    return {}


def summarize(outcomes: list[Outcome], *, pop: list[Mutation], sample: int | None, seed: int,
              conform_seed: int, timeout: float, seconds: float) -> dict:
    from importlib.metadata import version

    classes = load_classification()
    for o in outcomes:
        if o.verdict == "survived" and not o.classification:
            o.classification = classes.get(o.mutation.key, {"kind": "unclassified"})
    killed = [o for o in outcomes if o.verdict == "killed"]
    survived = [o for o in outcomes if o.verdict == "survived"]
    kinds = [o.classification.get("kind") for o in survived]
    # Equivalent: no tracker run can tell it from the reference.  Unreachable:
    # code a conformance run never executes (reopening a database file, the
    # module's own consistency checks).  Both are left out of the second score.
    equivalent = kinds.count("equivalent") + kinds.count("unreachable")
    competent = len(killed) + len(survived)
    times = [o.seconds for o in outcomes if o.verdict != "incompetent"]
    per_file: dict[str, int] = {}
    for m in pop:
        per_file[m.file] = per_file.get(m.file, 0) + 1
    return {
        "tool": f"cosmic-ray {version('cosmic-ray')}",
        "command": "python -m movecheck conform --tracker reference --seed "
                   f"{conform_seed} --shrink-examples 0 --json REPORT",
        "targets": list(per_file),
        "population": len(pop),
        "population_per_file": per_file,
        "sampled": sample is not None and sample < len(pop),
        "sample": len(outcomes),
        "sample_seed": seed,
        "timeout_seconds": timeout,
        "killed": len(killed),
        "timeouts": sum(o.verdict == "timeout" for o in outcomes),
        "survived": len(survived),
        "incompetent": sum(o.verdict == "incompetent" for o in outcomes),
        "equivalent": kinds.count("equivalent"),
        "unreachable": kinds.count("unreachable"),
        "escapes": kinds.count("escape"),
        "unclassified": kinds.count("unclassified"),
        "score": round(len(killed) / competent, 4) if competent else None,
        "score_non_equivalent": (round(len(killed) / (competent - equivalent), 4)
                                 if competent - equivalent else None),
        "seconds_per_mutant": {
            "median": round(statistics.median(times), 2) if times else None,
            "max": round(max(times), 2) if times else None,
            "over_30s": sum(t > 30 for t in times),
        },
        "seconds": round(seconds, 1),
        "outcomes": [dict(asdict(o.mutation), verdict=o.verdict, seconds=round(o.seconds, 2),
                          detail=o.detail, classification=o.classification or None)
                     for o in outcomes],
    }


def markdown(data: dict) -> str:
    from movecheck.conformance.mutants import MUTATION_SECTION

    begin, end = MUTATION_SECTION
    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}%"

    lines = [begin, "", "## Mutation score", "",
             "How much of the reference tracker conformance actually checks, measured by "
             "mutants nobody wrote for it: `bench/mutation.py` applies Cosmic Ray's mutation "
             "operators (and a statement deletion) to the reference tracker "
             f"({', '.join(f'`{t}`' for t in data['targets'])}) and runs `{data['command']}` "
             "on each mutant.", "",
             f"This section is generated: `python bench/mutation.py --sample {data['sample']} "
             f"--seed {data['sample_seed']} --write-docs docs/bugs.md` ({data['tool']}).", "",
             f"- population: {data['population']} mutants; "
             + (f"**a seeded sample of {data['sample']}** was run"
                if data["sampled"] else "all were run"),
             f"- killed: {data['killed']}, survived: {data['survived']}, over the "
             f"{data['timeout_seconds']:g} s limit (no verdict, left out of the score): "
             f"{data['timeouts']}, "
             f"incompetent (do not import or crash the command): {data['incompetent']}",
             f"- **score: {pct(data['score'])}** of competent mutants killed; "
             f"**{pct(data['score_non_equivalent'])}** of the non-equivalent ones "
             f"(of the survivors, {data['equivalent']} are equivalent, {data['unreachable']} "
             f"are in code a conformance run never executes, {data['escapes']} are escapes"
             + (f", {data['unclassified']} are not classified yet" if data["unclassified"] else "")
             + ")",
             f"- seconds per mutant: median {data['seconds_per_mutant']['median']}, "
             f"max {data['seconds_per_mutant']['max']}, over 30 s: "
             f"{data['seconds_per_mutant']['over_30s']}"
             + (f" (wall clock; {data['load']})" if data.get("load") else ""),
             *([f"- **partial**: {data['partial']}"] if data.get("partial") else []),
             *([f"- {data['final']}"] if data.get("final") else []),
             *([f"- the same mutants under the driver before: "
                f"{pct(data['before']['score_non_equivalent'])} of the non-equivalent ones "
                f"killed ({data['before']['report']})"] if data.get("before") else []),
             ""]
    survivors = [o for o in data["outcomes"] if o["verdict"] == "survived"]
    if survivors:
        lines += ["### Every survivor", "",
                  "| mutant | change | class | why |", "|---|---|---|---|"]
        for o in survivors:
            c = o.get("classification") or {}
            change = " ".join(ln[0] + " ".join(ln[1:].split())
                              for ln in o["diff"].splitlines() if ln[:1] in "+-")
            change = change.replace("|", "\\|")
            lines.append(f"| `{o['file']}:{o['line']}` {o['operator'].split('/')[-1]} | "
                         f"`{change}` | {c.get('kind', 'unclassified')} | "
                         f"{c.get('why', '').replace('|', '/')} |")
        lines.append("")
    lines.append(end)
    return "\n".join(lines) + "\n"


def write_docs(path: Path, data: dict) -> None:
    """Replace (or append) the mutation-score section of ``path``, atomically."""
    from movecheck.conformance.mutants import MUTATION_SECTION

    begin, end = MUTATION_SECTION
    text = path.read_text() if path.exists() else ""
    section = markdown(data)
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def same_mutants(old: dict, pop: list[Mutation]) -> tuple[list[Mutation], list[str]]:
    """The mutants of the report ``old``, found again in ``pop`` by their key (file
    and changed lines): edits elsewhere in a target shift occurrence numbers but
    not keys, so a rerun after a driver change judges the very same mutants.
    Returns (found, keys of the old report no longer in the population)."""
    sources = {t: (ROOT / t).read_text() for t in {m.file for m in pop}}
    found, gone = [], []
    for o in old["outcomes"]:
        same = sorted((m for m in pop if m.file == o["file"] and m.operator == o["operator"]),
                      key=lambda m: abs(m.occurrence - o["occurrence"]))
        for m in same:
            mutated = mutate(sources[m.file], m)
            if mutated is None:
                continue
            describe(sources[m.file], mutated, m)
            if m.key == o["key"]:
                found.append(m)
                break
        else:
            gone.append(o["key"])
    return found, gone


def _run(args, pop: list[Mutation]) -> dict:
    chosen = pop
    gone: list[str] = []
    if args.same_as:
        old = json.loads(Path(args.same_as).read_text())
        chosen, gone = same_mutants(old, pop)
        args.sample, args.seed = old["sample"], old["sample_seed"]
    elif args.sample and args.sample < len(pop):
        chosen = sorted(random.Random(args.seed).sample(pop, args.sample),
                        key=lambda m: (m.file, m.line, m.operator, m.occurrence))
    if args.slice:
        # Part of the sample, so that two machines (or cores) share one sample;
        # --merge puts the parts back together.
        start, _, stop = args.slice.partition(":")
        chosen = chosen[int(start or 0):int(stop) if stop else None]
    t0 = time.perf_counter()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="movecheck-mutation-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        for k, m in enumerate(chosen, 1):
            o = run_one(tree, m, seed=args.conform_seed, timeout=args.timeout)
            outcomes.append(o)
            print(f"[{k}/{len(chosen)}] {o.verdict:11} {o.seconds:5.1f}s {m.file}:{m.line} "
                  f"{m.operator.split('/')[-1]} #{m.occurrence}", flush=True)
    data = summarize(outcomes, pop=pop, sample=args.sample or None, seed=args.seed,
                     conform_seed=args.conform_seed, timeout=args.timeout,
                     seconds=time.perf_counter() - t0)
    if args.same_as:
        data["same_as"] = {"report": args.same_as, "not_found": gone}
    return data


def _reclassify(old: dict, pop: list[Mutation]) -> dict:
    """The report ``old`` with today's classifications (the outcomes are the run's own)."""
    fields = {"file", "operator", "occurrence", "line", "diff", "key"}
    outcomes = [Outcome(Mutation(**{k: v for k, v in o.items() if k in fields}), o["verdict"],
                        o["seconds"], o.get("detail", "")) for o in old["outcomes"]]
    data = summarize(outcomes, pop=pop, sample=old["sample"] if old["sampled"] else None,
                     seed=old["sample_seed"], conform_seed=int(old["command"].split("--seed ")[1]
                                                               .split()[0]),
                     timeout=old["timeout_seconds"], seconds=old["seconds"])
    data["tool"] = old["tool"] or data["tool"]
    for k in ("partial", "load", "before", "same_as", "final"):
        if k in old:
            data[k] = old[k]
    return data


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sample", type=int, default=150,
                   help="mutants to run, drawn uniformly (default 150; 0 = all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--conform-seed", type=int, default=0,
                   help="--seed of each conformance run (default 0)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per mutant before it counts as killed (default 60)")
    p.add_argument("--file", action="append", help="only this target (repeatable)")
    p.add_argument("--json", metavar="PATH", help="write the report here")
    p.add_argument("--write-docs", metavar="PATH", help="update the mutation section of docs/bugs.md")
    p.add_argument("--list", action="store_true", help="print the population size per file and stop")
    p.add_argument("--same-as", metavar="REPORT",
                   help="run the very mutants of an earlier --json report (found again by key), "
                        "to compare two drivers on one sample")
    p.add_argument("--slice", metavar="START:STOP",
                   help="run only these positions of the (sorted) sample")
    p.add_argument("--from", dest="source", metavar="REPORT",
                   help="run nothing: re-read the outcomes of an earlier --json report and apply "
                        "the current classifications (bench/mutation_survivors.json)")
    args = p.parse_args(argv)
    targets = tuple(args.file or TARGETS)
    pop = population(ROOT, targets)
    if args.list:
        print(json.dumps({t: sum(m.file == t for m in pop) for t in targets}, indent=1))
        return 0
    if args.source:
        data = _reclassify(json.loads(Path(args.source).read_text()), pop)
    else:
        data = _run(args, pop)
    print(json.dumps({k: v for k, v in data.items() if k != "outcomes"}, indent=1))
    if args.json:
        tmp = Path(args.json + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(args.json)
    if args.write_docs:
        write_docs(Path(args.write_docs), data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
