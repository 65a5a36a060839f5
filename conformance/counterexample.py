"""Counterexamples a person can read (docs/conformance.md, "Reading a counterexample").

- :func:`render` prints the shrunk step sequence as a table (the tracker's
  outcome, the spec's verdict, the spec's usage per host after each step),
  then the first diverging step's expected and observed values side by side
  per host and resource class, then the invariants that broke with the Nova
  bug IDs they guard against;
- :func:`write_replay` writes a pytest file that replays the counterexample.
"""

from __future__ import annotations

import io
import pprint
import textwrap
from pathlib import Path
from typing import Any

from movecheck.conformance.checker import Discrepancy
from movecheck.conformance.replay import step_of
from movecheck.spec import Spec
from movecheck.spec.allocations import ALLOCATION_INVARIANTS, normalized
from movecheck.spec.describe import fmt_vector
from movecheck.spec.invariants import INVARIANTS
from movecheck.spec.vocab import RESOURCE_CLASSES, Cloud


def _trace_table(spec: Spec, d: Discrepancy):
    from rich.table import Table

    table = Table(title="counterexample (shrunk)", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("step")
    table.add_column("tracker's outcome")
    table.add_column("spec's verdict")
    for h in spec.cloud.hosts:
        table.add_column(f"{h.name} usage (spec)", justify="right")
    table.add_column("statuses")
    state = spec.initial()
    for n, entry in enumerate(d.trace):
        step = step_of(entry)
        picks = tuple(entry.get("picks", ()))
        reason = spec.why_rejected(state, step)
        last = n == d.step_index
        if reason is None and spec.pick_error(state, step, picks) is None and not (
                last and d.category != "observation"):
            state = spec.next_state(state, step, picks)
        elif reason is not None and not (last and d.category != "observation"):
            state = spec.after_rejection(state, step)
        if last:
            tracker = d.observed.get("outcome", {}) or {}
            tracker_cell = tracker.get("result", "fault") if isinstance(tracker, dict) else "?"
        else:
            tracker_cell = entry["expected"]
        if picks:
            tracker_cell += f" {','.join(picks)}"
        spec_cell = "accepted" if reason is None else f"rejected: {reason}"
        if last and d.category != "observation":
            # The tracker and the spec part ways on the step itself: there is no agreed
            # state after it to show.
            cells, statuses = ["-"] * len(state.usage), "-"
        else:
            cells = [fmt_vector(u) + ("" if state.up[k] else " (down)")
                     for k, u in enumerate(state.usage)]
            statuses = " ".join(f"{m.id}:{m.status}" for m in state.migrations)
        style = "bold red" if last else None
        table.add_row(str(n + 1), str(step), tracker_cell, spec_cell, *cells, statuses,
                      style=style)
    return table


def _side_by_side(spec: Spec, d: Discrepancy):
    from rich.table import Table

    table = Table(title="first diverging step: the spec's figures (expected) and the tracker's "
                  "(observed)")
    table.add_column("what")
    table.add_column("spec (expected)", justify="right")
    table.add_column("tracker (observed)", justify="right")
    table.add_column("")
    exp, obs = d.expected, d.observed
    if "outcome" in exp or "outcome" in obs:
        e, o = exp.get("outcome"), obs.get("outcome")
        o_text = _fmt(o) if o is not None or "fault" not in obs else (
            "no reply in time" if d.category == "timeout" else "fault")
        table.add_row("outcome", _fmt(e), o_text, "" if e == o else "≠")
    if "pick" in exp or "pick" in obs:
        table.add_row("device pick", str(exp.get("pick", "-")), str(obs.get("pick", "-")), "≠")
    if "fault" in obs and "outcome" not in exp and "outcome" not in obs:
        # The fault itself is printed once, above the tables (with the tracker's stderr).
        table.add_row("tracker", "a reply",
                      "no reply in time" if d.category == "timeout" else "fault (above)", "≠")
    if "usage" in exp or "usage" in obs:
        eu, ou = exp.get("usage") or {}, obs.get("usage") or {}
        for h in spec.cloud.host_names:
            for rc in RESOURCE_CLASSES:
                e, o = (eu.get(h) or {}).get(rc), (ou.get(h) or {}).get(rc, 0 if ou else None)
                if e != o or not eu or not ou or (eu.get(h) != ou.get(h)):
                    table.add_row(f"usage {h} {rc}", _fmt(e), _fmt(o), "≠" if e != o else "")
    for part in ("devices", "migrations", "instances"):
        if part not in exp and part not in obs:
            continue
        e, o = exp.get(part) or {}, obs.get(part) or {}
        if part == "devices":
            keys = sorted({(h, x) for m in (e, o) for h in m for x in (m[h] or {})})
            for h, x in keys:
                ev, ov = (e.get(h) or {}).get(x), (o.get(h) or {}).get(x)
                if ev != ov:
                    table.add_row(f"device {h}/{x} holder", _fmt(ev), _fmt(ov), "≠")
        else:
            for k in sorted(set(e) | set(o)):
                if e.get(k) != o.get(k):
                    table.add_row(f"{part[:-1]} {k}", _fmt(e.get(k)), _fmt(o.get(k)), "≠")
    if "allocations" in exp or "allocations" in obs:
        e, o = exp.get("allocations") or {}, normalized(obs.get("allocations") or {})
        for c in sorted(set(e) | set(o)):
            for h in sorted(set(e.get(c, {})) | set(o.get(c, {}))):
                ev, ov = e.get(c, {}).get(h), o.get(c, {}).get(h)
                if ev != ov:
                    table.add_row(f"allocation {c} on {h}", _fmt_res(ev), _fmt_res(ov), "≠")
    return table


def _fmt_res(v: dict | None) -> str:
    return "-" if not v else "/".join(str(v.get(rc, 0)) for rc in RESOURCE_CLASSES)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, dict) and "result" in v:
        out = v["result"]
        if v.get("devices"):
            out += " " + ",".join(v["devices"])
        if v.get("reason"):
            out += f" ({v['reason']})"
        return out
    return str(v)


