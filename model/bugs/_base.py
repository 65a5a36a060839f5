"""Building a buggy tracker from the reference: replace one class, keep the rest."""

from __future__ import annotations

from movecheck.model.compute import NovaCloud
from movecheck.model.resource_tracker import ResourceTracker
from movecheck.model.store import Store
from movecheck.model.tracker import ReferenceTracker


def buggy_tracker(module: str, doc: str | None, *, resource_tracker: type[ResourceTracker] | None = None,
                  nova: type[NovaCloud] | None = None,
                  store: type[Store] | None = None) -> type[ReferenceTracker]:
    """A ReferenceTracker subclass (named ``Tracker``, in ``module``) that uses the
    given buggy class(es) in place of the reference ones: ``resource_tracker`` per
    host, ``nova`` for the API/conductor/compute layer, ``store`` for the queries."""
    cloud_class = nova or NovaCloud
    if resource_tracker is not None:
        cloud_class = type("NovaCloud", (cloud_class,),
                           {"resource_tracker_class": resource_tracker, "__module__": module})
    attrs: dict = {"cloud_class": cloud_class, "__doc__": doc, "__module__": module}
    if store is not None:
        attrs["store_class"] = store
    return type("Tracker", (ReferenceTracker,), attrs)
