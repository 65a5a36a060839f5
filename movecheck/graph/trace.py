"""A counterexample from a report, replayed through the spec and drawn.

Accepted report shapes (docs/graphs.md, "Counterexamples"): a movecheck
report (``command`` and ``movecheck_version``) holding a trace, a list of
step objects ``{"step": name, <params>, "picks": [devices]?}``, at one of

- ``report["violation"]["trace"]`` (explore, bmc),
- ``report["discrepancy"]["trace"]`` with ``step_index`` (conform; 0-based,
  -1 = right after reset),
- ``report["divergence"]["trace"]`` with ``step_index`` (validate),
- ``report["counterexample"]["trace"]``, ``report["counterexamples"]`` (a
  list, or a mapping of name to object), ``report["invariants"][k]
  ["counterexample"]["trace"]`` (prove) or ``report["mutants"][k]
  ["counterexample"]`` (mutants; a bare list of steps): the first one found.

Keys of a step object other than ``step``, its parameters and ``picks``
(for instance conform's ``expected``) are ignored.  The cloud is the
report's ``cloud`` when it has one, else the one named on the command line.
When no diverging step is given, the last step is the one highlighted (an
invariant fails in the state it reaches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from movecheck.spec import Spec, State
from movecheck.spec.describe import describe_state, fmt_vector
from movecheck.spec.errors import InputError
from movecheck.spec.statuses import NEW
from movecheck.spec.steps import step_from_json
from movecheck.spec.vocab import RESOURCE_CLASSES, Cloud, Step

_PLACES = ("violation", "discrepancy", "divergence", "counterexample")


@dataclass
class Found:
    trace: list[dict]
    where: str  # e.g. "discrepancy"
    step_index: int | None  # the diverging step (0-based), None = the last
    info: dict[str, Any] = field(default_factory=dict)  # the object holding the trace


def find_trace(report: dict[str, Any]) -> Found:
    """The first trace in ``report``, or one sentence of InputError."""
    candidates: list[tuple[str, Any]] = [(p, report.get(p)) for p in _PLACES]
    many = report.get("counterexamples")
    if isinstance(many, dict):
        candidates += [(f"counterexamples.{k}", v) for k, v in many.items()]
    elif isinstance(many, list):
        candidates += [(f"counterexamples[{k}]", v) for k, v in enumerate(many)]
    for key in ("invariants", "mutants"):
        for k, entry in enumerate(report.get(key) or []):
            if not isinstance(entry, dict):
                continue
            cx = entry.get("counterexample")
            if isinstance(cx, list):  # a bare trace (mutants): keep the entry's message too
                cx = {**{f: entry[f] for f in ("message", "invariants") if f in entry},
                      "trace": cx}
            candidates.append((f"{key}[{k}].counterexample", cx))
    for where, obj in candidates:
        if isinstance(obj, dict) and isinstance(obj.get("trace"), list):
            idx = obj.get("step_index")
            if idx is not None and not (isinstance(idx, int) and not isinstance(idx, bool)):
                raise InputError(f"{where}.step_index must be a whole number, not {idx!r}")
            return Found(obj["trace"], where, idx, obj)
    cmd = report.get("command", "?")
    raise InputError(f"the {cmd} report holds no counterexample trace (looked under "
                     "violation, discrepancy, divergence, counterexample(s), invariants and "
                     "mutants)")


def parse_trace(trace: list[Any]) -> list[tuple[Step, tuple[str, ...] | None]]:
    """Step objects to (Step, picks); picks None = the spec's first legal pick."""
    out = []
    for k, d in enumerate(trace, 1):
        if not isinstance(d, dict):
            raise InputError(f"trace step {k} is not an object")
        keep = {key: v for key, v in d.items() if key == "step" or key in Step._fields[1:]}
        try:
            step = step_from_json(keep)
        except InputError as e:
            raise InputError(f"trace step {k}: {e}") from None
        picks = d.get("picks")
        if picks is not None and (not isinstance(picks, list)
                                  or not all(isinstance(p, str) for p in picks)):
            raise InputError(f"trace step {k}: picks must be a list of device names")
        out.append((step, None if picks is None else tuple(picks)))
    return out


