"""States and traces in domain words, for people (used by every command's output).

Hosts with usage against capacity, instances with host / flavor / vm_state,
migrations with type and status — the way a Nova engineer reads
``nova-manage`` output, not as tuples.
"""

from __future__ import annotations

from movecheck.spec import Refusal, Spec, State
from movecheck.spec.vocab import RESOURCE_CLASSES, VM_DELETED, Step


def fmt_vector(v) -> str:
    return "/".join(str(x) for x in v)


def describe_state(spec: Spec, s: State) -> list[str]:
    """One line per host, instance and migration."""
    lines = []
    for k, h in enumerate(spec.cloud.hosts):
        cap = "/".join(str(int(c)) if c == int(c) else str(float(c)) for c in spec.capacity[k])
        lines.append(f"host {h.name} {'up' if s.up[k] else 'DOWN'}: usage "
                     f"{fmt_vector(s.usage[k])} of {cap} ({'/'.join(RESOURCE_CLASSES)})")
    for sl, inst in zip(getattr(s, "slots", ()) or [None] * len(s.instances), s.instances,
                        strict=True):
        if inst is None:
            continue
        if inst.vm_state == VM_DELETED:
            lines.append(f"instance {inst.id}: deleted")
            continue
        extra = ""
        if inst.old_flavor:
            extra = f" (old {inst.old_flavor}, new {inst.new_flavor})"
        dev = f" devices {','.join(inst.devices)}" if inst.devices else ""
        mc = (f" context {inst.migration_context.migration_id}"
              if inst.migration_context else "")
        if sl is not None and sl.gone:
            mc += f" (dropped by {inst.host}, which came back before the rebuild)"
        if sl is not None and sl.wx:
            mc += (f"; waits for {sl.wsrc}'s clean-up ({sl.wflv}"
                   f"{' devices ' + ','.join(sl.wdev) if sl.wdev else ''})")
        lines.append(f"instance {inst.id}: {inst.vm_state} on {inst.host} flavor "
                     f"{inst.flavor}{extra}{dev}{mc}")
    for m in s.migrations:
        lines.append(f"migration {m.id}: {m.migration_type} of {m.instance} "
                     f"{m.source}->{m.dest} {m.old_flavor}->{m.new_flavor}: {m.status}")
    return lines


def replay(spec: Spec, trace: list[tuple[Step, tuple[str, ...]]]) -> list[State]:
    """The states a (step, picks) trace passes through, starting with the initial one
    (picks :data:`~movecheck.spec.REFUSED`: the step was rejected, its record left)."""
    states = [spec.initial()]
    for step, picks in trace:
        states.append(spec.take(states[-1], step, picks))
    return states


def trace_table(spec: Spec, trace: list[tuple[Step, tuple[str, ...]]]):
    """A rich Table: one row per step with per-host usage after it."""
    from rich.table import Table

    states = replay(spec, trace)
    table = Table(title=None, show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("step")
    for h in spec.cloud.hosts:
        table.add_column(f"{h.name} usage", justify="right")
    table.add_column("statuses")
    for n, ((step, picks), s) in enumerate(zip(trace, states[1:], strict=True), 1):
        label = str(step) + (f" picks {','.join(picks)}" if picks else "")
        if isinstance(picks, Refusal):
            label += f" rejected: {spec.why_rejected(states[n - 1], step)}"
        cells = [fmt_vector(u) + ("" if s.up[k] else " (down)") for k, u in enumerate(s.usage)]
        sts = " ".join(f"{m.id}:{m.status}" for m in s.migrations)
        table.add_row(str(n), label, *cells, sts)
    return table


def trace_to_json(trace: list[tuple[Step, tuple[str, ...]]]) -> list[dict]:
    out = []
    for step, picks in trace:
        d = step.to_json()
        if isinstance(picks, Refusal):
            d["expected"] = "rejected"
        elif picks:
            d["picks"] = list(picks)
        out.append(d)
    return out
