"""Bug 1583720: completed migrations are still reported as in progress.

Fixed by e5b8060c08 (Newton 14.0.0): the DB API's in-progress filter did not
exclude ``completed``, so an instance that had finished a live migration
still counted as moving.

The change: ``Store.NOT_IN_PROGRESS`` lacks ``completed``.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.store import Store

BUGS = ("1583720",)
FIXED_BY = ("e5b8060c08",)
SUMMARY = "a completed migration still counts as in progress"


class CompletedInProgress(Store):
    NOT_IN_PROGRESS = Store.NOT_IN_PROGRESS - {"completed"}


Tracker = buggy_tracker(__name__, __doc__, store=CompletedInProgress)


def factory():
    return Tracker()
