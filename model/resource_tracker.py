"""The per-host ResourceTracker, built the way ``nova/compute/resource_tracker.py`` is.

One :class:`ResourceTracker` per up host holds that host's in-memory view:
usage per resource class (``vcpus_used``, ``memory_mb_used``,
``local_gb_used``), the PCI pool ({device: holder instance or None},
``pci_tracker``), ``tracked_instances`` and ``tracked_migrations``.  Every
mutator runs under the host's lock (``COMPUTE_RESOURCE_SEMAPHORE``) inside one
database transaction, and saves the compute node (``_update``).

Claims follow ``nova/compute/claims.py``: the claim test (``Claim._test``,
capacity = (total - reserved) x allocation_ratio as Placement computes it,
and enough free devices, ``_test_pci``) runs before anything is taken; a
:class:`MoveClaim` used as a context manager aborts itself when the body
raises (``MoveClaim.abort`` -> ``drop_move_claim``).

:meth:`ResourceTracker.update_available_resource` is the audit
(``nova/compute/resource_tracker.py`` ``update_available_resource``): it throws the in-memory view away and
recomputes it from the records - the instances on the host and the
in-progress migrations from or to it, with the incoming / outbound /
same-node rules, the MigrationContext's old and new devices, and the new
flavor charged for an instance that has landed but is not finished - the
Placement-level figure the reference tracker keeps (Nova's ComputeNode
counters charge the old flavor there; bug 1953359's fix applies the
MigrationContext for NUMA and PCI only: docs/spec.md, "Two levels of usage").
"""

from __future__ import annotations

import threading
from math import floor

from movecheck.model.records import FINISHED_STATUSES, InstanceRecord, MigrationRecord, failure_status
from movecheck.model.store import Store
from movecheck.spec.vocab import RESOURCE_CLASSES, Cloud, MigrationContext


class ComputeResourcesUnavailable(Exception):
    """``nova.exception.ComputeResourcesUnavailable``: the claim test failed."""


class Flavors:
    """What the trackers need from the cloud, computed once: flavor usage vectors and
    device counts, per host the capacity limits and device names."""

    def __init__(self, cloud: Cloud):
        self.vector = {f.name: f.vector() for f in cloud.flavors}
        self.devices = {f.name: f.devices for f in cloud.flavors}
        # Usage counters are ints, so the capacity test compares with the floor.
        self.limits = {h.name: tuple(floor(h.capacity(rc)) for rc in RESOURCE_CLASSES)
                       for h in cloud.hosts}
        self.host_devices = {h.name: h.devices for h in cloud.hosts}


class Claim:
    """``nova/compute/claims.py`` ``Claim``: an instance claim; ``abort`` undoes it."""

    def __init__(self, rt: ResourceTracker, instance: InstanceRecord, flavor: str,
                 devices: tuple[str, ...]):
        self.rt, self.instance, self.flavor, self.devices = rt, instance, flavor, devices

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def abort(self) -> None:
        self.rt.abort_instance_claim(self.instance, self.flavor, self.devices)


class MoveClaim(Claim):
    """``MoveClaim``: the destination's claim for a move; ``abort`` drops it
    (``rt.drop_move_claim`` with the new flavor) and the MigrationContext."""

    def __init__(self, rt: ResourceTracker, instance: InstanceRecord, migration: MigrationRecord,
                 flavor: str, devices: tuple[str, ...]):
        super().__init__(rt, instance, flavor, devices)
        self.migration = migration

    def abort(self) -> None:
        """Drop the claim and the MigrationContext; the migration goes to its failure
        status (:func:`~movecheck.model.records.failure_status`)."""
        inst, m = self.instance, self.migration
        self.rt.drop_move_claim(inst.uuid, self.flavor, self.devices, m.uuid)
        inst.migration_context = None
        inst.old_flavor = inst.new_flavor = None
        m.status = failure_status(m)
        with self.rt.store.transaction():
            self.rt.store.save_instance(inst)
            self.rt.store.save_migration_status(m)


