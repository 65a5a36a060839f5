"""Bug 1879878: confirm writes ``confirmed`` outside the lock, before dropping the claim.

Fixed by a57800d382 and dc9c7a5ebf (Victoria 22.0.0): the compute manager saved the status
and only then called ``drop_move_claim`` under the lock; an audit that got
the lock in between no longer counted the confirmed migration, and the drop
then took the old flavor away a second time.

The change: ``drop_move_claim_at_source`` writes the status first and the
periodic audit runs in that window (the interleaving of the bug report, made
deterministic), then the claim is dropped.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1879878",)
FIXED_BY = ("a57800d382", "dc9c7a5ebf")
SUMMARY = "confirm's status write and claim drop are not atomic against the audit"


class StatusBeforeDrop(ResourceTracker):
    def drop_move_claim_at_source(self, instance, migration):
        migration.status = "confirmed"
        self.store.save_migration_status(migration)  # the bug: outside the lock
        self.update_available_resource()  # the periodic audit takes the lock here
        super().drop_move_claim_at_source(instance, migration)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=StatusBeforeDrop)


def factory():
    return Tracker()
