"""Bug 1518200: a restarted source never cleans up an evacuation that is done.

Fixed by a79ac83bae: ``_destroy_evacuated_instances`` looked
only for ``accepted`` evacuations, but by then the status had moved on to
``done``, so the source kept holding the evacuated instance forever.

Today's ``_destroy_evacuated_instances`` (Nova 34) takes ``accepted``,
``pre-migrating`` and ``done`` alike; a ``done`` evacuation left alone keeps its
status and the down source's share of the instance's allocation
(``remove_provider_tree_from_instance_allocation`` never runs).

The change: on ``host_up`` only ``accepted`` evacuations are cleaned up.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1518200",)
FIXED_BY = ("a79ac83bae",)
SUMMARY = "a restarted source looks only for accepted evacuations and never cleans up done ones"


class OnlyAcceptedCleaned(NovaCloud):
    EVACUATION_CLEANED_UP = ("accepted",)  # the bug: done evacuations are not looked at


Tracker = buggy_tracker(__name__, __doc__, nova=OnlyAcceptedCleaned)


def factory():
    return Tracker()
