"""Bug 1825537: a resize that fails after the instance moved leaks the source's hold.

Nova's regression test ``nova/tests/functional/regressions/test_bug_1825537.py``:
when ``finish_resize`` failed on the destination (``nova/compute/manager.py``),
the old flavor the migration held on the source was not cleaned up.  The
fixing commit is not recorded here: the regression test is the reference.

The change: ``NovaCloud._rollback`` of a resize or cold migration that has
landed forgets the MigrationContext, so the source's hold is not dropped.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud
from movecheck.model.records import LANDED_STATUSES

BUGS = ("1825537",)
FIXED_BY = ()  # see the regression test named above
SUMMARY = "a resize that fails after it landed keeps the old flavor on the source"


class FailedLandedResizeKeepsSource(NovaCloud):
    def _rollback(self, inst, m):
        if m.migration_type in ("resize", "migration") and m.status in LANDED_STATUSES:
            inst.migration_context = None  # the bug: the source's hold is forgotten
        return super()._rollback(inst, m)


Tracker = buggy_tracker(__name__, __doc__, nova=FailedLandedResizeKeepsSource)


def factory():
    return Tracker()
