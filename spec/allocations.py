"""Placement's allocations per consumer, as the spec expects them, and the
observation invariants over a tracker's reported allocations.

Since Queens (``nova/conductor/tasks/migrate.py`` ``replace_allocation_with_migration``,
``nova/scheduler/client/report.py`` ``move_allocations``) Placement holds a
move's resources under two consumers:

- a resize, cold or live migration: the **migration** consumer holds the old
  flavor on the source and the **instance** consumer holds the new flavor on
  the destination, from the claim until confirm, revert, completion, abort or
  failure (a same-host resize: both on the one host);
- an evacuation has no migration consumer: the **instance** holds the flavor on
  both hosts from the destination's claim until the source's clean-up
  (``ComputeManager._destroy_evacuated_instances`` →
  ``remove_provider_tree_from_instance_allocation``), even after the evacuation is
  ``done`` and the instance has moved on ("waiting for the source's clean-up"), or
  until the destination's failure (``rebuild_instance`` →
  ``delete_allocation_for_evacuated_instance``); a source that came back before the
  rebuild finished has dropped its share, the destination keeps its own;
- otherwise an instance that exists holds its flavor on its host.

The figures are the spec's own, read from its rules (``movecheck.spec.steps``
``charges``: the instance's flavor on its host, what its migration holds apart
from it, and what a source it waits for still holds), split by consumer: they
add up to the spec's usage, which is Placement-level usage (docs/spec.md, "Two
levels of usage").

An observation's ``allocations`` is ``{consumer: {host: {resource class: int}}}``
where a consumer is an instance id or a migration id of the cloud; amounts of
zero and empty entries are left out (Placement stores no empty allocation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from movecheck.spec.state import TY
from movecheck.spec.steps import alive, charges, in_progress, migration_hold
from movecheck.spec.vocab import EVACUATION, RESOURCE_CLASSES, VM_DELETED, Cloud

#: {consumer: {host: {resource class: amount}}}
Allocations = dict[str, dict[str, dict[str, int]]]

#: Levels at which a tracker's ``usage`` is kept (the adapter's ``usage_level``).
#: ``placement``: what Placement's usages say, the sum of the allocations, exact
#: after every step.  ``compute_node``: Nova's ComputeNode counters, which catch
#: up only at the next ``update_available_resource`` (docs/spec.md).
PLACEMENT = "placement"
COMPUTE_NODE = "compute_node"
USAGE_LEVELS = (PLACEMENT, COMPUTE_NODE)


def _add(out: Allocations, consumer: str, host: str, vector: tuple[int, ...]) -> None:
    per = out.setdefault(consumer, {}).setdefault(host, dict.fromkeys(RESOURCE_CLASSES, 0))
    for rc, n in zip(RESOURCE_CLASSES, vector, strict=True):
        per[rc] += n


def normalized(allocations: Mapping[str, Mapping[str, Mapping[str, int]]]) -> Allocations:
    """The same allocations without zero amounts, empty hosts or empty consumers."""
    out: Allocations = {}
    for consumer, per_host in allocations.items():
        hosts = {h: {rc: n for rc, n in res.items() if n} for h, res in per_host.items()}
        hosts = {h: res for h, res in hosts.items() if res}
        if hosts:
            out[consumer] = hosts
    return out


def _split_by_migration(sl) -> bool:
    """The slot's move holds its source under the migration consumer (Queens): a
    resize, cold or live migration whose migration holds something."""
    return bool(migration_hold(sl)[0]) and sl.mtype != TY[EVACUATION]


def expected_allocations(spec: Any, state: Any) -> Allocations:
    """Placement's allocations per consumer in a spec state (see the module docstring)."""
    vec = spec.vec
    out: Allocations = {}
    for sl in state.slots:
        if not alive(sl):
            continue
        if _split_by_migration(sl):
            # Queens' split: the migration keeps the source, the instance the dest.
            _add(out, sl.mid, sl.msrc, vec[sl.mold])
            _add(out, sl.iid, sl.mdst, vec[sl.mnew])
            if sl.wx:
                _add(out, sl.iid, sl.wsrc, vec[sl.wflv])
            continue
        for c, host, flavor in charges(spec, sl):  # an evacuation doubles the instance's
            if c:
                _add(out, sl.iid, host, vec[flavor])
    return normalized(out)


