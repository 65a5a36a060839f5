"""Bugs 1953359 and 1952915: the destination's audit ignores the MigrationContext before finish_resize.

Fixed by 32c1044d86: between ``resize_instance`` (host := dest)
and ``finish_resize`` (flavor := new) the destination's audit counted the
instance with its old flavor and topology instead of applying the
MigrationContext, so the destination under-counted the resize.

The change: ``ResourceTracker._instance_flavor`` never applies the context.
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
