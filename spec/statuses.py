"""The migration status machine of each migration type, kept as data.

Nova never merged a migration state machine (reviews 197668/197669 were
abandoned; ``Migration.status`` is still a free string in Nova's migration object,
``nova/objects/migration.py``).  These graphs are movecheck's reading of the de-facto graph that Nova's
status writers produce, restricted to the steps of docs/spec.md ("Steps"), and
they are the single source used by the spec (``status_graph`` invariant), the
docs and the ``graph`` command.

Each graph is a ``networkx.DiGraph`` whose nodes are statuses (plus the
pseudo-status :data:`NEW` for "no record yet") and whose edges carry
``steps`` (the step names that take the edge), ``failure`` (True for the
failure and rollback edges) and ``rewrite`` (True for an edge out of a finished
status: Nova writes over a record it considers over).  Node attributes: ``initial``, ``terminal``
(absorbing), ``finished`` (the move is over).
"""

from __future__ import annotations

import networkx as nx

from movecheck.spec.vocab import EVACUATION, LIVE_MIGRATION, MIGRATION, RESIZE

#: Pseudo-status before a migration record exists.
NEW = "∅"

_FAIL = ("fail", "delete")

# (source status, target status, steps, failure?) per type.  The order of the
# rows is the order in which docs and pictures list the edges.
_RESIZE_EDGES = [
    (NEW, "pre-migrating", ("resize_claim",), False),
    # the scheduler refused: MigrationTask.rollback ends the record written before
    # scheduling (the step is rejected)
    (NEW, "error", ("resize_claim",), True),
    ("pre-migrating", "migrating", ("resize_migrate",), False),
    ("migrating", "post-migrating", ("resize_migrated",), False),
    ("post-migrating", "finished", ("finish_resize",), False),
    ("finished", "confirming", ("confirm",), False),
    ("confirming", "confirmed", ("confirm_finish", "delete"), False),
    ("finished", "reverting", ("revert",), False),
    ("reverting", "reverted", ("revert_finish",), False),
    # Deleting a RESIZED instance confirms its resize first
    # (compute/api.py API._confirm_resize_on_deleting).
    ("finished", "confirmed", ("delete",), False),
] + [
    (s, "error", _FAIL, True)
    for s in ("pre-migrating", "migrating", "post-migrating", "reverting")
] + [(s, "error", ("fail",), True) for s in ("finished", "confirming")] + [
    # ComputeManager._cleanup_incomplete_migrations (a periodic, folded into audit):
    # the error migration of a deleted instance, on a host of it other than the
    # instance's, becomes failed.
    ("error", "failed", ("audit",), True),
]

_LIVE_EDGES = [
    (NEW, "accepted", ("live_claim",), False),
    # the conductor's prechecks refused: ComputeTaskManager._live_migrate (rejected)
    (NEW, "error", ("live_claim",), True),
    ("accepted", "queued", ("live_queue",), False),
    ("queued", "preparing", ("live_prepare",), False),
    ("preparing", "running", ("live_run",), False),
    ("running", "completed", ("live_complete",), False),
] + [(s, "cancelled", ("live_abort",), True) for s in ("queued", "preparing", "running")] + [
    # the conductor's prechecks write error (ComputeTaskManager._live_migrate); the
    # rollback after the claim writes failed (_rollback_live_migration's default)
    ("accepted", "error", _FAIL, True),
] + [
    (s, "failed", _FAIL, True) for s in ("queued", "preparing", "running")
] + [("error", "failed", ("audit",), True)]

_EVACUATION_EDGES = [
    (NEW, "accepted", ("evacuate_start",), False),
    ("accepted", "pre-migrating", ("rebuild_claim",), False),
    ("pre-migrating", "done", ("finish_evacuation",), False),
    # The source's restart: ComputeManager._destroy_evacuated_instances takes
    # accepted, pre-migrating (bug 1764883) and done evacuations alike.
    ("done", "completed", ("host_up",), False),
    ("accepted", "completed", ("host_up",), False),
    ("pre-migrating", "completed", ("host_up",), False),
    # The destination is not told and carries on (Migration.save has no
    # compare-and-swap): ResourceTracker._claim_existing_migration, then
    # finish_evacuation (test_bug_1764883 ends done).
    ("completed", "pre-migrating", ("rebuild_claim",), False),
    ("completed", "done", ("finish_evacuation",), False),
    # the conductor finds no host: error (ComputeTaskManager.rebuild_instance; a
    # rebuild_claim the scheduler refused is rejected and writes it too); the
    # compute's rebuild_instance fails after the claim: failed
    ("accepted", "error", _FAIL + ("rebuild_claim",), True),
    ("pre-migrating", "failed", _FAIL, True),
    ("error", "failed", ("audit",), True),
]

#: Absorbing statuses per type: no edge leaves them.
_TERMINAL = {
    RESIZE: ("confirmed", "reverted", "failed"),
    MIGRATION: ("confirmed", "reverted", "failed"),
    LIVE_MIGRATION: ("completed", "cancelled", "failed"),
    EVACUATION: ("failed",),
}