def _holding_hosts(spec: Any, sl) -> set[str]:
    """The hosts on which the slot's instance may hold an allocation."""
    hosts = {sl.host}
    if _split_by_migration(sl):
        hosts.add(sl.mdst)
    return hosts | {host for c, host, _ in charges(spec, sl) if c}


def allocation_usage(cloud: Cloud, allocations: Allocations) -> dict[str, dict[str, int]]:
    """Per host the sum of the allocations against it (Placement's /usages)."""
    usage = {h: dict.fromkeys(RESOURCE_CLASSES, 0) for h in cloud.host_names}
    for per_host in allocations.values():
        for host, res in per_host.items():
            for rc, n in res.items():
                usage.setdefault(host, dict.fromkeys(RESOURCE_CLASSES, 0))[rc] += n
    return usage


def compute_node_usage(spec: Any, state: Any, host: str) -> dict[str, int]:
    """What Nova's ComputeNode counters of ``host`` hold right after its audit.

    The same as the spec's (Placement-level) usage but for one window: between
    ``resize_instance`` (status post-migrating, instance.host := dest) and
    ``finish_resize`` the destination's audit charges ``instance.flavor``, which
    is still the OLD flavor (``ResourceTracker._update_available_resource``
    applies the MigrationContext, and ``Instance.apply_migration_context`` copies
    only numa_topology, pci_requests, pci_devices and resources — bug 1953359's
    fix, commit 32c1044d86, is about NUMA and PCI; the flavor is set by
    ``ComputeManager._finish_resize``).  A same-host resize holds old + new
    either way.
    """
    placement = allocation_usage(spec.cloud, expected_allocations(spec, state))[host]
    usage = [placement[rc] for rc in RESOURCE_CLASSES]
    for m in state.migrations:
        if m.status == "post-migrating" and m.dest == host and m.source != m.dest:
            old, new = spec.vec[m.old_flavor], spec.vec[m.new_flavor]
            usage = [u - n + o for u, n, o in zip(usage, new, old, strict=True)]
    return dict(zip(RESOURCE_CLASSES, usage, strict=True))


# ---------------------------------------------------------------------- bad input


def allocation_error(cloud: Cloud, allocations: Any) -> str | None:
    """None if ``allocations`` has the published shape for ``cloud``; else one
    sentence naming the consumer and host at fault (bad input: exit 2)."""
    if not isinstance(allocations, Mapping):
        return ("the observation's allocations must be an object "
                "{consumer: {host: {resource class: int}}}, not " + type(allocations).__name__)
    consumers = set(cloud.instances) | set(cloud.migration_ids())
    hosts = set(cloud.host_names)
    for consumer, per_host in allocations.items():
        if consumer not in consumers:
            return (f"allocations of consumer {consumer!r}: not an instance or a migration id "
                    f"of the cloud")
        if not isinstance(per_host, Mapping):
            return (f"allocations of consumer {consumer}: must be an object "
                    f"{{host: {{resource class: int}}}}, not {per_host!r}")
        for host, res in per_host.items():
            if host not in hosts:
                return f"allocations of consumer {consumer} name host {host!r}, not a host of the cloud"
            if not isinstance(res, Mapping):
                return (f"allocations of consumer {consumer} on host {host}: must be an object "
                        f"{{resource class: int}}, not {res!r}")
            for rc, n in res.items():
                if rc not in RESOURCE_CLASSES:
                    return (f"allocations of consumer {consumer} on host {host}: unknown "
                            f"resource class {rc!r} (one of {', '.join(RESOURCE_CLASSES)})")
                if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                    return (f"allocations of consumer {consumer} on host {host}: {rc} is {n!r}, "
                            f"not a whole number >= 0")
    return None


