"""Bugs 1953359 and 1952915: the destination's audit ignores the MigrationContext before finish_resize.

Fixed by 32c1044d86: between ``resize_instance`` (host := dest)
and ``finish_resize`` the destination's audit
(``ResourceTracker._update_available_resource``) counted the instance with its
old NUMA topology and PCI devices - the source's - instead of applying the
MigrationContext (``Instance.apply_migration_context``), which copies NUMA
topology, PCI requests, PCI devices and resources.  It does not copy the
flavor: Nova 34's ComputeNode counters still charge the old flavor in that
window (docs/spec.md, "The blueprint, Nova 34 and movecheck"), so this entry
is about the devices only.

The change: the destination's audit holds an instance that has landed but is
not finished with the instance's devices from before the MigrationContext
(its old, source devices) instead of the context's new ones.
"""

from __future__ import annotations

from dataclasses import replace

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.resource_tracker import ResourceTracker

BUGS = ("1953359", "1952915")
FIXED_BY = ("32c1044d86",)
SUMMARY = "the destination's audit holds a landed resize's source devices, not its new ones"


class ContextNotApplied(ResourceTracker):
    def _update_available_resource(self, instances, migrations):
        landed = {m.instance_uuid for m in migrations
                  if m.dest_compute == self.host and m.status == "post-migrating"}
        instances = [
            replace(i, pci_devices=i.migration_context.old_devices)  # the bug: not applied
            if i.uuid in landed and i.migration_context is not None else i
            for i in instances]
        super()._update_available_resource(instances, migrations)


Tracker = buggy_tracker(__name__, __doc__, resource_tracker=ContextNotApplied)


def factory():
    return Tracker()
