"""Bug 1848343: deleting an instance during a move leaks the move's other allocation.

Nova's regression test ``nova/tests/functional/regressions/test_bug_1848343.py``:
a server deleted during a resize, cold or live migration had its
migration-based allocation reverted after the delete
(``nova/compute/manager.py`` ``_revert_allocation``), which re-created and
leaked an allocation for the deleted server.  The fixing commit is not
recorded here: the regression test is the reference.

The change: ``NovaCloud.delete`` of a moving instance frees the instance's own
hold but not the migration's hold on the other host.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1848343",)
FIXED_BY = ()  # see the regression test named above
SUMMARY = "deleting an instance during a move leaks the migration's hold on the other host"


class DeleteKeepsMigrationHold(NovaCloud):
    def delete(self, step):
        inst = self.store.instance(step.instance)
        if inst is not None and self.store.in_progress_by_instance(inst.uuid) is not None:
            inst.migration_context = None  # the bug: the other side's hold is forgotten
            self.store.save_instance(inst)
        return super().delete(step)


Tracker = buggy_tracker(__name__, __doc__, nova=DeleteKeepsMigrationHold)


def factory():
    return Tracker()
