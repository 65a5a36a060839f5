"""Bug 1764883: a source restarting during an evacuation ignores a rebuild in progress.

Fixed by c4988cdabf (Rocky 18.0.0): ``_destroy_evacuated_instances`` looked for
``accepted`` and ``done`` evacuations but not ``pre-migrating`` ones, so a
source that came back while the destination was rebuilding raced it and the
evacuation was never resolved.

Today (Nova 34) the restarted source cleans a ``pre-migrating`` evacuation up
like the others: ``completed``, the source dropped from the instance's
allocation, while the destination finishes the rebuild.

The change: on ``host_up`` a ``pre-migrating`` evacuation is left alone (the
source keeps counting the instance).
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1764883",)
FIXED_BY = ("c4988cdabf",)
SUMMARY = "a restarted source ignores an evacuation that is still being rebuilt"


class RebuildingNotResolved(NovaCloud):
    EVACUATION_CLEANED_UP = ("accepted", "done")  # the bug: pre-migrating is missing


Tracker = buggy_tracker(__name__, __doc__, nova=RebuildingNotResolved)


def factory():
    return Tracker()
