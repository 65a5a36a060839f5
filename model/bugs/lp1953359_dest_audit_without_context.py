"""Bugs 1953359 and 1952915: the destination's audit ignores the MigrationContext before finish_resize.

Fixed by 32c1044d86: between ``resize_instance`` (host := dest)
and ``finish_resize`` (flavor := new) the destination's audit counted the
instance with its old NUMA topology and PCI devices instead of applying the
MigrationContext.  That fix is about NUMA and PCI (``Instance.apply_migration_context``
does not copy the flavor): Nova 34's ComputeNode counters still charge the old
*flavor* in that window, which is their compute-node-level figure
(docs/spec.md, "Two levels of usage").  This entry drops the new flavor the
reference tracker charges there, so it is caught against the spec's
Placement-level usage; the devices half of the bug is the faithful one.

The change: ``ResourceTracker._instance_flavor`` never charges the new flavor.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1953359", "1952915")
FIXED_BY = ("32c1044d86",)
SUMMARY = "the destination's audit counts a landed resize with its old flavor"


class ContextNotApplied(ResourceTracker):
    def _instance_flavor(self, inst, incoming):
        return inst.flavor  # the bug: no apply_migration_context for the audit


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=ContextNotApplied)


def factory():
    return Tracker()
