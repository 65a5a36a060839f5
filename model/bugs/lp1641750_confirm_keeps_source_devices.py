"""Bug 1641750: a confirmed resize keeps the old PCI devices on the source.

Fixed by 3a4909ae7e: confirm dropped the old flavor on the
source but its devices stayed held until the next audit.

The change: ``ResourceTracker.drop_move_claim_at_source`` frees no devices.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1641750",)
FIXED_BY = ("3a4909ae7e",)
SUMMARY = "a confirm keeps the old devices on the source"


class ConfirmKeepsDevices(ResourceTracker):
    def drop_move_claim_at_source(self, instance, migration):
        with self.store.transaction(), self.lock:
            migration.status = "confirmed"
            self.store.save_migration_status(migration)
            self._add_usage(self._old_flavor(instance, migration), -1)
            # the bug: self._free_pci(mc.old_devices) is missing
            self.tracked_migrations.pop(migration.uuid, None)
            instance.old_flavor = instance.new_flavor = None
            instance.migration_context = None
            instance.vm_state = "active"
            self.store.save_instance(instance)
            self._update(False)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=ConfirmKeepsDevices)


def factory():
    return Tracker()
