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
#: cancelled 58cb7e56db).  ``done`` is *not* here: an evacuation that is done
#: still holds the down source until it restarts (``nova/compute/manager.py``
#: ``_destroy_evacuated_instances``).
FINISHED_STATUSES = frozenset({"confirmed", "reverted", "error", "failed", "completed", "cancelled"})

#: Statuses in which the instance has left the source: the source compute set
#: ``instance.host := dest`` (``_resize_instance``; ``rebuild_instance`` for an
#: evacuation), so the source holds the old flavor for the migration.
LANDED_STATUSES = frozenset({"post-migrating", "finished", "confirming", "reverting", "done"})

#: Migration types whose old/new flavor live on the instance (``Migration.is_resize``;
#: ``ResourceTracker._get_flavor`` reads ``instance.old_flavor``/``new_flavor`` for them).
RESIZE_TYPES = frozenset({"resize"})

#: The status a failed move ends in (``errors_out_migration``; ``_rollback_live_migration``).
FAILED_STATUS = {"resize": "error", "migration": "error", "live-migration": "failed",
                 "evacuation": "error"}


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

    @property
    def is_resize(self) -> bool:
        return self.migration_type in RESIZE_TYPES

    @property
    def is_same_host(self) -> bool:
        """``Migration.is_same_host_resize`` (any type here): source node == dest node."""
        return self.source_compute == self.dest_compute
