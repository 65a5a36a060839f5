"""Bug 1607219: a reverted resize keeps the new PCI devices on the destination.

Fixed by 3ca3a2d8ce: the revert dropped the new flavor's
usage on the destination but not the devices claimed for it.

The change: ``ResourceTracker.drop_move_claim_at_dest`` frees no devices on revert.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1607219",)
FIXED_BY = ("3ca3a2d8ce",)
SUMMARY = "a revert keeps the new devices on the destination"


class RevertKeepsDevices(ResourceTracker):
    def drop_move_claim_at_dest(self, instance, migration, status):
        with self.store.transaction(), self.lock:
            mc = instance.migration_context
            migration.status = status
            self.store.save_migration_status(migration)
            self._add_usage(self._new_flavor(instance, migration), -1)
            if status != "reverted":  # the bug: a revert forgets mc.new_devices
                self._free_pci(mc.new_devices)
            self.tracked_migrations.pop(migration.uuid, None)
            self._update()


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=RevertKeepsDevices)


def factory():
    return Tracker()
