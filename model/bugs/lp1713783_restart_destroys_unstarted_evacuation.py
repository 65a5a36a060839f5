"""Bug 1713783: a restarted source destroys an instance whose evacuation never started.

Nova's regression test ``nova/tests/functional/regressions/test_bug_1713783.py``:
an evacuation that found no host stayed ``accepted`` instead of ``error``, and
``_destroy_evacuated_instances`` (``nova/compute/manager.py``), which looks
for ``accepted`` and ``done`` evacuations, then removed the local instance
although it had never moved.  The fix sets the migration to ``error`` when
scheduling the evacuation fails (its commit is not recorded here: the
regression test is the reference).

The change: on ``host_up`` an ``accepted`` evacuation is cleaned up as if it
were ``done`` (the migration ends ``completed``) instead of being rolled back.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1713783",)
FIXED_BY = ()  # see the regression test named above
SUMMARY = "a restarted source takes an evacuation still accepted for one that is done"


class AcceptedTakenForDone(NovaCloud):
    EVACUATION_DONE = ("done", "accepted")  # the bug: accepted means nothing was rebuilt
    EVACUATION_UNFINISHED = ("pre-migrating",)


Tracker = buggy_tracker(__name__, __doc__, nova=AcceptedTakenForDone)


def factory():
    return Tracker()