class ResourceTracker:
    """The resource tracker of one compute host (one node)."""

    #: Statuses the audit's migration query leaves out (``nova/db/main/api.py``
    #: ``migration_get_in_progress_and_error_by_host_and_node``, plus ``error``:
    #: Nova 34 reads ``error`` migrations but counts one only while its instance's
    #: task state still says it is moving, ``_update_usage_from_migrations``; after
    #: a failure the MigrationContext is gone, so the Placement-level figure the
    #: reference keeps never counts it).
    AUDIT_EXCLUDED_STATUSES: frozenset[str] = FINISHED_STATUSES

    def __init__(self, host: str, store: Store, flavors: Flavors):
        self.host = host
        self.store = store
        self.flavors = flavors
        self.lock = threading.Lock()  # COMPUTE_RESOURCE_SEMAPHORE
        self.limits = flavors.limits[host]
        self.device_names = flavors.host_devices[host]
        self.usage = [0] * len(RESOURCE_CLASSES)
        self.pci: dict[str, str | None] = dict.fromkeys(self.device_names)
        self.tracked_instances: set[str] = set()
        self.tracked_migrations: dict[str, MigrationRecord] = {}

    # ------------------------------------------------------------ helpers

    def _update(self, pci_changed: bool = True) -> None:
        """``_update``: save the compute node (usage and PCI pool) to the database."""
        self.store.save_compute_node(self.host, self.usage, self.pci if pci_changed else None)

    def _add_usage(self, flavor: str, sign: int) -> None:
        """``_update_usage``: add (sign +1) or subtract (-1) a flavor."""
        v = self.flavors.vector[flavor]
        u = self.usage
        u[0] += sign * v[0]
        u[1] += sign * v[1]
        u[2] += sign * v[2]

    def _test(self, instance_uuid: str, flavor: str) -> tuple[str, ...]:
        """``Claim._test``: raise unless ``flavor`` fits; return the devices to take.

        Nothing is taken here: the caller claims only after the whole test passed
        (the fix of bug 1549984, where ``_test_pci`` already claimed devices).
        """
        self._test_capacity(flavor)
        return self._test_pci(flavor)

    def _test_capacity(self, flavor: str) -> None:
        """``_test_memory`` / ``_test_disk`` / vcpus: usage + request <= capacity."""
        v = self.flavors.vector[flavor]
        u, lim = self.usage, self.limits
        for k in range(len(v)):
            if u[k] + v[k] > lim[k]:
                raise ComputeResourcesUnavailable(
                    f"flavor {flavor} does not fit on {self.host}: {RESOURCE_CLASSES[k]} "
                    f"{u[k]} + {v[k]} > {lim[k]}")

    def _test_pci(self, flavor: str) -> tuple[str, ...]:
        need = self.flavors.devices[flavor]
        if not need:
            return ()
        free = [d for d, holder in self.pci.items() if holder is None]
        if len(free) < need:
            raise ComputeResourcesUnavailable(
                f"not enough free devices on {self.host} for flavor {flavor}")
        return tuple(free[:need])

    def _claim_pci(self, devices: tuple[str, ...], holder: str) -> None:
        for d in devices:
            self.pci[d] = holder

    def _free_pci(self, devices: tuple[str, ...]) -> None:
        for d in devices:
            if d in self.pci:
                self.pci[d] = None

    # ------------------------------------------------------------ instance claims

    def instance_claim(self, instance: InstanceRecord) -> Claim:
        """``instance_claim``: test, then take the flavor and devices; the instance is
        written on this host (``_set_instance_host_and_node``)."""
        with self.store.transaction(), self.lock:
            devices = self._test(instance.uuid, instance.flavor)
            self._add_usage(instance.flavor, +1)
            self._claim_pci(devices, instance.uuid)
            instance.host = self.host
            instance.pci_devices = devices
            self.store.create_instance(instance)
            self.tracked_instances.add(instance.uuid)
            self._update(bool(devices))
            return Claim(self, instance, instance.flavor, devices)

    def abort_instance_claim(self, instance: InstanceRecord, flavor: str,
                             devices: tuple[str, ...]) -> None:
        """``abort_instance_claim``: give back a failed build's claim; the build never
        happened, so the record goes too (Nova unsets ``instance.host``: c7a6673fd5,
        bug 1545675)."""
        with self.store.transaction(), self.lock:
            self._add_usage(flavor, -1)
            self._free_pci(devices)
            self.tracked_instances.discard(instance.uuid)
            self.store.delete_instance(instance.uuid)
            self._update(bool(devices))

    def update_usage(self, instance: InstanceRecord) -> None:
        """``update_usage`` for a deleted instance (``_update_usage_from_instance``,
        ``is_removed``): free its flavor and devices."""
        with self.store.transaction(), self.lock:
            self._add_usage(instance.flavor, -1)
            self._free_pci(instance.pci_devices)
            self.tracked_instances.discard(instance.uuid)
            self._update(bool(instance.pci_devices))

    # ------------------------------------------------------------ move claims

    def _move_claim(self, instance: InstanceRecord, migration: MigrationRecord, flavor: str,
                    status: str, create: bool) -> MoveClaim:
        """``_move_claim``: test, take the new flavor and devices, write the migration
        (``_claim_existing_migration``) and the MigrationContext."""
        with self.store.transaction(), self.lock:
            devices = self._test(instance.uuid, flavor)
            self._add_usage(flavor, +1)
            self._claim_pci(devices, instance.uuid)
            migration.status = status
            if create:
                self.store.create_migration(migration)
            else:
                self.store.save_migration_status(migration)
            instance.migration_context = MigrationContext(
                migration.uuid, instance.pci_devices, devices)
            self.store.save_instance(instance)
            self.tracked_migrations[migration.uuid] = migration
            self._update(bool(devices))
            return MoveClaim(self, instance, migration, flavor, devices)

    def resize_claim(self, instance: InstanceRecord, migration: MigrationRecord) -> MoveClaim:
        """``resize_claim`` on the destination (resize, cold migration, same-host resize)."""
        return self._move_claim(instance, migration, migration.new_flavor, "pre-migrating", True)

    def live_migration_claim(self, instance: InstanceRecord, migration: MigrationRecord) -> MoveClaim:
        """``live_migration_claim``: the status stays ``accepted``
        (``nova/compute/manager.py`` ``check_can_live_migrate_destination``)."""
        return self._move_claim(instance, migration, instance.flavor, "accepted", True)

    def rebuild_claim(self, instance: InstanceRecord, migration: MigrationRecord) -> MoveClaim:
        """``rebuild_claim`` for an evacuation: claims the existing ``accepted`` record."""
        return self._move_claim(instance, migration, instance.flavor, "pre-migrating", False)

    def drop_move_claim(self, instance_uuid: str, flavor: str, devices: tuple[str, ...],
                        migration_uuid: str | None = None) -> None:
        """``drop_move_claim``: give back a move's flavor and devices on this host."""
        with self.store.transaction(), self.lock:
            self._add_usage(flavor, -1)
            self._free_pci(devices)
            if migration_uuid is not None:
                self.tracked_migrations.pop(migration_uuid, None)
            self._update(bool(devices))

    def drop_move_claim_at_source(self, instance: InstanceRecord, migration: MigrationRecord) -> None:
        """``drop_move_claim_at_source`` (confirm): under the lock, write ``confirmed``
        and drop the old flavor and old devices (a57800d382, bug 1879878)."""
        with self.store.transaction(), self.lock:
            mc = instance.migration_context
            migration.status = "confirmed"
            self.store.save_migration_status(migration)
            self._add_usage(self._old_flavor(instance, migration), -1)
            self._free_pci(mc.old_devices)
            self.tracked_migrations.pop(migration.uuid, None)
            instance.old_flavor = instance.new_flavor = None
            instance.migration_context = None
            instance.vm_state = "active"
            self.store.save_instance(instance)
            self._update(bool(mc.old_devices))

    def drop_move_claim_at_dest(self, instance: InstanceRecord, migration: MigrationRecord,
                                status: str) -> None:
        """``drop_move_claim_at_dest`` (revert; live-migration rollback): under the
        lock, write the status and drop the new flavor and new devices (dc9c7a5ebf)."""
        with self.store.transaction(), self.lock:
            mc = instance.migration_context
            migration.status = status
            self.store.save_migration_status(migration)
            self._add_usage(self._new_flavor(instance, migration), -1)
            self._free_pci(mc.new_devices)
            self.tracked_migrations.pop(migration.uuid, None)
            self._update(bool(mc.new_devices))

    def finish_evacuation(self, instance: InstanceRecord, migration: MigrationRecord) -> None:
        """``finish_evacuation``: under the lock (7675964af8, bug 1896463) the instance
        lands here with the new devices, drops its MigrationContext and the evacuation
        is ``done``.  The down source keeps the old flavor and devices in its record
        until it restarts (``_destroy_evacuated_instances``)."""
        with self.store.transaction(), self.lock:
            instance.host = self.host
            instance.pci_devices = instance.migration_context.new_devices
            instance.migration_context = None  # apply_migration_context + drop_migration_context
            self.store.save_instance(instance)
            migration.status = "done"
            self.store.save_migration_status(migration)
            self.tracked_migrations.pop(migration.uuid, None)
            self.tracked_instances.add(instance.uuid)

    # ------------------------------------------------------------ the audit

    def update_available_resource(self) -> None:
        """``update_available_resource``: recompute this host's view from the records."""
        with self.store.transaction(), self.lock:
            instances = self.store.instances_on_host(self.host)
            migrations = self.store.migrations_by_host(self.host, self.AUDIT_EXCLUDED_STATUSES)
            instances, migrations = self._cleaned_evacuations(instances, migrations)
            self._update_available_resource(instances, migrations)

    def _cleaned_evacuations(self, instances: list[InstanceRecord],
                             migrations: list[MigrationRecord]):
        """An evacuation whose source cleaned up before the rebuild finished
        (``ComputeManager._destroy_evacuated_instances``, ``accepted`` or
        ``pre-migrating`` -> ``completed``): the instance is still recorded on the
        source, but its guest is destroyed and Placement no longer holds the source,
        so the source does not count it; the destination's claim stays until the
        rebuild finishes although the record says ``completed``.  Nova's
        ComputeNode counters differ here until the rebuild ends (the source's audit
        still counts ``instance.host``); the reference keeps Placement's figure."""
        for m in self.store.cleaned_evacuations(self.host):
            if m.source_compute == self.host:
                instances = [i for i in instances if i.uuid != m.instance_uuid]
                migrations = [x for x in migrations if x.uuid != m.uuid]
            elif m.status == "completed" and all(x.uuid != m.uuid for x in migrations):
                migrations = [*migrations, m]
        return instances, migrations

    def _reset_usage(self) -> list[int]:
        """Counters start from the reserved values (69eca4c60d, bug 1519001); the
        reserved amounts are outside the counters here, so from zero."""
        return [0] * len(RESOURCE_CLASSES)

    def _update_available_resource(self, instances: list[InstanceRecord],
                                   migrations: list[MigrationRecord]) -> None:
        self.usage = self._reset_usage()
        self.pci = dict.fromkeys(self.device_names)
        self.tracked_instances = set()
        self.tracked_migrations = {}
        incoming = {m.instance_uuid: m for m in migrations if m.dest_compute == self.host}
        for inst in instances:
            self._add_usage(self._instance_flavor(inst, incoming.get(inst.uuid)), +1)
            self._claim_pci(inst.pci_devices, inst.uuid)
            self.tracked_instances.add(inst.uuid)
        self._update_usage_from_migrations({i.uuid: i for i in instances}, migrations)
        self._update()

    def _instance_flavor(self, inst: InstanceRecord, incoming: MigrationRecord | None) -> str:
        """The flavor an instance on this host counts: its own, or the new one while an
        incoming resize has landed but is not finished - Placement's figure (the
        instance consumer holds the new flavor on the dest).  Nova 34's audit
        charges ``instance.flavor``, still the old one until ``_finish_resize``:
        ``apply_migration_context`` (32c1044d86, bugs 1953359 / 1952915) copies
        NUMA topology, PCI and resources, not the flavor."""
        mc = inst.migration_context
        if (incoming is not None and incoming.status == "post-migrating" and mc is not None
                and mc.migration_id == incoming.uuid and inst.new_flavor is not None):
            return inst.new_flavor
        return inst.flavor

    def _update_usage_from_migrations(self, on_host: dict[str, InstanceRecord],
                                      migrations: list[MigrationRecord]) -> None:
        """``_update_usage_from_migrations``: the newest migration per instance, only if
        the instance's MigrationContext names it (0bf9c91bb7, bug 1600304)."""
        newest: dict[str, MigrationRecord] = {}
        for m in migrations:  # oldest first: later rows win
            newest[m.instance_uuid] = m
        for m in newest.values():
            inst = on_host.get(m.instance_uuid) or self.store.instance(m.instance_uuid)
            if inst is None or inst.vm_state == "deleted":
                continue
            if not self._migration_is_current(inst, m):
                continue
            self._update_usage_from_migration(inst, m)

    def _migration_is_current(self, inst: InstanceRecord, m: MigrationRecord) -> bool:
        mc = inst.migration_context
        return mc is not None and mc.migration_id == m.uuid

    def _update_usage_from_migration(self, inst: InstanceRecord, m: MigrationRecord) -> None:
        """``_update_usage_from_migration``: the incoming / outbound / same-node rules of
        ``nova/compute/resource_tracker.py`` ``_update_usage_from_migration``, with the
        MigrationContext's devices."""
        incoming = m.dest_compute == self.host
        outbound = m.source_compute == self.host
        tracked = inst.uuid in self.tracked_instances
        mc = inst.migration_context
        if mc is None or mc.migration_id != m.uuid:
            mc = None  # devices come only from this migration's own context
        flavor = None
        new = True
        if incoming and outbound:
            # Same node: before the instance takes the new flavor, count the new
            # one for the claim; after, hold the old one for a revert.
            new = self._instance_flavor(inst, m) == self._old_flavor(inst, m)
            flavor = self._new_flavor(inst, m) if new else self._old_flavor(inst, m)
        elif incoming and not tracked:
            flavor = self._new_flavor(inst, m)
        elif outbound and not tracked:
            flavor, new = self._old_flavor(inst, m), False
        devices = () if mc is None else mc.new_devices if new else mc.old_devices
        if flavor is None:
            return  # nothing to hold here, or old_flavor unknown (bug 1834349)
        self._add_usage(flavor, +1)
        self._claim_pci(devices, inst.uuid)
        self.tracked_migrations[m.uuid] = m

    @staticmethod
    def _old_flavor(inst: InstanceRecord, m: MigrationRecord) -> str | None:
        """``_get_flavor(instance, 'old_', migration)``."""
        return inst.old_flavor if m.is_resize else inst.flavor

    @staticmethod
    def _new_flavor(inst: InstanceRecord, m: MigrationRecord) -> str | None:
        """``_get_flavor(instance, 'new_', migration)``."""
        return inst.new_flavor if m.is_resize else inst.flavor
