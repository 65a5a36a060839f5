"""Generate the reference tables of docs/spec.md from the spec's own tables.

``python -m movecheck.spec.docgen docs/spec.md`` rewrites the parts between
``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers; a test checks that
the file is current, so the docs cannot drift from :data:`STEPS`,
:data:`INVARIANTS` and the status machines.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from movecheck.spec.invariants import INVARIANTS
from movecheck.spec.statuses import FINISHED, NEW, STATUS_MACHINES, TERMINAL
from movecheck.spec.steps import STEPS


def steps_table() -> str:
    rows = ["| step | parameters | enabled when | effect | Nova |", "|---|---|---|---|---|"]
    for sd in STEPS.values():
        rows.append(f"| `{sd.name}` | {', '.join(sd.params)} | {sd.guard} | {sd.effect} | "
                    f"`{sd.nova}` |")
    return "\n".join(rows)


def invariants_table() -> str:
    rows = ["| invariant | kind | statement | guards against Nova bugs |", "|---|---|---|---|"]
    for inv in INVARIANTS.values():
        kind = inv.kind + (" (auxiliary)" if inv.auxiliary else "")
        bugs = ", ".join(f"[{b}](https://bugs.launchpad.net/nova/+bug/{b})" for b in inv.bugs) or "—"
        rows.append(f"| `{inv.name}` | {kind} | {inv.statement} | {bugs} |")
    return "\n".join(rows)


def status_tables() -> str:
    out = []
    for mtype, g in STATUS_MACHINES.items():
        out.append(f"**{mtype}** (finished: {', '.join(sorted(FINISHED[mtype]))}; terminal, "
                   f"absorbing: {', '.join(sorted(TERMINAL[mtype]))})\n")
        out.append("| from | to | steps | failure edge |")
        out.append("|---|---|---|---|")
        for a, b, d in g.edges(data=True):
            a = "∅ (no record)" if a == NEW else a
            out.append(f"| {a} | {b} | {', '.join(d['steps'])} | {'yes' if d['failure'] else ''} |")
        out.append("")
    return "\n".join(out).rstrip()


SECTIONS = {"steps": steps_table, "invariants": invariants_table, "statuses": status_tables}


def render(text: str) -> str:
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        text, n = pattern.subn(lambda m, fn=fn: m.group(1) + fn() + "\n" + m.group(2), text)
        if n != 1:
            raise SystemExit(f"docs: marker pair for {name!r} not found exactly once")
    return text


if __name__ == "__main__":  # pragma: no cover
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/spec.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(path)
