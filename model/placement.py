"""The allocations Placement holds per consumer, read from the reference cloud's records.

The reference cloud keeps no Placement; this is what Nova's report client
would have written by now (``nova/scheduler/client/report.py``), read from the
instance and migration records the way Nova's conductor and compute managers
write allocations since Queens:

- ``conductor/tasks/migrate.py`` ``replace_allocation_with_migration`` moves the
  instance's source allocation to the migration's uuid before scheduling a
  resize or cold migration (``conductor/tasks/live_migrate.py`` does the same
  for a live migration), and the scheduler allocates the new flavor on the
  destination to the instance; confirm and live completion delete the
  migration's allocation, revert and rollback move it back to the instance;
- an evacuation has no migration consumer: the scheduler adds the destination
  to the instance's allocation (the claim, here ``rebuild_claim``), and the
  source's ``_destroy_evacuated_instances`` removes the source when it restarts
  (``remove_provider_tree_from_instance_allocation``), whether the rebuild has
  finished (``done``) or not (``accepted``, ``pre-migrating``: the instance then
  holds only what the destination claimed).

Written from the records alone, independently of :mod:`movecheck.spec.allocations`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movecheck.spec.vocab import RESOURCE_CLASSES

if TYPE_CHECKING:
    from movecheck.model.compute import NovaCloud

#: Evacuation statuses in which the destination has claimed (until the source cleans up,
#: the instance holds both hosts).
_EVACUATION_CLAIMED = frozenset({"pre-migrating", "done"})

#: Statuses whose allocation writes are done: confirm and completion deleted the
#: migration's allocation, revert, rollback and failure moved it back.  Placement's
#: own reading, not the resource tracker's in-progress filter (which the bug
#: catalogue changes: bug 1543123's audit counts a failed move, Placement does not).
_ENDED = frozenset({"confirmed", "reverted", "error", "failed", "completed", "cancelled", "done"})


def placement_allocations(nova: NovaCloud) -> dict[str, dict[str, dict[str, int]]]:
    """{consumer: {host: {resource class: amount}}}, zero amounts left out."""
    store, vector = nova.store, nova.flavors.vector
    out: dict[str, dict[str, dict[str, int]]] = {}

    def add(consumer: str, host: str, flavor: str) -> None:
        per = out.setdefault(consumer, {}).setdefault(host, {})
        for rc, n in zip(RESOURCE_CLASSES, vector[flavor], strict=True):
            if n:
                per[rc] = per.get(rc, 0) + n

    moves: dict[str, object] = {}
    for mid in store.migration_statuses():  # oldest first: the newest per instance wins
        m = store.migration(mid)
        moves[m.instance_uuid] = m
    for uuid in store.instance_hosts():
        inst = store.instance(uuid)
        m = moves.get(uuid)
        for e in store.evacuations_of(uuid):  # a done evacuation's source not yet cleaned up
            if (m is None or e.uuid != m.uuid) and e.status == "done" and not e.source_cleaned:
                add(uuid, e.source_compute, e.old_flavor)
        if m is not None and m.migration_type == "evacuation":
            mc = inst.migration_context
            claimed = mc is not None and mc.migration_id == m.uuid
            if m.source_cleaned and inst.host == m.source_compute:
                if claimed:  # the source cleaned up before the rebuild finished
                    add(uuid, m.dest_compute, m.new_flavor)
            elif not m.source_cleaned and m.status in _EVACUATION_CLAIMED:
                add(uuid, m.source_compute, m.old_flavor)
                add(uuid, m.dest_compute, m.new_flavor)
            else:
                add(uuid, inst.host, inst.flavor)
            continue
        if m is not None and m.status in _ENDED:
            m = None
        if m is None:
            add(uuid, inst.host, inst.flavor)
        else:
            add(m.uuid, m.source_compute, m.old_flavor)
            add(uuid, m.dest_compute, m.new_flavor)
    return {c: {h: r for h, r in hosts.items() if r} for c, hosts in out.items()
            if any(hosts.values())}
