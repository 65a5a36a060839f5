"""Bug 1600304: the audit counts a migration the instance is not doing.

Fixed by 0bf9c91bb7: ``_update_usage_from_migrations`` counted
every unfinished migration record of an instance, even one its
MigrationContext did not name (a stale record, or an evacuation that has not
claimed yet), so the instance was counted twice.

The change: ``ResourceTracker._migration_is_current`` accepts every migration.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1600304",)
FIXED_BY = ("0bf9c91bb7",)
SUMMARY = "the audit counts migrations the instance's MigrationContext does not name"


class NoContextCheck(ResourceTracker):
    def _migration_is_current(self, inst, m):
        return True  # the bug: no instance.migration_context.migration_id check


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=NoContextCheck)


def factory():
    return Tracker()
