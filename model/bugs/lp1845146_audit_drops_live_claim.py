"""Bug 1845146: the audit drops a live migration's destination claim.

Fixed by 6ec686c26b (Ussuri 21.0.0): the destination claims while the live
migration is ``accepted``, a status the audit's migration query left out
(since 2c1f8e6002), so the next audit freed the claim.

The change: ``ResourceTracker.AUDIT_EXCLUDED_STATUSES`` includes ``accepted``.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1845146",)
FIXED_BY = ("6ec686c26b",)
SUMMARY = "the audit leaves out accepted migrations and so drops a live migration's claim"


class AcceptedNotAudited(ResourceTracker):
    AUDIT_EXCLUDED_STATUSES = ResourceTracker.AUDIT_EXCLUDED_STATUSES | {"accepted"}


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=AcceptedNotAudited)


def factory():
    return Tracker()
