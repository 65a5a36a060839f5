"""Bug 2153425: a live migration's destination claim never checks the allocation ratio.

Nova's regression test ``nova/tests/functional/regressions/test_bug_2153425.py``:
``LiveMigrationTask._find_destination`` (``nova/conductor/tasks/live_migrate.py``)
called ``_call_livem_checks_on_host`` while ``self.limits`` was still ``None``,
so the destination's claim ran without limits and the capacity check
(``(total - reserved) x allocation_ratio``) never took effect.  The fixing
commit is not recorded here: the regression test is the reference.

The change: ``ResourceTracker.live_migration_claim`` tests devices but not
capacity.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("2153425",)
FIXED_BY = ()  # see the regression test named above
SUMMARY = "a live migration's destination claim skips the capacity test (no limits)"


class LiveClaimWithoutLimits(ResourceTracker):
    def live_migration_claim(self, instance, migration):
        self._test_capacity = lambda flavor: None  # the bug: limits is None
        try:
            return super().live_migration_claim(instance, migration)
        finally:
            del self._test_capacity


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=LiveClaimWithoutLimits)


def factory():
    return Tracker()
