"""The reference tracker as a conformance adapter (docs/adapters.md).

:class:`ReferenceTracker` drives a :class:`~movecheck.model.compute.NovaCloud`
over a SQLite :class:`~movecheck.model.store.Store` and observes every part
(usage, devices, migrations, instances, and the allocations Placement would
hold: :mod:`movecheck.model.placement`).  ``reset`` starts a fresh database
(``:memory:`` unless ``db_path`` is given); :meth:`ReferenceTracker.reopen`
resumes from an existing database file as a restarted cloud does (every up
host's tracker rebuilt by the audit).  Bad steps are rejected with a reason,
never raised.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from movecheck.model.compute import NovaCloud, Rejected
from movecheck.model.placement import placement_allocations
from movecheck.model.store import Store
from movecheck.spec.errors import InputError
from movecheck.spec.vocab import CAPABILITIES, RESOURCE_CLASSES, Cloud, Observation, Outcome, Step


class ReferenceTracker:
    """The reference resource tracker; ``db_path`` None keeps the records in memory."""

    capabilities = frozenset(CAPABILITIES)

    #: Its usage follows every claim and drop at once, as Placement's does
    #: (movecheck.spec.allocations.USAGE_LEVELS).
    usage_level = "placement"

    #: Classes the bug catalogue overrides (one small change each).
    cloud_class: type[NovaCloud] = NovaCloud
    store_class: type[Store] = Store

    def __init__(self, db_path: str | os.PathLike | None = None):
        self.db_path = ":memory:" if db_path is None else str(db_path)
        self.store: Store | None = None
        self.nova: NovaCloud | None = None

    def reset(self, cloud: Cloud) -> None:
        self.close()
        self.store = self.store_class.create(cloud, self.db_path)
        self.nova = self.cloud_class(cloud, self.store)

    def reopen(self) -> Cloud:
        """Resume from the database file (after a crash or restart); returns its cloud."""
        self.close()
        self.store, cloud = self.store_class.open_existing(self.db_path)
        self.nova = self.cloud_class(cloud, self.store, restarted=True)
        return cloud

    def apply(self, step: Step) -> Outcome:
        if self.nova is None:
            raise InputError("reset(cloud) must be called before apply(step)")
        try:
            return Outcome.accept(self.nova.perform(step))
        except Rejected as e:
            return Outcome.reject(str(e))

    def observe(self) -> Observation:
        nova = self.nova
        if nova is None:
            raise InputError("reset(cloud) must be called before observe()")
        store = nova.store
        usage: dict[str, dict[str, int]] = {}
        devices: dict[str, dict[str, str | None]] = {}
        with store.transaction():
            for h, rt in nova.rts.items():
                if rt is not None:
                    u, pci = rt.usage, dict(rt.pci)
                else:  # nova-compute is down: what it last saved, as corrected since
                    u, pci = store.compute_node(h)
                usage[h] = dict(zip(RESOURCE_CLASSES, u, strict=True))
                devices[h] = pci
            migrations = store.migration_statuses()
            instances = store.instance_hosts()
            allocations = placement_allocations(nova)
        return Observation(usage=usage, devices=devices, migrations=migrations, instances=instances,
                           allocations=allocations)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store = None
        self.nova = None


def reference_factory() -> ReferenceTracker:
    """The built-in ``reference`` tracker (records in memory)."""
    return ReferenceTracker()


def reference_file_factory(db_path: str | os.PathLike) -> Callable[[], ReferenceTracker]:
    """A factory for the reference tracker with its records in ``db_path``.

    The file is checked now, before any run: if it exists it must be a movecheck
    model database, else :class:`InputError` (one sentence) and the file is left
    untouched.  Each ``reset`` then empties and reuses it.
    """
    check_database(db_path)
    return lambda: ReferenceTracker(db_path)


def check_database(db_path: str | os.PathLike) -> None:
    """Raise InputError unless ``db_path`` is absent, empty or a movecheck model database."""
    path = Path(db_path)
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a database file")
    if path.is_file() and path.stat().st_size > 0:
        Store.check_file(path)
