"""Bug 1679750: deleting an instance whose host is down leaves its usage on that host.

Nova's regression test ``nova/tests/functional/regressions/test_bug_1679750.py``:
a server deleted while its compute host is down is deleted locally by the API
(``nova/compute/api.py`` ``_local_delete``), and its resources on the host
were never cleaned up (the test checks they are gone once nova-compute
restarts).  The fixing commit is not recorded here: the regression test is
the reference.

The change: a local delete leaves the down host's usage and devices as they
were (``NovaCloud._drop_on`` does nothing for a down host during ``delete``).
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1679750",)
FIXED_BY = ()  # see the regression test named above
SUMMARY = "a local delete (the host is down) leaves the instance's usage on the host"


class LocalDeleteKeepsUsage(NovaCloud):
    _deleting = False

    def delete(self, step):
        self._deleting = True
        try:
            return super().delete(step)
        finally:
            self._deleting = False

    def _drop_on(self, host, instance_uuid, flavor, devices, migration_uuid=None):
        if self._deleting and self.rts[host] is None:
            return  # the bug: nobody corrects the down host's record
        super()._drop_on(host, instance_uuid, flavor, devices, migration_uuid)


Tracker = buggy_tracker(__name__, __doc__, nova=LocalDeleteKeepsUsage)


def factory():
    return Tracker()
