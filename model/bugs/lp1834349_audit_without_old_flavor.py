"""Bug 1834349: the audit crashes on an outbound resize whose old flavor is already gone.

Fixed by 818419c9d3: confirm (``nova/compute/manager.py`` ``_confirm_resize``)
cleared ``instance.old_flavor`` outside the resource lock while the migration
was still ``confirming``; an ``update_available_resource`` that ran in that
window read ``old_flavor`` None for the outbound migration
(``_update_usage_from_migration``) and failed, aborting the periodic task.

The change: confirm clears ``old_flavor`` and the periodic audit runs in that
window (the interleaving of the bug report, made deterministic), and the
audit has no check for a missing old flavor.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1834349",)
FIXED_BY = ("818419c9d3",)
SUMMARY = "confirm clears old_flavor before the audit, which then fails on the source"


class AuditMissesOldFlavor(ResourceTracker):
    def drop_move_claim_at_source(self, instance, migration):
        old = instance.old_flavor
        instance.old_flavor = None
        self.store.save_instance(instance)  # outside the lock, status still confirming
        self.update_available_resource()  # the periodic audit takes the lock here
        instance.old_flavor = old
        super().drop_move_claim_at_source(instance, migration)

    def _update_usage_from_migration(self, inst, m):
        if (m.source_compute == self.host and m.dest_compute != self.host
                and inst.uuid not in self.tracked_instances and self._old_flavor(inst, m) is None):
            # the bug: _get_flavor(instance, 'old_', migration) is used without a check
            raise AttributeError("'NoneType' object has no attribute 'memory_mb'")
        super()._update_usage_from_migration(inst, m)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=AuditMissesOldFlavor)


def factory():
    return Tracker()
