"""The spec's invariants: the one place that lists them (docs/spec.md, "Invariants").

Each invariant has a name (used in every report), a kind (``state`` for a
one-state invariant, ``transition`` for a two-state property over a step), the
Nova bug IDs it guards against (Launchpad bug numbers, docs/bugs.md) and a check that
returns the list of ways the state (or transition) breaks it — empty when it
holds.  ``auxiliary`` invariants are not among the invariants a user states; they strengthen the
others so that induction goes through, and are proved like them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from movecheck.spec.concrete import Spec, State
from movecheck.spec.statuses import ALLOWED_EDGES, LANDED, NEW, TERMINAL, edge_step_names
from movecheck.spec.vocab import (
    EVACUATION,
    RESIZE,
    RESOURCE_CLASSES,
    VM_DELETED,
    VM_RESIZED,
    Step,
)


@dataclass(frozen=True)
class Invariant:
    name: str
    kind: str  # "state" | "transition"
    statement: str
    bugs: tuple[str, ...]
    auxiliary: bool
    check: Callable[..., list[str]]


# ----------------------------------------------------------------- one-state


def _capacity(spec: Spec, s: State) -> list[str]:
    out = []
    for k, h in enumerate(spec.cloud.hosts):
        for j, rc in enumerate(RESOURCE_CLASSES):
            if s.usage[k][j] > spec.int_capacity[k][j]:
                out.append(f"{h.name} {rc} usage {s.usage[k][j]} > capacity {spec.capacity[k][j]}")
    return out


def _non_negative(spec: Spec, s: State) -> list[str]:
    return [
        f"{h.name} {rc} usage {s.usage[k][j]} < 0"
        for k, h in enumerate(spec.cloud.hosts)
        for j, rc in enumerate(RESOURCE_CLASSES)
        if s.usage[k][j] < 0
    ]


def _diff(spec: Spec, s: State, hosts: set[str] | None) -> list[str]:
    expected = spec.holds(s)
    if s.usage == expected:  # the common case: nothing to report
        return []
    out = []
    for k, h in enumerate(spec.cloud.hosts):
        if hosts is not None and h.name not in hosts:
            continue
        if s.usage[k] != expected[k]:
            got = dict(zip(RESOURCE_CLASSES, s.usage[k], strict=True))
            want = dict(zip(RESOURCE_CLASSES, expected[k], strict=True))
            out.append(f"{h.name} usage {got} != recomputed {want}")
    return out


def _conservation(spec: Spec, s: State) -> list[str]:
    return _diff(spec, s, None)


def _in_progress(spec: Spec, s: State):
    return [m for m in s.migrations if m.status not in TERMINAL[m.migration_type]]


def _exactly_once(spec: Spec, s: State) -> list[str]:
    out = []
    hosts: set[str] = set()
    for m in _in_progress(spec, s):
        hosts.update((m.source, m.dest))
        inst = spec.instance(s, m.instance)
        if inst is None or inst.vm_state == VM_DELETED:
            continue  # no_ghosts reports this
        landed = m.status in LANDED[m.migration_type]
        want_host = m.dest if landed else m.source
        if inst.host != want_host:
            out.append(f"{m.id} is {m.status} but {inst.id} is on {inst.host}, not {want_host}")
        if m.migration_type in (RESIZE, "migration"):
            want_flavor = m.new_flavor if m.status in ("finished", "confirming", "reverting") \
                else m.old_flavor
            if inst.flavor != want_flavor or (inst.old_flavor, inst.new_flavor) != (
                m.old_flavor, m.new_flavor
            ):
                out.append(f"{m.id} is {m.status} but {inst.id} has flavor {inst.flavor} "
                           f"(old {inst.old_flavor}, new {inst.new_flavor})")
        elif inst.flavor != m.old_flavor or m.old_flavor != m.new_flavor:
            out.append(f"{m.id} moves {inst.id} with flavor {m.old_flavor}, it has {inst.flavor}")
    return out + _diff(spec, s, hosts)


def _devices_exclusive(spec: Spec, s: State) -> list[str]:
    out = []
    holds = spec.device_holds(s)
    for (host, dev), n in Counter((h, d) for h, d, _ in holds).items():
        if n > 1:
            out.append(f"device {host}/{dev} is held {n} times")
    for host, dev, holder in holds:
        if dev not in spec.devices[host]:
            out.append(f"{holder} holds {dev}, which is not a device of {host}")
    for inst in s.instances:
        if inst is None or inst.vm_state == VM_DELETED:
            continue
        f = spec.charged_flavor(s, inst)
        if len(inst.devices) != spec.ndev[f]:
            out.append(f"{inst.id} holds {len(inst.devices)} devices, flavor {f} needs {spec.ndev[f]}")
        mc = inst.migration_context
        if mc is None:
            continue
        m = spec.migration(s, mc.migration_id)
        if m is None:
            continue  # context_matches reports this
        landed = m.status in LANDED[m.migration_type]
        if inst.devices != (mc.new_devices if landed else mc.old_devices):
            out.append(f"{inst.id} holds {list(inst.devices)}, its MigrationContext says "
                       f"{list(mc.new_devices if landed else mc.old_devices)}")
        if len(mc.new_devices) != spec.ndev[m.new_flavor]:
            out.append(f"{m.id} claimed {len(mc.new_devices)} devices, {m.new_flavor} needs "
                       f"{spec.ndev[m.new_flavor]}")
    return out


def _single_move(spec: Spec, s: State) -> list[str]:
    c = Counter(m.instance for m in _in_progress(spec, s))
    return [f"{i} has {n} in-progress migrations" for i, n in c.items() if n > 1]


def _no_ghosts(spec: Spec, s: State) -> list[str]:
    out = []
    for m in _in_progress(spec, s):
        inst = spec.instance(s, m.instance)
        if inst is None or inst.vm_state == VM_DELETED:
            out.append(f"{m.id} is {m.status} but its instance {m.instance} does not exist")
    for inst in s.instances:
        if inst is not None and inst.vm_state == VM_DELETED and (
            inst.devices or inst.migration_context is not None
        ):
            out.append(f"deleted {inst.id} still holds devices or a MigrationContext")
    expected = spec.holds(s)
    for k, h in enumerate(spec.cloud.hosts):
        if not any(expected[k]) and any(s.usage[k]):
            got = dict(zip(RESOURCE_CLASSES, s.usage[k], strict=True))
            out.append(f"{h.name} holds nothing for anyone but its usage is {got}")
    return out


# auxiliary (strengthening) invariants


def _context_matches(spec: Spec, s: State) -> list[str]:
    """An instance has a MigrationContext iff its in-progress move has claimed (I7)."""
    out = []
    for inst in s.instances:
        if inst is None or inst.vm_state == VM_DELETED:
            continue
        m = spec.in_progress_of(s, inst.id)
        claimed = m is not None and not (m.migration_type == EVACUATION and m.status == "accepted")
        mc = inst.migration_context
        if claimed and (mc is None or mc.migration_id != m.id):
            out.append(f"{inst.id} is moving with {m.id} but its MigrationContext is {mc}")
        if not claimed and mc is not None:
            out.append(f"{inst.id} has a MigrationContext for {mc.migration_id} but no claimed move")
        resizing = m is not None and m.migration_type in (RESIZE, "migration")
        if not resizing and (inst.old_flavor is not None or inst.new_flavor is not None):
            out.append(f"{inst.id} has old/new flavor set but is not resizing")
        want_resized = resizing and m.status in ("finished", "confirming", "reverting")
        if (inst.vm_state == VM_RESIZED) != want_resized:
            out.append(f"{inst.id} is {inst.vm_state} while its move is "
                       f"{m.status if m else 'absent'}")
    return out


def _evacuation_source_down(spec: Spec, s: State) -> list[str]:
    """An in-progress evacuation's source is down (host_up ends it)."""
    return [
        f"{m.id} is {m.status} but its source {m.source} is up"
        for m in _in_progress(spec, s)
        if m.migration_type == EVACUATION and spec.is_up(s, m.source)
    ]


