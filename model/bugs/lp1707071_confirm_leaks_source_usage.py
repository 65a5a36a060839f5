"""Bug 1707071: confirm leaves the old flavor's usage on the source.

Fixed by 5390210a4f (Pike 16.0.0): after a confirmed resize the source's part
of the allocation was never removed (only a later periodic heal took it back),
so the source stayed charged for an instance that had left.

The change: ``ResourceTracker.drop_move_claim_at_source`` frees the devices
but not the usage.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1707071",)
FIXED_BY = ("5390210a4f",)
SUMMARY = "a confirm frees the source's devices but leaks its usage"


class ConfirmLeaksUsage(ResourceTracker):
    def drop_move_claim_at_source(self, instance, migration):
        with self.store.transaction(), self.lock:
            mc = instance.migration_context
            migration.status = "confirmed"
            self.store.save_migration_status(migration)
            # the bug: self._add_usage(old flavor, -1) is missing
            self._free_pci(mc.old_devices)
            self.tracked_migrations.pop(migration.uuid, None)
            instance.old_flavor = instance.new_flavor = None
            instance.migration_context = None
            instance.vm_state = "active"
            self.store.save_instance(instance)
            self._update()


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=ConfirmLeaksUsage)


def factory():
    return Tracker()