def render(console, cloud: Cloud, d: Discrepancy, tracker: str | None = None) -> None:
    """Print the discrepancy for a person: trace table, side-by-side values, invariants."""
    spec = Spec(cloud)
    who = f"tracker {tracker}" if tracker else "the tracker"
    first, *rest = str(d).split("\n")
    console.print(f"[bold red]DISCREPANCY[/] {who} {first}", highlight=False)
    for line in rest:  # the tracker's own words (stderr), left-aligned as it wrote them
        console.print(f"  | {line}", highlight=False, markup=False)
    if d.trace:
        console.print(_trace_table(spec, d))
    console.print(_side_by_side(spec, d))
    if d.invariants:
        console.print("invariants broken on the tracker's observation:")
        for name in d.invariants:
            inv = INVARIANTS.get(name) or ALLOCATION_INVARIANTS.get(name)
            bugs = ", ".join(inv.bugs) if inv else ""
            console.print(f"  - {name}: {inv.statement if inv else ''}"
                          + (f" [dim](Nova bugs {bugs})[/]" if bugs else ""))
    elif d.category in ("accepted", "rejected"):
        console.print("no invariant breaks on the tracker's observation: the tracker and the "
                      "spec disagree on whether the step is enabled (docs/spec.md, \"Steps\")")
    elif d.category == "pick":
        console.print("the step is accepted by both, but the tracker picked devices the spec "
                      "does not allow; the state after the step is not compared")
    for line in d.details[:12]:
        console.print(f"    {line}")


def report_console():
    """The console reports print on: no emoji codes (``:factory`` is a tracker name, not
    an emoji), and wide when the output is not a terminal (logs, pipes)."""
    from rich.console import Console

    if Console().is_terminal:
        return Console(emoji=False)
    # Piped or logged: never wrap a line of figures at 80 columns (tables still need a width).
    return Console(emoji=False, soft_wrap=True, width=200)


def render_text(cloud: Cloud, d: Discrepancy, tracker: str | None = None) -> str:
    """:func:`render` as plain text (assertion messages, docs)."""
    from rich.console import Console

    buf = io.StringIO()
    render(Console(file=buf, width=140, color_system=None, force_terminal=False, emoji=False),
           cloud, d, tracker)
    return buf.getvalue()


REPLAY_TEMPLATE = '''"""movecheck replay: {message}

Written by `movecheck conform --replay-out`.  It replays the shrunk
counterexample against TRACKER in lock step with the spec and fails while
the tracker disagrees.  Point TRACKER at "reference" (or set the environment
variable MOVECHECK_REPLAY_TRACKER) to see the reference tracker pass it.
{about}
"""

from movecheck.conformance.replay import replay_counterexample

TRACKER = {tracker!r}

CLOUD = {cloud}

TRACE = {trace}


def test_replay_counterexample():
    replay_counterexample(TRACKER, CLOUD, TRACE)
'''


def write_replay(path: str | Path, tracker: str, cloud: Cloud, d: Discrepancy) -> Path:
    """Write a pytest file replaying ``d`` against ``tracker`` (atomically)."""
    import os
    import tempfile

    p = Path(path)
    trace = [{k: v for k, v in e.items() if k not in ("expected",)} for e in d.trace]
    text = REPLAY_TEMPLATE.format(
        message=str(d).replace('"""', "'''"), tracker=tracker,
        about=textwrap.fill(f"Invariants broken: {', '.join(d.invariants) or 'none named'}; Nova "
                            f"bugs they guard against: {', '.join(d.bugs) or 'none'}.", 96),
        cloud=pprint.pformat(cloud.to_json(), width=96),
        trace=pprint.pformat(trace, width=96),
    )
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, p)
    return p
