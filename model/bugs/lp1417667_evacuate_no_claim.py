"""Bug 1417667: an evacuation does not claim on the destination.

Fixed by dc0221d724 and 4ee4f9f2ec (Liberty 12.0.0): ``rebuild_instance`` ran
without a claim, so the destination never counted the evacuated instance (nor
tested that it fits) until the next audit.

The change: ``ResourceTracker.rebuild_claim`` is a ``NopClaim`` - it writes the
status and a MigrationContext but takes no usage and no devices.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import MoveClaim, ResourceTracker
from movecheck.spec.vocab import MigrationContext

BUGS = ("1417667",)
FIXED_BY = ("dc0221d724", "4ee4f9f2ec")
SUMMARY = "an evacuation does not claim on the destination"


class RebuildWithoutClaim(ResourceTracker):
    def rebuild_claim(self, instance, migration):
        with self.store.transaction(), self.lock:
            migration.status = "pre-migrating"
            self.store.save_migration_status(migration)
            # The bug: no claim test, no usage, no devices.
            instance.migration_context = MigrationContext(migration.uuid, instance.pci_devices, ())
            self.store.save_instance(instance)
            return MoveClaim(self, instance, migration, instance.flavor, ())


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=RebuildWithoutClaim)


def factory():
    return Tracker()
