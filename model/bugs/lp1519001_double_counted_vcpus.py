"""Bug 1519001: the audit counts vCPUs twice.

Fixed by 69eca4c60d: ``_update_usage_from_instances`` did not
reset ``vcpus_used`` before adding the instances (the virt driver's view was
already in it), so every audit added the vCPUs on top of what was counted.

The change: ``ResourceTracker._reset_usage`` keeps the current VCPU count.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1519001",)
FIXED_BY = ("69eca4c60d",)
SUMMARY = "the audit counts vCPUs on top of the vCPUs already counted"


class VcpusNotReset(ResourceTracker):
    def _reset_usage(self):
        return [self.usage[0], 0, 0]  # the bug: vcpus_used is not reset


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=VcpusNotReset)


def factory():
    return Tracker()
