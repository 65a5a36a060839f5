"""Bug 1585214: confirm frees the source's resources using the destination's view.

Fixed by d7b8d997f0: ``drop_move_claim`` on the source
(``nova/compute/resource_tracker.py``, confirm) released the instance's
*new* NUMA topology - the destination's - instead of the old one, so the
source's pinned CPUs were never given back ("Cannot pin/unpin cpus").

The change: ``ResourceTracker.drop_move_claim_at_source`` frees the
MigrationContext's new devices instead of its old ones.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1585214",)
FIXED_BY = ("d7b8d997f0",)
SUMMARY = "a confirm frees the destination's devices on the source instead of the old ones"


class ConfirmFreesNewDevices(ResourceTracker):
    def drop_move_claim_at_source(self, instance, migration):
        with self.store.transaction(), self.lock:
            mc = instance.migration_context
            migration.status = "confirmed"
            self.store.save_migration_status(migration)
            self._add_usage(self._old_flavor(instance, migration), -1)
            self._free_pci(mc.new_devices)  # the bug: the new (destination) side
            self.tracked_migrations.pop(migration.uuid, None)
            instance.old_flavor = instance.new_flavor = None
            instance.migration_context = None
            instance.vm_state = "active"
            self.store.save_instance(instance)
            self._update()


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=ConfirmFreesNewDevices)


def factory():
    return Tracker()