@dataclass
class Row:
    number: int  # 1-based
    step: Step
    picks: tuple[str, ...]
    rejected: str | None  # the spec's reason, or None when the step was taken
    after: State
    transitions: list[tuple[str, str, str, str]]  # (migration id, type, before, after)


def replay(spec: Spec, steps: list[tuple[Step, tuple[str, ...] | None]]) -> tuple[State, list[Row]]:
    """Run the steps through the spec.  A step the spec rejects leaves the state as
    it was (a conformance trace may test rejections), but for a move the scheduler
    refused, which leaves its record ``error``; an illegal pick falls back
    to the spec's own pick and says so."""
    state = spec.initial()
    first = state
    rows = []
    for n, (step, picks) in enumerate(steps, 1):
        reason = spec.why_rejected(state, step)
        used: tuple[str, ...] = ()
        if reason is None:
            if picks is not None and spec.pick_error(state, step, tuple(sorted(picks))):
                reason = f"illegal pick {list(picks)}: {spec.pick_error(state, step, tuple(sorted(picks)))}"
                after = state
            else:
                used = tuple(sorted(picks)) if picks is not None else spec.legal_picks(state, step)[0]
                after = spec.next_state(state, step, used)
        else:
            after = spec.after_rejection(state, step)  # a refused move leaves its record
        old = {m.id: m.status for m in state.migrations}
        trans = [(m.id, m.migration_type, old.get(m.id, NEW), m.status)
                 for m in after.migrations if old.get(m.id, NEW) != m.status]
        rows.append(Row(n, step, used, reason, after, trans))
        state = after
    return first, rows


def capacity_cells(spec: Spec, s: State) -> tuple[list[str], list[bool]]:
    """Per host 'used of capacity' text and whether any resource class is over."""
    cells, over = [], []
    for k in range(len(spec.cloud.hosts)):
        cap = spec.capacity[k]
        caps = "/".join(str(int(c)) if c == int(c) else str(float(c)) for c in cap)
        cells.append(f"{fmt_vector(s.usage[k])} of {caps}" + ("" if s.up[k] else " DOWN"))
        over.append(any(u > c for u, c in zip(s.usage[k], cap, strict=True)))
    return cells, over


def observed_cells(spec: Spec, usage: Any) -> tuple[list[str], list[bool]] | None:
    """Per host usage the tracker reported ({host: {rc: n}}) and whether it is over
    capacity, if the report has it."""
    if not isinstance(usage, dict):
        return None
    cells, over = [], []
    for k, h in enumerate(spec.cloud.host_names):
        u = usage.get(h) if isinstance(usage.get(h), dict) else {}
        vals = [u.get(rc) for rc in RESOURCE_CLASSES]
        cells.append("/".join("?" if v is None else str(v) for v in vals))
        over.append(any(isinstance(v, (int, float)) and v > c
                        for v, c in zip(vals, spec.capacity[k], strict=True)))
    return cells, over


def device_cell(devices: dict[str, dict[str, str | None]]) -> str:
    """Who holds each device: ``h1/pci0=i1 h2/pci0=free``."""
    return " ".join(f"{h}/{d}={holder or 'free'}" for h, held in devices.items()
                    for d, holder in held.items())


