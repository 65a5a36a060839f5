"""Bug 1712850: a resize that fails before the instance moves keeps its destination claim.

Fixed by b53133ba50 (Pike 16.0.0): when ``prep_resize`` or ``resize_instance``
failed, the rollback (``nova/conductor/tasks/migrate.py`` ``rollback``,
``nova/compute/manager.py`` ``_revert_allocation``) left the new flavor's
allocation on the destination - on a same-host resize, a doubled allocation.

The change: ``NovaCloud._rollback`` of a resize or cold migration that has
not landed forgets the MigrationContext, so the destination claim is not dropped.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud
from movecheck.model.records import LANDED_STATUSES

BUGS = ("1712850",)
FIXED_BY = ("b53133ba50",)
SUMMARY = "a resize that fails before it lands keeps the new flavor on the destination"


class FailedResizeKeepsClaim(NovaCloud):
    def _rollback(self, inst, m):
        if m.migration_type in ("resize", "migration") and m.status not in LANDED_STATUSES:
            inst.migration_context = None  # the bug: the destination's claim is forgotten
        return super()._rollback(inst, m)


Tracker = buggy_tracker(__name__, __doc__, nova=FailedResizeKeepsClaim)


def factory():
    return Tracker()