def _moves_change_host(spec: Spec, s: State) -> list[str]:
    """Only a resize may stay on its host (same-host resize); names are known."""
    out = []
    for m in s.migrations:
        if m.source == m.dest and m.migration_type != RESIZE:
            out.append(f"{m.id} is a {m.migration_type} from {m.source} to itself")
        if m.migration_type == RESIZE and m.old_flavor == m.new_flavor:
            out.append(f"{m.id} is a resize that keeps flavor {m.old_flavor}")
    return out


# ----------------------------------------------------------------- two-state


def _status_graph(spec: Spec, before: State, step: Step, after: State) -> list[str]:
    if before.migrations is after.migrations:
        return []  # the step wrote no migration record
    out = []
    old = {m.id: m for m in before.migrations}
    new_ids = [m.id for m in after.migrations]
    for mid in old:
        if mid not in new_ids:
            out.append(f"{mid} disappeared")
    for m in after.migrations:
        prev = old.get(m.id)
        if prev is m:
            continue
        prev_status = NEW if prev is None else prev.status
        if prev is not None and prev._replace(status=m.status) != m:
            out.append(f"{m.id} changed a field other than its status")
        if prev_status == m.status:
            continue
        if prev_status in TERMINAL[m.migration_type]:
            out.append(f"{m.id} left terminal status {prev_status} for {m.status}")
        elif (prev_status, m.status) not in ALLOWED_EDGES[m.migration_type]:
            out.append(f"{m.id} ({m.migration_type}) went {prev_status} -> {m.status}, "
                       "not an edge of its status machine")
        elif step.kind not in edge_step_names(m.migration_type, prev_status, m.status):
            out.append(f"{m.id} went {prev_status} -> {m.status} by {step.kind}")
    return out


