"""Bugs 1647370 and 1818914: confirm frees the source only if an audit has run since the move.

Fixed by 25bc5a6639 and ad9f37350a:
``drop_move_claim`` acted only on a migration in ``tracked_migrations``, which
the source fills only in its audit, so a confirm before the source's next
audit left the old flavor (and devices) counted there.

The change: ``ResourceTracker.drop_move_claim_at_source`` drops nothing for an
untracked migration.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1647370", "1818914")
FIXED_BY = ("25bc5a6639", "ad9f37350a")
SUMMARY = "a confirm before the source's next audit leaves the old flavor on the source"


class DropOnlyTracked(ResourceTracker):
    def drop_move_claim_at_source(self, instance, migration):
        if migration.uuid in self.tracked_migrations:
            return super().drop_move_claim_at_source(instance, migration)
        # the bug: untracked, so nothing is dropped; the status is still written
        with self.store.transaction(), self.lock:
            migration.status = "confirmed"
            self.store.save_migration_status(migration)
            instance.old_flavor = instance.new_flavor = None
            instance.migration_context = None
            instance.vm_state = "active"
            self.store.save_instance(instance)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=DropOnlyTracked)


def factory():
    return Tracker()
