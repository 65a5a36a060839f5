"""Bug 1512880: a revert drops the MigrationContext before the devices are given back.

Fixed among c2c3b97259, 5129f48226 and 2f073fd8df (the PCI fixes of bugs
1368201 and 1512880): ``revert_resize`` (``nova/compute/manager.py``) dropped
the instance's MigrationContext before the destination had freed the new PCI
devices and before the source's ``finish_revert_resize`` had given the
instance its old ones back, so neither side knew which devices to move.

The change: at ``revert`` the MigrationContext loses its device lists (it
still names the migration), so ``revert_finish`` frees no new devices on the
destination and gives the instance no devices on the source.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud
from movecheck.spec.vocab import MigrationContext

BUGS = ("1512880",)
FIXED_BY = ("c2c3b97259", "5129f48226", "2f073fd8df")
SUMMARY = "a revert forgets the MigrationContext's devices before either side moves them"


class ContextDroppedAtRevert(NovaCloud):
    def revert(self, step):
        super().revert(step)
        m = self.store.migration(step.migration)
        inst = self.store.instance(m.instance_uuid)
        # the bug: the context's devices are gone before the destination frees them
        inst.migration_context = MigrationContext(inst.migration_context.migration_id, (), ())
        self.store.save_instance(inst)


Tracker = buggy_tracker(__name__, __doc__, nova=ContextDroppedAtRevert)


def factory():
    return Tracker()
