"""Bug 1791075: the audit ignores an instance that is being rebuilt by an evacuation.

Fixed by d8f7638d02 (Stein 19.0.0): ``_instance_in_resize_state`` knew only the
``rebuilding`` task state, so an evacuation in ``rebuild_spawning`` or
``rebuild_block_device_mapping`` lost its destination claim at the next audit.

The change: ``ResourceTracker._migration_is_current`` skips evacuations that
are still being rebuilt (``pre-migrating``).
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1791075",)
FIXED_BY = ("d8f7638d02",)
SUMMARY = "the audit drops the destination claim of an evacuation being rebuilt"


class RebuildStatesIgnored(ResourceTracker):
    def _migration_is_current(self, inst, m):
        if m.migration_type == "evacuation" and m.status == "pre-migrating":
            return False  # the bug: the task state is not a known rebuild state
        return super()._migration_is_current(inst, m)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=RebuildStatesIgnored)


def factory():
    return Tracker()
