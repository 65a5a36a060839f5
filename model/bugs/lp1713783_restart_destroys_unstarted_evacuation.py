"""Bug 1713783: a restarted source destroys an instance whose evacuation never started.

Nova's regression test ``nova/tests/functional/regressions/test_bug_1713783.py``:
an evacuation that found no host stayed ``accepted`` instead of ``error``, and
``_destroy_evacuated_instances`` (``nova/compute/manager.py``), which looks
for ``accepted`` and ``done`` evacuations, then removed the local instance
although it had never moved.  The fix sets the migration to ``error`` when
scheduling the evacuation fails (its commit is not recorded here: the
regression test is the reference).

Nova 34 writes ``error`` when the conductor finds no host
(``conductor/manager.py`` ``ComputeTaskManager.rebuild_instance``), so the
restarted source no longer takes the evacuation for one in progress.

The change: an evacuation that fails before the destination's claim (``fail``
while ``accepted``: the conductor found no host) stays ``accepted``; a later
``host_up`` of the source then destroys the instance there as if it had been
evacuated.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1713783",)
FIXED_BY = ()  # see the regression test named above
SUMMARY = "an evacuation that found no host stays accepted, so the restarted source destroys the instance"


class NoHostLeavesAccepted(NovaCloud):
    def _rollback(self, inst, m):
        if m.migration_type == "evacuation" and m.status == "accepted":
            return inst  # the bug: no status written, nothing was claimed
        return super()._rollback(inst, m)



Tracker = buggy_tracker(__name__, __doc__, nova=NoHostLeavesAccepted)


def factory():
    return Tracker()