def _moved_to(before: State, after: State, status: str):
    if before.migrations is after.migrations:
        return []
    old = {m.id: m.status for m in before.migrations}
    return [m for m in after.migrations if m.status == status and old.get(m.id) != status]


def _frees(spec: Spec, before: State, after: State, host: str, flavor: str, what: str,
           devices: tuple[str, ...]) -> list[str]:
    out = []
    k = spec.host_index[host]
    want = tuple(b - n for b, n in zip(before.usage[k], spec.vec[flavor], strict=True))
    if after.usage[k] != want:
        out.append(f"{what}: {host} usage {after.usage[k]}, expected {want} "
                   f"(before {before.usage[k]} minus {flavor})")
    held = {(h, d) for h, d, _ in spec.device_holds(after)}
    out += [f"{what}: device {host}/{d} still held" for d in devices if (host, d) in held]
    return out


def _context_of(spec: Spec, s: State, mid: str):
    for inst in s.instances:
        if inst is not None and inst.migration_context and inst.migration_context.migration_id == mid:
            return inst.migration_context
    return None


def _confirm_frees_source(spec: Spec, before: State, step: Step, after: State) -> list[str]:
    out = []
    for m in _moved_to(before, after, "confirmed"):
        mc = _context_of(spec, before, m.id)
        out += _frees(spec, before, after, m.source, m.old_flavor, f"confirm of {m.id}",
                      mc.old_devices if mc and not m.is_same_host else ())
    return out


def _revert_frees_dest(spec: Spec, before: State, step: Step, after: State) -> list[str]:
    out = []
    for m in _moved_to(before, after, "reverted"):
        mc = _context_of(spec, before, m.id)
        out += _frees(spec, before, after, m.dest, m.new_flavor, f"revert of {m.id}",
                      mc.new_devices if mc else ())
        inst = spec.instance(after, m.instance)
        if inst.host != m.source or inst.flavor != m.old_flavor:
            out.append(f"revert of {m.id}: {inst.id} is on {inst.host} with {inst.flavor}, "
                       f"expected {m.source} with {m.old_flavor}")
    return out


def _evacuation_source_hold(spec: Spec, before: State, step: Step, after: State) -> list[str]:
    out = []
    after_by_id = {m.id: m for m in after.migrations}
    freed: dict[str, tuple[int, ...]] = {}  # source host -> what the step must free there
    for m in before.migrations:
        if m.migration_type != EVACUATION or m.status in TERMINAL[EVACUATION]:
            continue
        m2 = after_by_id[m.id]
        k = spec.host_index[m.source]
        if m2.status == "completed":
            if step.kind != "host_up" or step.host != m.source:
                out.append(f"{m.id} completed by {step} instead of host_up({m.source})")
            if m.status == "done":
                v = freed.get(m.source, (0,) * len(RESOURCE_CLASSES))
                freed[m.source] = tuple(a + b for a, b in zip(v, spec.vec[m.old_flavor],
                                                              strict=True))
        # delete, fail and another host's restart roll back OTHER moves, which may
        # release their claims on this down host; this move's own hold stays.
        elif (step.kind not in ("delete", "fail", "host_up") and not spec.is_up(after, m.source)
              and after.usage[k] != before.usage[k]):
            out.append(f"{m.source} is down with {m.id} {m2.status} but its usage changed "
                       f"from {before.usage[k]} to {after.usage[k]} by {step}")
    for host, v in freed.items():
        k = spec.host_index[host]
        want = tuple(b - n for b, n in zip(before.usage[k], v, strict=True))
        if after.usage[k] != want:
            out.append(f"source clean-up on {host}: usage {after.usage[k]}, expected {want}")
    return out


