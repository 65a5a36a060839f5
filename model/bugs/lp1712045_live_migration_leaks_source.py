"""Bug 1712045: a completed live migration leaves the instance's usage on the source.

Fixed by 72728ed01f (Pike 16.0.0): after ``_post_live_migration``
(``nova/compute/manager.py``) the source's share of the instance's allocation
was never removed, so the source stayed charged for an instance that had
left it.

The change: ``NovaCloud.live_complete`` moves the instance but does not drop
the source's hold.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1712045",)
FIXED_BY = ("72728ed01f",)
SUMMARY = "a completed live migration leaves the instance's usage on the source"


class LiveCompleteKeepsSource(NovaCloud):
    def live_complete(self, step):
        m = self._migration(step, ("live-migration",), ("running",))
        self._rt(m.source_compute)
        self._rt(m.dest_compute)
        inst = self.store.instance(m.instance_uuid)
        inst.host = m.dest_compute
        inst.pci_devices = inst.migration_context.new_devices
        inst.migration_context = None
        self.store.save_instance(inst)
        m.status = "completed"
        self.store.save_migration_status(m)
        # the bug: source.drop_move_claim(old flavor, old devices) is missing


Tracker = buggy_tracker(__name__, __doc__, nova=LiveCompleteKeepsSource)


def factory():
    return Tracker()
