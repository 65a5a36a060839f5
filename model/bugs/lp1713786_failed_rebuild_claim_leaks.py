"""Bug 1713786: an evacuation whose claim fails on the destination leaks its allocation there.

Fixed by 5bc137f7eb (Pike 16.0.0): when ``rebuild_claim`` on the destination
(``nova/compute/manager.py`` ``rebuild_instance``) raised
``ComputeResourcesUnavailable``, the resources the scheduler had taken for the
instance on the destination were never given back.

The change: ``ResourceTracker.rebuild_claim`` that does not fit leaves the
instance's flavor counted on the destination.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ComputeResourcesUnavailable, ResourceTracker

BUGS = ("1713786",)
FIXED_BY = ("5bc137f7eb",)
SUMMARY = "an evacuation claim that does not fit leaves its usage on the destination"


class FailedRebuildClaimLeaks(ResourceTracker):
    def rebuild_claim(self, instance, migration):
        try:
            return super().rebuild_claim(instance, migration)
        except ComputeResourcesUnavailable:
            with self.store.transaction(), self.lock:
                self._add_usage(instance.flavor, +1)  # the bug: nobody gives this back
                self._update(False)
            raise


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=FailedRebuildClaimLeaks)


def factory():
    return Tracker()
