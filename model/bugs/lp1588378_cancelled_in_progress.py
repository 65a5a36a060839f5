"""Bug 1588378: aborted (cancelled) live migrations are still reported as in progress.

Fixed by 58cb7e56db (Newton 14.0.0): ``cancelled`` was not in the DB API's
list of finished statuses, so an instance whose live migration was aborted
still counted as moving.

The change: ``Store.NOT_IN_PROGRESS`` lacks ``cancelled``.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.store import Store

BUGS = ("1588378",)
FIXED_BY = ("58cb7e56db",)
SUMMARY = "a cancelled live migration still counts as in progress"


class CancelledInProgress(Store):
    NOT_IN_PROGRESS = Store.NOT_IN_PROGRESS - {"cancelled"}


Tracker = buggy_tracker(__name__, __doc__, store=CancelledInProgress)


def factory():
    return Tracker()
