"""Bug 1368201: a resize does not claim the new flavor's PCI devices on the destination.

Fixed by c2c3b97259 and 5129f48226 (with 2f073fd8df for bug 1512880): the
destination's ``resize_claim`` (``nova/compute/resource_tracker.py``
``_move_claim``) tested and claimed the new flavor's vCPUs, memory and disk
but never allocated PCI devices for it, so the resized instance kept pointing
at its source devices and the destination's devices stayed free for others.

The change: ``ResourceTracker.resize_claim`` neither tests nor claims devices;
the MigrationContext's new devices are the old ones.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import MoveClaim, ResourceTracker
from movecheck.spec.vocab import MigrationContext

BUGS = ("1368201",)
FIXED_BY = ("c2c3b97259", "5129f48226")
SUMMARY = "a resize claims no devices on the destination and keeps the source's"


class ResizeWithoutDevices(ResourceTracker):
    def resize_claim(self, instance, migration):
        flavor = migration.new_flavor
        with self.store.transaction(), self.lock:
            self._test_capacity(flavor)  # the bug: no _test_pci, no devices claimed
            self._add_usage(flavor, +1)
            migration.status = "pre-migrating"
            self.store.create_migration(migration)
            instance.migration_context = MigrationContext(
                migration.uuid, instance.pci_devices, instance.pci_devices)
            self.store.save_instance(instance)
            self.tracked_migrations[migration.uuid] = migration
            self._update(False)
            return MoveClaim(self, instance, migration, flavor, ())


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=ResizeWithoutDevices)


def factory():
    return Tracker()
