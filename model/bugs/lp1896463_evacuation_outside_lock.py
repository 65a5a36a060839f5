"""Bug 1896463: an evacuation is finished outside the lock.

Fixed by 7675964af8 (Wallaby 23.0.0): ``rebuild_instance`` set
``instance.host`` and dropped the MigrationContext without the lock; an audit
that had read the instance list before and the migrations after lost the
evacuated instance on the destination.

The change: ``finish_evacuation`` runs outside the lock with the periodic
audit around it (instances read before, migrations after - the interleaving
of the bug report, made deterministic), and drops the MigrationContext.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1896463",)
FIXED_BY = ("7675964af8",)
SUMMARY = "finishing an evacuation outside the lock loses the instance in a racing audit"


class EvacuationOutsideLock(ResourceTracker):
    def finish_evacuation(self, instance, migration):
        with self.store.transaction(), self.lock:  # the audit reads the instances...
            instances = self.store.instances_on_host(self.host)
        # ... while rebuild_instance, without the lock, moves the instance here
        instance.host = self.host
        instance.pci_devices = instance.migration_context.new_devices
        instance.migration_context = None
        self.store.save_instance(instance)
        migration.status = "done"
        self.store.save_migration_status(migration)
        with self.store.transaction(), self.lock:  # ... and then the audit reads the migrations
            migrations = self.store.migrations_by_host(self.host, self.AUDIT_EXCLUDED_STATUSES)
            self._update_available_resource(instances, migrations)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=EvacuationOutsideLock)


def factory():
    return Tracker()
