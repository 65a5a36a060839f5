"""The records the reference tracker keeps in its database, shaped like Nova's objects.

``InstanceRecord`` stands for ``nova/objects/instance.py`` (the fields move
accounting reads: host, flavor, old_flavor / new_flavor, pci_devices,
migration_context), ``MigrationRecord`` for ``nova/objects/migration.py``.
They are mutable, as Nova objects are: a step loads a record, changes fields
and saves it through :class:`movecheck.model.store.Store`.

Status sets below are the model's own reading of Nova's DB API filters
(``nova/db/main/api.py`` ``migration_get_in_progress_by_host_and_node``,
``nova/compute/resource_tracker.py`` ``_update_usage_from_migrations``), written
independently of :mod:`movecheck.spec.statuses`.
"""

from __future__ import annotations

from dataclasses import dataclass

from movecheck.spec.vocab import MigrationContext

#: Statuses after which a migration is over: the DB API's "not in progress" list
#: (confirmed/reverted/error since Kilo, failed 0f8f854c26, completed e5b8060c08,
#: cancelled 58cb7e56db, and ``done``: Nova 34's
#: ``migration_get_in_progress_and_error_by_host_and_node`` in ``nova/db/main/api.py``
#: leaves it out).  A ``done`` evacuation is finished; the down source's hold is a
#: separate fact, held until the source's ``_destroy_evacuated_instances``
#: (:attr:`MigrationRecord.source_cleaned`).
FINISHED_STATUSES = frozenset({"confirmed", "reverted", "error", "failed", "completed", "cancelled",
                               "done"})

#: Evacuation statuses the restarted source cleans up (``nova/compute/manager.py``
#: ``ComputeManager._destroy_evacuated_instances``: ``accepted``, ``pre-migrating``
#: since bug 1764883, ``done`` since bug 1518200).
EVACUATION_CLEANED_UP = ("accepted", "pre-migrating", "done")

#: Statuses in which the instance has left the source: the source compute set
#: ``instance.host := dest`` (``_resize_instance``; ``rebuild_instance`` for an
#: evacuation), so the source holds the old flavor for the migration.
LANDED_STATUSES = frozenset({"post-migrating", "finished", "confirming", "reverting", "done"})

#: Migration types whose old/new flavor live on the instance (``Migration.is_resize``;
#: ``ResourceTracker._get_flavor`` reads ``instance.old_flavor``/``new_flavor`` for them).
RESIZE_TYPES = frozenset({"resize"})

#: Statuses of a move that has not claimed on the destination yet (a live
#: migration's claim comes with ``accepted`` but its failure there is the
#: conductor's: ``ComputeTaskManager._live_migrate``).
BEFORE_CLAIM = frozenset({"accepted"})


def failure_status(m: MigrationRecord) -> str:
    """The status a failure writes, by type and phase (Nova 34):

    - resize and cold migration: ``error`` (``compute/manager.py``
      ``errors_out_migration``, ``conductor/tasks/migrate.py`` ``MigrationTask.rollback``);
    - live migration: ``error`` in the conductor's prechecks (``accepted``,
      ``conductor/manager.py`` ``ComputeTaskManager._live_migrate``), ``failed``
      once ``_rollback_live_migration`` has cleaned up (its default
      ``migration_status``);
    - evacuation: ``error`` in the conductor before the destination claims
      (``ComputeTaskManager.rebuild_instance``), ``failed`` after
      (``ComputeManager.rebuild_instance``).
    """
    if m.migration_type in ("resize", "migration") or m.status in BEFORE_CLAIM:
        return "error"
    return "failed"


def fail_errors_instance(m: MigrationRecord) -> bool:
    """A failure of ``m`` leaves the instance's vm_state ERROR: a resize, cold
    migration or evacuation (``ComputeManager._error_out_instance_on_exception``;
    before an evacuation's claim, the conductor's NoValidHost,
    ``ComputeTaskManager.rebuild_instance``); a live-migration rollback keeps the
    vm_state (``_rollback_live_migration``)."""
    return m.migration_type != "live-migration"


@dataclass(slots=True)
class InstanceRecord:
    """One row of the ``instances`` table (plus ``instance_extra.migration_context``)."""

    uuid: str
    vm_state: str
    host: str
    flavor: str
    old_flavor: str | None = None
    new_flavor: str | None = None
    pci_devices: tuple[str, ...] = ()
    migration_context: MigrationContext | None = None


@dataclass(slots=True)
class MigrationRecord:
    """One row of the ``migrations`` table.  ``id`` is the autoincrement key: newer is larger."""

    uuid: str
    instance_uuid: str
    migration_type: str
    source_compute: str
    dest_compute: str
    old_flavor: str
    new_flavor: str
    status: str
    id: int = 0
    #: The source's ``_destroy_evacuated_instances`` ran for this evacuation: the
    #: source is out of the instance's Placement allocation
    #: (``remove_provider_tree_from_instance_allocation``).  Nova keeps this fact in
    #: Placement; the reference cloud has no Placement, so the record keeps it.
    source_cleaned: bool = False

    @property
    def is_resize(self) -> bool:
        return self.migration_type in RESIZE_TYPES

    @property
    def is_same_host(self) -> bool:
        """``Migration.is_same_host_resize`` (any type here): source node == dest node."""
        return self.source_compute == self.dest_compute