_I = Invariant

#: Every invariant of the spec, by name, in report order.
INVARIANTS: dict[str, Invariant] = {
    i.name: i
    for i in [
        _I("capacity", "state",
           "per host and resource class: usage <= (total - reserved) x allocation_ratio",
           ("1417667", "1549984", "1845146", "1791075"), False, _capacity),
        _I("conservation", "state",
           "tracked usage = the audit's recomputation from instances + in-progress migrations "
           "(the reconciliation equation)",
           ("1519001", "1543123", "1583720", "1600304", "1879878", "1896463", "1944759",
            "1953359", "1834349"), False, _conservation),
        _I("exactly_once", "state",
           "an in-progress move holds the new flavor on dest exactly once until the instance "
           "lands and the old flavor on source exactly once after it leaves (same host: old + "
           "new); the instance is where its migration's status says",
           ("1600304", "1519001", "1845146", "1791075", "1944759"), False, _exactly_once),
        _I("devices_exclusive", "state",
           "a device is held by at most one consumer, on its own host, and matches the "
           "MigrationContext",
           ("1549984", "1607219", "1641750", "1368201", "1512880", "1893221"), False,
           _devices_exclusive),
        _I("single_move", "state", "at most one in-progress migration per instance",
           ("1600304", "1611458"), False, _single_move),
        _I("no_ghosts", "state",
           "deleted instances and finished migrations hold nothing",
           ("1543123", "1583720", "1545675", "1707071", "1712045", "1794996"), False, _no_ghosts),
        _I("non_negative", "state", "no usage below zero", ("1879878", "1587386"), False,
           _non_negative),
        _I("context_matches", "state",
           "an instance has a MigrationContext exactly while its in-progress move has claimed, "
           "naming that migration; old/new flavor only while resizing; vm_state resized "
           "exactly from finished until confirmed or reverted",
           ("1600304", "1834349"), True, _context_matches),
        _I("evacuation_source_down", "state",
           "an in-progress evacuation's source host is down",
           ("1518200", "1764883"), True, _evacuation_source_down),
        _I("moves_change_host", "state",
           "only a resize may keep its host (same-host resize); a resize changes the flavor",
           (), True, _moves_change_host),
        _I("status_graph", "transition",
           "statuses change only along the type's edges, by the steps that label them; "
           "terminal statuses absorb; migration records never change otherwise",
           ("1518200", "1879878", "1543123"), False, _status_graph),
        _I("confirm_frees_source", "transition",
           "the step that confirms a migration frees exactly the old flavor and old devices "
           "on the source",
           ("1647370", "1818914", "1641750", "1707071", "1585214"), False, _confirm_frees_source),
        _I("revert_frees_dest", "transition",
           "the step that reverts a migration frees exactly the new flavor and new devices on "
           "the dest, and puts the instance back on the source with the old flavor",
           ("1607219", "1709902", "1879878"), False, _revert_frees_dest),
        _I("evacuation_source_hold", "transition",
           "while an evacuation is in progress its down source keeps its hold; only the "
           "source's restart completes it, freeing exactly the flavor",
           ("1518200", "1712850", "1764883", "1896463"), False, _evacuation_source_hold),
    ]
}

STATE_INVARIANTS = tuple(n for n, i in INVARIANTS.items() if i.kind == "state")
TRANSITION_INVARIANTS = tuple(n for n, i in INVARIANTS.items() if i.kind == "transition")


def violations(spec: Spec, state: State) -> dict[str, list[str]]:
    """The one-state invariants ``state`` breaks, with messages ({} when all hold)."""
    out = {}
    for name in STATE_INVARIANTS:
        msgs = INVARIANTS[name].check(spec, state)
        if msgs:
            out[name] = msgs
    return out


def transition_violations(spec: Spec, before: State, step: Step, after: State) -> dict[str, list[str]]:
    """The two-state properties the transition ``before --step--> after`` breaks."""
    out = {}
    for name in TRANSITION_INVARIANTS:
        msgs = INVARIANTS[name].check(spec, before, step, after)
        if msgs:
            out[name] = msgs
    return out


def bugs_for(names) -> list[str]:
    """The Nova bug IDs the named invariants guard against, sorted, without repeats."""
    return sorted({b for n in names for b in INVARIANTS[n].bugs})


__all__ = [
    "INVARIANTS", "STATE_INVARIANTS", "TRANSITION_INVARIANTS", "Invariant", "violations",
    "transition_violations", "bugs_for",
]
