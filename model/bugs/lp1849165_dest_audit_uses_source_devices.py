"""Bug 1849165: the destination's audit gives an incoming move the source's resources.

Fixed by 80385a22ee: ``_populate_assigned_resources``
(``nova/compute/resource_tracker.py``, run by ``update_available_resource``)
took the assigned resources of an instance that had started migrating but had
not yet moved from the instance itself - its source resources - instead of
the MigrationContext's new ones.

The change: ``ResourceTracker._update_usage_from_migration`` holds the
MigrationContext's *old* devices for an incoming migration.
"""

from dataclasses import replace

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker
from movecheck.spec.vocab import MigrationContext

BUGS = ("1849165",)
FIXED_BY = ("80385a22ee",)
SUMMARY = "the destination's audit holds the source's devices for an incoming move"


class IncomingGetsSourceDevices(ResourceTracker):
    def _update_usage_from_migration(self, inst, m):
        mc = inst.migration_context
        if (m.dest_compute == self.host and m.source_compute != self.host and mc is not None
                and mc.migration_id == m.uuid):
            # the bug: the instance's own (source) devices stand for the new ones
            inst = replace(inst, migration_context=MigrationContext(
                mc.migration_id, mc.old_devices, mc.old_devices))
        super()._update_usage_from_migration(inst, m)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=IncomingGetsSourceDevices)


def factory():
    return Tracker()
