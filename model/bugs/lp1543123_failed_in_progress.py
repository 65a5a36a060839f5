"""Bug 1543123: failed migrations are still reported as in progress.

Fixed by 0f8f854c26 (Mitaka 13.0.0): the DB API's in-progress filter did not
exclude ``failed``, so an instance whose live migration had failed still
counted as moving and could not be moved again.

The change: ``Store.NOT_IN_PROGRESS`` lacks ``failed``.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.store import Store

BUGS = ("1543123",)
FIXED_BY = ("0f8f854c26",)
SUMMARY = "a failed migration still counts as in progress"


class FailedInProgress(Store):
    NOT_IN_PROGRESS = Store.NOT_IN_PROGRESS - {"failed"}


Tracker = buggy_tracker(__name__, __doc__, store=FailedInProgress)


def factory():
    return Tracker()
