"""Bug 1518200: a restarted source never cleans up an evacuation that is done.

Fixed by a79ac83bae: ``_destroy_evacuated_instances`` looked
only for ``accepted`` evacuations, but by then the status had moved on to
``done``, so the source kept holding the evacuated instance forever.

The change: on ``host_up`` only ``accepted`` evacuations are handled.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1518200",)
FIXED_BY = ("a79ac83bae",)
SUMMARY = "a restarted source looks only for accepted evacuations and never cleans up done ones"


class OnlyAcceptedCleaned(NovaCloud):
    EVACUATION_DONE = ()  # the bug: done evacuations are not looked at
    EVACUATION_UNFINISHED = ("accepted",)


Tracker = buggy_tracker(__name__, __doc__, nova=OnlyAcceptedCleaned)


def factory():
    return Tracker()