def consumer_clash(cloud: Cloud) -> str | None:
    """One sentence if an instance id is also a migration id (consumers would be ambiguous)."""
    clash = sorted(set(cloud.instances) & set(cloud.migration_ids()))
    if clash:
        return (f"instance id {clash[0]} is also a migration id: allocations name consumers "
                f"by id, so rename the instance")
    return None


# ---------------------------------------------------------------------- invariants


@dataclass(frozen=True)
class AllocationInvariant:
    """An invariant over an observation's allocations (checked on observations only)."""

    name: str
    statement: str
    bugs: tuple[str, ...]


ALLOCATION_INVARIANTS: dict[str, AllocationInvariant] = {
    i.name: i for i in (
        AllocationInvariant(
            "allocations_add_up",
            "per host and resource class, the allocations against the host add up to its "
            "usage (Placement's /usages is the sum of its allocations)",
            ()),
        AllocationInvariant(
            "allocations_no_ended_migration",
            "no allocation belongs to a migration that has ended (confirm, completion and "
            "rollback delete or move the migration consumer's allocation)",
            ("1707071", "1712045")),
        AllocationInvariant(
            "allocations_on_instance_host",
            "an instance's allocation is on the host it is on, plus its move's other side "
            "while the move holds it; a deleted instance holds none",
            ("1709902", "1712850")),
    )
}


def allocation_violations(spec: Any, state: Any, allocations: Allocations,
                          usage: Mapping[str, Mapping[str, int]] | None) -> dict[str, list[str]]:
    """The allocation invariants that the observed ``allocations`` break, read
    against the spec's records in ``state``; ``usage`` None skips
    ``allocations_add_up`` (compute-node-level usage is not a sum of allocations)."""
    found: dict[str, list[str]] = {}
    allocations = normalized(allocations)
    if usage is not None:
        summed = allocation_usage(spec.cloud, allocations)
        for host in spec.cloud.host_names:
            for rc in RESOURCE_CLASSES:
                u = (usage.get(host) or {}).get(rc, 0)
                if summed[host][rc] != u:
                    found.setdefault("allocations_add_up", []).append(
                        f"{host} {rc}: allocations add up to {summed[host][rc]}, usage is {u}")
    migrations = {m.id: m for m in state.migrations}
    moving = {sl.mid for sl in state.slots if sl.mx and in_progress(sl)}
    slots = {sl.iid: sl for sl in state.slots}
    instances = {i.id: i for i in state.instances if i is not None}
    for consumer, per_host in allocations.items():
        m = migrations.get(consumer)
        if consumer not in instances:
            if m is None or consumer not in moving:
                what = "does not exist" if m is None else f"is {m.status}"
                found.setdefault("allocations_no_ended_migration", []).append(
                    f"migration {consumer} {what} but holds {sorted(per_host)}")
            continue
        inst = instances[consumer]
        if inst.vm_state == VM_DELETED:
            found.setdefault("allocations_on_instance_host", []).append(
                f"instance {consumer} is deleted but holds {sorted(per_host)}")
            continue
        allowed = _holding_hosts(spec, slots[consumer])
        stray = sorted(set(per_host) - allowed)
        if stray:
            found.setdefault("allocations_on_instance_host", []).append(
                f"instance {consumer} is on {inst.host} but holds {', '.join(stray)}")
    return found


def bugs_for_names(names, state_bugs) -> list[str]:
    """Nova bug IDs for invariant names, allocation invariants included; ``state_bugs``
    maps the spec's own invariant names (``movecheck.spec.invariants.bugs_for``)."""
    own = [n for n in names if n not in ALLOCATION_INVARIANTS]
    bugs = set(state_bugs(own))
    for n in names:
        if n in ALLOCATION_INVARIANTS:
            bugs.update(ALLOCATION_INVARIANTS[n].bugs)
    return sorted(bugs)


__all__ = [
    "ALLOCATION_INVARIANTS", "COMPUTE_NODE", "PLACEMENT", "USAGE_LEVELS", "AllocationInvariant",
    "Allocations", "allocation_error", "allocation_usage", "allocation_violations",
    "bugs_for_names", "compute_node_usage", "consumer_clash", "expected_allocations",
    "normalized",
]
