"""Bug 1549984: a rejected claim keeps the PCI devices it tested.

Fixed by 66e79e1bbc: ``Claim._test_pci`` really claimed the
devices, and when the rest of the claim test then failed nothing gave them
back, so devices stayed held for instances that were not on the host.

The change: ``ResourceTracker._test`` takes the devices before the capacity test.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1549984",)
FIXED_BY = ("66e79e1bbc",)
SUMMARY = "a claim rejected for capacity keeps the devices it picked"


class PciClaimedByTest(ResourceTracker):
    def _test(self, instance_uuid, flavor):
        devices = self._test_pci(flavor)
        self._claim_pci(devices, instance_uuid)  # the bug: taken before the test is over
        self._test_capacity(flavor)
        return devices


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=PciClaimedByTest)


def factory():
    return Tracker()
