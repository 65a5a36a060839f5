"""Bug 1944759: the source's audit runs between ``instance.host := dest`` and ``old_flavor``.

Fixed by b841e55321 (Yoga 25.0.0): ``old_flavor`` was set on the destination in
``finish_resize``, after the source had already moved the instance; an audit
of the source in that window found neither the instance nor an old flavor for
the outbound migration and dropped the instance entirely.

The change: ``old_flavor`` is stashed at ``finish_resize`` instead of before
the host changes.
"""

from movecheck.model.bugs._base import buggy_tracker
from movecheck.model.compute import NovaCloud

BUGS = ("1944759",)
FIXED_BY = ("b841e55321",)
SUMMARY = "old_flavor is set only after the instance moved, so the source's audit drops it"


class OldFlavorLate(NovaCloud):
    def _stash_flavors(self, inst, new_flavor):
        inst.new_flavor = new_flavor  # the bug: old_flavor waits for finish_resize

    def finish_resize(self, step):
        m = self.store.migration(step.migration)
        if m is not None and m.status == "post-migrating":
            inst = self.store.instance(m.instance_uuid)
            inst.old_flavor = inst.flavor
            self.store.save_instance(inst)
        return super().finish_resize(step)


Tracker = buggy_tracker(__name__, __doc__, nova=OldFlavorLate)


def factory():
    return Tracker()