#: Statuses in which the move is over (not in progress): Nova's audit leaves them
#: out (``db/main/api.py`` ``migration_get_in_progress_and_error_by_host_and_node``:
#: confirmed, reverted, failed, completed, cancelled, done), plus ``error``, which
#: holds nothing at the Placement level (docs/spec.md).  An evacuation's
#: ``done`` and ``completed`` are finished but not terminal: the source's restart
#: writes ``completed`` over ``done``, and a destination that had not landed when
#: the source came back writes ``pre-migrating`` / ``done`` over ``completed``.
_FINISHED = {
    RESIZE: ("confirmed", "reverted", "error", "failed"),
    MIGRATION: ("confirmed", "reverted", "error", "failed"),
    LIVE_MIGRATION: ("completed", "cancelled", "error", "failed"),
    EVACUATION: ("done", "completed", "error", "failed"),
}

_EDGES = {
    RESIZE: _RESIZE_EDGES,
    MIGRATION: _RESIZE_EDGES,
    LIVE_MIGRATION: _LIVE_EDGES,
    EVACUATION: _EVACUATION_EDGES,
}

#: Status a failed move ends in (docs/spec.md, "Status machines") after, and before,
#: the destination's claim: a resize or cold migration always ``error``
#: (``errors_out_migration``, ``MigrationTask.rollback``); a live migration or an
#: evacuation ``error`` while ``accepted`` (the conductor), ``failed`` after.
FAILURE_STATUS = {RESIZE: "error", MIGRATION: "error", LIVE_MIGRATION: "failed",
                  EVACUATION: "failed"}
FAILURE_STATUS_BEFORE_CLAIM = {RESIZE: "error", MIGRATION: "error", LIVE_MIGRATION: "error",
                               EVACUATION: "error"}

#: Statuses in which the instance has already landed on the destination:
#: from then on the source holds the old flavor for the migration
#: (``nova/compute/resource_tracker.py`` ``_update_usage_from_migration``;
#: ``nova/compute/manager.py`` rebuild sets "done").
LANDED = {
    RESIZE: frozenset({"post-migrating", "finished", "confirming", "reverting"}),
    MIGRATION: frozenset({"post-migrating", "finished", "confirming", "reverting"}),
    LIVE_MIGRATION: frozenset(),
    EVACUATION: frozenset(),  # done is finished: the source's hold is the slot's wait
}

#: Statuses in which the destination holds a claim for a migration that has not landed.
DEST_CLAIMED = {
    RESIZE: frozenset({"pre-migrating", "migrating"}),
    MIGRATION: frozenset({"pre-migrating", "migrating"}),
    LIVE_MIGRATION: frozenset({"accepted", "queued", "preparing", "running"}),
    EVACUATION: frozenset({"pre-migrating"}),
}


def status_machine(migration_type: str) -> nx.DiGraph:
    """A fresh copy of the status machine of ``migration_type``."""
    g = nx.DiGraph(migration_type=migration_type)
    for src, dst, steps, failure in _EDGES[migration_type]:
        for node in (src, dst):
            if node not in g:
                g.add_node(
                    node,
                    initial=node == NEW,
                    terminal=node in _TERMINAL[migration_type],
                    finished=node in _FINISHED[migration_type],
                )
        # An edge out of a finished status rewrites a record Nova considers over
        # (Migration.save has no compare-and-swap): the graph analysis reports the
        # cycles these make apart from the machine's own.
        g.add_edge(src, dst, steps=steps, failure=failure,
                   rewrite=src != NEW and src in _FINISHED[migration_type])
    return g


#: One graph per type, built once; treat as read-only.
STATUS_MACHINES: dict[str, nx.DiGraph] = {t: status_machine(t) for t in _EDGES}

#: Terminal statuses per type (absorbing: no edge leaves them).
TERMINAL: dict[str, frozenset[str]] = {t: frozenset(s) for t, s in _TERMINAL.items()}

#: Finished statuses per type (the move is over; see ``_FINISHED``).
FINISHED: dict[str, frozenset[str]] = {t: frozenset(s) for t, s in _FINISHED.items()}

#: Every status of every type except the pseudo-status.
ALL_STATUSES: frozenset[str] = frozenset(
    n for g in STATUS_MACHINES.values() for n in g.nodes if n != NEW
)

#: Allowed (before, after) pairs per type, for the ``status_graph`` invariant.
ALLOWED_EDGES: dict[str, frozenset[tuple[str, str]]] = {
    t: frozenset(g.edges) for t, g in STATUS_MACHINES.items()
}


def in_progress(migration_type: str, status: str) -> bool:
    """True while the migration's status is not a finished one (the record alone: an
    evacuation whose source came back early is still in progress with status
    ``completed``; ``movecheck.spec.steps.in_progress`` reads the slot)."""
    return status not in FINISHED[migration_type]


def edge_step_names(migration_type: str, before: str, after: str) -> tuple[str, ...]:
    """The step names that label the edge ``before -> after`` (empty if none)."""
    g = STATUS_MACHINES[migration_type]
    if g.has_edge(before, after):
        return g.edges[before, after]["steps"]
    return ()