def differences(info: dict[str, Any]) -> list[str]:
    """One line per device, migration or instance where the tracker's observation
    (``observed``) differs from the spec's (``expected``), as a conform
    discrepancy carries them; usage is in the table itself."""
    exp, obs = info.get("expected"), info.get("observed")
    if not isinstance(exp, dict) or not isinstance(obs, dict):
        return []
    out = []
    for part, what in (("devices", "device"), ("migrations", "migration"), ("instances", "instance")):
        e, o = exp.get(part), obs.get(part)
        if not isinstance(e, dict) or not isinstance(o, dict):
            continue
        flat_e, flat_o = e, o
        if part == "devices":  # {host: {device: holder}} -> {host/device: holder}
            flat_e = {f"{h}/{d}": v for h, held in e.items() if isinstance(held, dict)
                      for d, v in held.items()}
            flat_o = {f"{h}/{d}": v for h, held in o.items() if isinstance(held, dict)
                      for d, v in held.items()}
        for k in sorted(set(flat_e) | set(flat_o)):
            if flat_e.get(k) != flat_o.get(k):
                none = "free" if part == "devices" else "absent"
                out.append(f"{what} {k}: spec {flat_e.get(k) or none}, "
                           f"tracker {flat_o.get(k) or none}")
    return out


@dataclass
class TraceView:
    """Everything the pictures, the table and the HTML page need."""

    spec: Spec
    found: Found
    rows: list[Row]
    diverging: int | None  # 0-based row index highlighted, None = right after reset
    header: list[str]
    table: list[list[str]]
    over: set[tuple[int, int]]
    #: devices, migrations, instances where the tracker differs from the spec
    differences: list[str] = field(default_factory=list)

    def state_lines(self, k: int) -> list[str]:
        return describe_state(self.spec, self.rows[k].after)


def build_view(report: dict[str, Any], cloud: Cloud) -> TraceView:
    found = find_trace(report)
    if "cloud" in report and isinstance(report["cloud"], dict):
        try:
            cloud = Cloud.from_json(report["cloud"])
        except InputError as e:
            raise InputError(f"the report's cloud: {e}") from None
    spec = Spec(cloud)
    steps = parse_trace(found.trace)
    if not steps and (found.step_index is None or found.step_index >= 0):
        raise InputError(f"the {found.where} trace in the report is empty")
    _, rows = replay(spec, steps)
    idx = found.step_index
    if idx is None:
        idx = len(rows) - 1
    if idx >= len(rows) or idx < -1:
        raise InputError(f"{found.where}.step_index {idx} is outside the trace of {len(rows)} steps")
    header = ["#", "step", "spec"] + [f"{h} usage ({'/'.join(RESOURCE_CLASSES)})"
                                      for h in cloud.host_names] + ["devices", "statuses"]
    table, over = [], set()
    for r, row in enumerate(rows):
        cells, is_over = capacity_cells(spec, row.after)
        label = str(row.step) + (f" picks {','.join(row.picks)}" if row.picks else "")
        status = " ".join(f"{m.id}:{m.status}" for m in row.after.migrations)
        table.append([str(row.number), label, "taken" if row.rejected is None
                      else f"rejected: {row.rejected}", *cells,
                      device_cell(spec.observe(row.after).devices), status])
        for j, o in enumerate(is_over):
            if o:
                over.add((r, 3 + j))
    observed = found.info.get("observed") if isinstance(found.info, dict) else None
    obs_cells = observed_cells(spec, observed.get("usage")) if isinstance(observed, dict) else None
    if obs_cells is not None and 0 <= idx < len(table):
        for j, (cell, is_over) in enumerate(zip(*obs_cells, strict=True)):
            table[idx][3 + j] += f"; tracker: {cell}" + (" OVER CAPACITY" if is_over else "")
            if is_over:
                over.add((idx, 3 + j))
    diffs = differences(found.info) if isinstance(found.info, dict) else []
    obs_devices = observed.get("devices") if isinstance(observed, dict) else None
    if isinstance(obs_devices, dict) and 0 <= idx < len(table) and any(
            d.startswith("device ") for d in diffs):
        col = 3 + len(cloud.host_names)
        table[idx][col] += "; tracker: " + device_cell(
            {h: v for h, v in obs_devices.items() if isinstance(v, dict)})
        over.add((idx, col))
    return TraceView(spec, found, rows, None if idx < 0 else idx, header, table, over, diffs)
