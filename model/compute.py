"""The API, conductor and compute managers of the reference cloud: one method per step.

Each step of docs/spec.md ("Steps") is performed as Nova performs it
(``nova/compute/api.py`` checks, ``nova/conductor/manager.py`` and
``conductor/tasks/*`` build migrations, ``nova/compute/manager.py`` writes
statuses and calls the :class:`ResourceTracker` of the host involved).  A
step that Nova would refuse raises :class:`Rejected` before anything is
written; an accepted step returns the devices its claim picked.  The whole
step is one database transaction.

Hosts that are down have no in-memory tracker (nova-compute is not running).
The two steps that can change a down host's usage - ``delete`` (the API's
local delete) and ``fail`` (the conductor's rollback) - correct the host's
compute-node record directly, as Nova corrects the host's Placement
allocations; the host's tracker recomputes everything when it comes back
(``host_up``: ``_destroy_evacuated_instances`` then ``update_available_resource``).
"""

from __future__ import annotations

from movecheck.model.records import (
    EVACUATION_CLEANED_UP,
    LANDED_STATUSES,
    InstanceRecord,
    MigrationRecord,
    fail_errors_instance,
    failure_status,
)
from movecheck.model.resource_tracker import ComputeResourcesUnavailable, Flavors, ResourceTracker
from movecheck.model.store import Store
from movecheck.spec.vocab import RESOURCE_CLASSES, Cloud, Step

#: The steps and the parameters each needs (the model's own table; the spec's
#: list is in movecheck.spec.steps).
PARAMS: dict[str, tuple[str, ...]] = {
    "boot": ("instance", "host", "flavor"), "delete": ("instance",),
    "reset_state": ("instance",),
    "resize_claim": ("migration", "instance", "dest", "flavor"),
    "live_claim": ("migration", "instance", "dest"),
    "evacuate_start": ("migration", "instance", "dest"),
    "host_down": ("host",), "host_up": ("host",), "audit": ("host",),
}
for _k in ("resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish",
           "revert", "revert_finish", "live_queue", "live_prepare", "live_run", "live_complete",
           "live_abort", "rebuild_claim", "finish_evacuation", "fail"):
    PARAMS[_k] = ("migration",)

_RESIZE = ("resize", "migration")
_LIVE = ("live-migration",)
_EVAC = ("evacuation",)
_DISK = RESOURCE_CLASSES.index("DISK_GB")


class Rejected(Exception):
    """The step is refused (API check, state conflict or a failed claim test)."""


class ClaimRefused(Exception):
    """A move's claim was refused after its migration record was written: the
    record's ``error`` is committed and the step is reported rejected."""


class NovaCloud:
    """The records, one ResourceTracker per up host, and the step methods."""

    #: The tracker class built for each up host (the bug catalogue overrides it).
    resource_tracker_class: type[ResourceTracker] = ResourceTracker

    def __init__(self, cloud: Cloud, store: Store, restarted: bool = False):
        self.cloud = cloud
        self.store = store
        self.flavors = Flavors(cloud)
        self.hosts = cloud.host_names
        self.flavor_names = frozenset(cloud.flavor_names)
        self.instance_names = frozenset(cloud.instances)
        self.max_migrations = cloud.max_migrations
        self.rts: dict[str, ResourceTracker | None] = {}
        for h in self.hosts:
            up = store.host_up(h)
            self.rts[h] = self._start_compute(h) if up else None
            if up and restarted:
                self.rts[h].update_available_resource()

    def _start_compute(self, host: str) -> ResourceTracker:
        return self.resource_tracker_class(host, self.store, self.flavors)

    # ------------------------------------------------------------ dispatch

    def perform(self, step: Step) -> tuple[str, ...]:
        """Perform one step atomically; return the picked devices or raise Rejected."""
        params = PARAMS.get(step.kind)
        if params is None:
            raise Rejected(f"unknown step {step.kind!r}")
        for p in params:
            v = getattr(step, p)
            if v is None:
                raise Rejected(f"missing parameter {p}")
            if type(v) is not str:
                raise Rejected(f"parameter {p} must be a name, not {v!r}")
        if step.host is not None and step.host not in self.rts:
            raise Rejected(f"unknown host {step.host}")
        if step.dest is not None and step.dest not in self.rts:
            raise Rejected(f"unknown host {step.dest}")
        if step.flavor is not None and step.flavor not in self.flavor_names:
            raise Rejected(f"unknown flavor {step.flavor}")
        if step.instance is not None and step.instance not in self.instance_names:
            raise Rejected(f"unknown instance {step.instance}")
        refused = None
        with self.store.transaction():
            try:
                return getattr(self, step.kind)(step) or ()
            except ComputeResourcesUnavailable as e:
                raise Rejected(str(e)) from None
            except ClaimRefused as e:
                refused = str(e)  # the record's error is committed with the step
        raise Rejected(refused)

    # ------------------------------------------------------------ lookups (API checks)

    def _rt(self, host: str) -> ResourceTracker:
        rt = self.rts[host]
        if rt is None:
            raise Rejected(f"host {host} is down")
        return rt

    def _instance(self, uuid: str) -> InstanceRecord:
        inst = self.store.instance(uuid)
        if inst is None or inst.vm_state == "deleted":
            raise Rejected(f"instance {uuid} does not exist")
        return inst

    def _migration(self, step: Step, types: tuple[str, ...],
                   statuses: tuple[str, ...]) -> MigrationRecord:
        m = self.store.migration(step.migration)
        if m is None:
            raise Rejected(f"unknown migration {step.migration}")
        if m.migration_type not in types:
            raise Rejected(f"migration {m.uuid} is a {m.migration_type}")
        if m.status not in statuses:
            raise Rejected(f"migration {m.uuid} is {m.status}, not {' or '.join(statuses)}")
        return m

    def _new_migration(self, step: Step, need_source_up: bool = True,
                       dest_up: bool = True) -> InstanceRecord:
        """The API's checks before a move: the instance exists and is not moving, its
        host (and the dest, unless the scheduler checks it) is up, and the migration
        record can be created."""
        inst = self._instance(step.instance)
        if (self.store.in_progress_by_instance(inst.uuid) is not None
                or self._gone(inst) is not None):
            raise Rejected(f"instance {inst.uuid} already has an in-progress migration")
        if need_source_up:
            self._rt(inst.host)
        if dest_up:
            self._rt(step.dest)
        if self.store.migration(step.migration) is not None:
            raise Rejected(f"migration {step.migration} already exists")
        if self.store.migration_count() >= self.max_migrations:
            raise Rejected(f"the cloud allows at most {self.max_migrations} migrations")
        return inst

    def _drop_on(self, host: str, instance_uuid: str, flavor: str, devices: tuple[str, ...],
                 migration_uuid: str | None = None) -> None:
        """Give back a hold on ``host``: by its tracker, or in its record when it is down."""
        rt = self.rts[host]
        if rt is not None:
            rt.drop_move_claim(instance_uuid, flavor, devices, migration_uuid)
            return
        usage, pci = self.store.compute_node(host)
        v = self.flavors.vector[flavor]
        for k in range(len(v)):
            usage[k] -= v[k]
        for d in devices:
            if d in pci:
                pci[d] = None
        self.store.save_compute_node(host, usage, pci)

    # ------------------------------------------------------------ boot / delete

    def boot(self, step: Step):
        """``_build_and_run_instance`` -> ``rt.instance_claim``."""
        if self.store.instance(step.instance) is not None:
            raise Rejected(f"instance {step.instance} was already booted")
        rt = self._rt(step.host)
        inst = InstanceRecord(step.instance, "active", step.host, step.flavor)
        with rt.instance_claim(inst) as claim:
            # nova/utils.py get_system_metadata_from_image: the image's min_disk is
            # raised to the flavor's root disk (the image has none here).
            self.store.set_system_metadata(inst.uuid, "image_min_disk",
                                           str(self.flavors.vector[step.flavor][_DISK]))
            return claim.devices

    def delete(self, step: Step):
        """``compute/api.py`` ``API._delete``: a RESIZED instance's resize is confirmed
        first (``_confirm_resize_on_deleting``: ``finished`` or ``confirming`` ->
        ``confirmed``, the source freed); any other in-progress move fails; an
        evacuation's source that has not cleaned up is dropped from the instance's
        allocation (Placement's ``delete_allocation_for_instance`` takes every
        provider); then the instance frees what it holds on its host (local delete
        if the host is down)."""
        inst = self._instance(step.instance)
        m = self.store.in_progress_by_instance(inst.uuid)
        gone = self._gone(inst)
        if m is not None:
            if m.migration_type in _RESIZE and m.status in self.CONFIRMED_ON_DELETE:
                inst = self._confirm_resize_on_deleting(inst, m)
            else:
                inst = self._rollback(inst, m)
        elif gone is not None:  # its record says completed; the destination's claim goes
            inst = self._release(inst, gone)
        self._drop_uncleaned_evacuation_source(inst)
        rt = self.rts[inst.host]
        if gone is not None:
            pass  # the source dropped the instance when it restarted
        elif rt is not None:
            rt.update_usage(inst)
        else:
            self._drop_on(inst.host, inst.uuid, inst.flavor, inst.pci_devices)
        inst.vm_state = "deleted"
        inst.pci_devices = ()
        inst.old_flavor = inst.new_flavor = None
        inst.migration_context = None
        self.store.save_instance(inst)

    #: Statuses ``API._confirm_resize_on_deleting`` looks for (``compute/api.py``).
    CONFIRMED_ON_DELETE = ("finished", "confirming")

    def _confirm_resize_on_deleting(self, inst: InstanceRecord, m: MigrationRecord) -> InstanceRecord:
        """``API._confirm_resize_on_deleting`` -> the source's ``confirm_resize``
        (``rt.drop_move_claim_at_source``): ``confirmed``, the source's old flavor and
        old devices freed.  A source that is down is corrected in its record, as
        Placement's migration allocation is deleted either way."""
        rt = self.rts[m.source_compute]
        if rt is not None:
            rt.drop_move_claim_at_source(inst, m)
            return inst
        inst = self._release(inst, m)
        self.store.save_instance(inst)
        m.status = "confirmed"
        self.store.save_migration_status(m)
        return inst

    def _waiting(self, inst: InstanceRecord) -> MigrationRecord | None:
        """The ``done`` evacuation whose source has not cleaned up yet: the source
        (down) still holds the old flavor and the instance's old devices in its
        record, as Placement still holds it in the instance's allocation."""
        for m in self.store.evacuations_of(inst.uuid):
            if m.status == "done" and not m.source_cleaned:
                return m
        return None

    def _gone(self, inst: InstanceRecord) -> MigrationRecord | None:
        """The evacuation whose source restarted before the instance landed
        (``_destroy_evacuated_instances`` on ``accepted`` / ``pre-migrating``): the
        instance is still recorded on the source, which no longer holds it, and the
        rebuild on the destination is still to finish."""
        m = self.store.newest_migration(inst.uuid)
        if (m is not None and m.migration_type == "evacuation" and m.source_cleaned
                and inst.host == m.source_compute and inst.vm_state != "deleted"):
            return m
        return None

    def _drop_uncleaned_evacuation_source(self, inst: InstanceRecord) -> None:
        """Deleting the instance deletes its whole Placement allocation, a waiting
        source's share (:meth:`_waiting`) included."""
        m = self._waiting(inst)
        if m is None:
            return
        _, pci = self.store.compute_node(m.source_compute)
        devices = tuple(d for d, holder in pci.items() if holder == inst.uuid)
        self._drop_on(m.source_compute, inst.uuid, m.old_flavor, devices, m.uuid)
        m.source_cleaned = True
        self.store.save_source_cleaned(m)

    def reset_state(self, step: Step):
        """``os-resetState`` (``compute/api.py`` ``API.reset_state`` ->
        ``Instance.vm_state := active``): an admin clears the ERROR a failed move left,
        so that resize and live migration are allowed again.  No accounting changes."""
        inst = self._instance(step.instance)
        if inst.vm_state != "error":
            raise Rejected(f"instance {inst.uuid} is {inst.vm_state}, not error")
        inst.vm_state = "active"
        self.store.save_instance(inst)

    # ------------------------------------------------------------ resize / cold migrate

    def resize_claim(self, step: Step):
        """Conductor ``MigrationTask`` (the record, then scheduling) + dest
        ``_prep_resize`` -> ``rt.resize_claim``."""
        inst = self._new_migration(step, dest_up=False)
        if inst.vm_state != "active":
            raise Rejected(f"instance {inst.uuid} is {inst.vm_state}, not active")
        if step.dest == inst.host and step.flavor == inst.flavor:
            raise Rejected("a cold migration must change host")
        min_disk = int(self.store.system_metadata(inst.uuid, "image_min_disk") or 0)
        if self.flavors.vector[step.flavor][_DISK] < min_disk:
            # API._validate_flavor_image_nostatus: FlavorDiskSmallerThanMinDisk (400)
            raise Rejected(f"flavor {step.flavor}'s root disk is smaller than instance "
                           f"{inst.uuid}'s image min_disk ({min_disk} GB)")
        mtype = "resize" if step.flavor != inst.flavor else "migration"
        m = MigrationRecord(step.migration, inst.uuid, mtype, inst.host, step.dest,
                            inst.flavor, step.flavor, "pre-migrating")
        if self.rts[step.dest] is None:  # the scheduler's ComputeFilter: NoValidHost
            self._refused(m, f"host {step.dest} is down")
        stashed = inst.old_flavor, inst.new_flavor
        self._stash_flavors(inst, step.flavor)
        try:
            with self._rt(step.dest).resize_claim(inst, m) as claim:
                return claim.devices  # the cast to resize_instance would run here
        except ComputeResourcesUnavailable as e:
            inst.old_flavor, inst.new_flavor = stashed  # the rollback puts them back
            self.store.save_instance(inst)
            self._refused(m, str(e))

    def _stash_flavors(self, inst: InstanceRecord, new_flavor: str) -> None:
        """``instance.old_flavor``/``new_flavor`` are set before the host changes
        (b841e55321, bug 1944759); the claim saves the instance."""
        inst.old_flavor = inst.flavor
        inst.new_flavor = new_flavor

    def resize_migrate(self, step: Step):
        """Source ``_resize_instance``: status ``migrating``."""
        m = self._migration(step, _RESIZE, ("pre-migrating",))
        self._rt(m.source_compute)
        m.status = "migrating"
        self.store.save_migration_status(m)

    def resize_migrated(self, step: Step):
        """Source ``_resize_instance``: ``post-migrating``, then ``instance.host := dest``
        with the new devices of the MigrationContext."""
        m = self._migration(step, _RESIZE, ("migrating",))
        self._rt(m.source_compute)
        m.status = "post-migrating"
        self.store.save_migration_status(m)
        inst = self.store.instance(m.instance_uuid)
        inst.host = m.dest_compute
        inst.pci_devices = inst.migration_context.new_devices
        self.store.save_instance(inst)

    def finish_resize(self, step: Step):
        """Dest ``_finish_resize``: ``instance.flavor := new_flavor``, vm ``resized``,
        status ``finished``."""
        m = self._migration(step, _RESIZE, ("post-migrating",))
        self._rt(m.dest_compute)
        inst = self.store.instance(m.instance_uuid)
        inst.flavor = m.new_flavor
        inst.vm_state = "resized"
        self.store.save_instance(inst)
        m.status = "finished"
        self.store.save_migration_status(m)

    def confirm(self, step: Step):
        """API ``confirm_resize``: status ``confirming``."""
        m = self._migration(step, _RESIZE, ("finished",))
        m.status = "confirming"
        self.store.save_migration_status(m)

    def confirm_finish(self, step: Step):
        """Source ``confirm_resize`` -> ``rt.drop_move_claim_at_source``."""
        m = self._migration(step, _RESIZE, ("confirming",))
        rt = self._rt(m.source_compute)
        rt.drop_move_claim_at_source(self.store.instance(m.instance_uuid), m)

    def revert(self, step: Step):
        """API ``revert_resize``: status ``reverting``."""
        m = self._migration(step, _RESIZE, ("finished",))
        m.status = "reverting"
        self.store.save_migration_status(m)

    def revert_finish(self, step: Step):
        """Dest ``revert_resize`` -> ``rt.drop_move_claim_at_dest``, then source
        ``finish_revert_resize``: the instance is back with the old flavor and devices."""
        m = self._migration(step, _RESIZE, ("reverting",))
        dest = self._rt(m.dest_compute)
        self._rt(m.source_compute)
        inst = self.store.instance(m.instance_uuid)
        dest.drop_move_claim_at_dest(inst, m, "reverted")
        self.finish_revert_resize(inst, m)

    def finish_revert_resize(self, inst: InstanceRecord, m: MigrationRecord) -> None:
        """Source ``finish_revert_resize`` (the source's hold for the migration
        becomes the instance's own: no usage change there)."""
        inst.host = m.source_compute
        inst.flavor = m.old_flavor
        inst.pci_devices = inst.migration_context.old_devices
        inst.old_flavor = inst.new_flavor = None
        inst.migration_context = None
        inst.vm_state = "active"
        self.store.save_instance(inst)

    # ------------------------------------------------------------ live migration

    def live_claim(self, step: Step):
        """Conductor ``ComputeTaskManager._live_migrate`` (the record) and
        ``LiveMigrationTask`` -> dest ``rt.live_migration_claim``."""
        inst = self._new_migration(step, dest_up=False)
        if inst.vm_state != "active":
            raise Rejected(f"instance {inst.uuid} is {inst.vm_state}, not active")
        m = MigrationRecord(step.migration, inst.uuid, "live-migration", inst.host, step.dest,
                            inst.flavor, inst.flavor, "accepted")
        if step.dest == inst.host:  # _check_destination_is_not_source
            self._refused(m, "a live migration must change host")
        if self.rts[step.dest] is None:  # _check_host_is_up
            self._refused(m, f"host {step.dest} is down")
        try:
            with self._rt(step.dest).live_migration_claim(inst, m) as claim:
                return claim.devices
        except ComputeResourcesUnavailable as e:
            self._refused(m, str(e))

    def _refused(self, m: MigrationRecord, reason: str) -> None:
        """A move the scheduler or the destination refused after the conductor wrote its
        record (``MigrationTask._preallocate_migration``, ``ComputeTaskManager._live_migrate``):
        the step is rejected and the record ends ``error`` (``MigrationTask.rollback``,
        ``_live_migrate``), the vm_state unchanged (Nova's ``test_resize_not_enough_resource``)."""
        m.status = "error"
        self.store.create_migration(m)
        raise ClaimRefused(reason)

    def _live_status(self, step: Step, before: str, after: str, up: tuple[str, ...]):
        m = self._migration(step, _LIVE, (before,))
        for side in up:
            self._rt(getattr(m, side))
        m.status = after
        self.store.save_migration_status(m)

    def live_queue(self, step: Step):
        """Source ``live_migration``: ``queued``."""
        self._live_status(step, "accepted", "queued", ("source_compute",))

    def live_prepare(self, step: Step):
        """Source ``_do_live_migration``: ``preparing`` (pre_live_migration on dest)."""
        self._live_status(step, "queued", "preparing", ("source_compute", "dest_compute"))

    def live_run(self, step: Step):
        """Source ``_do_live_migration``: ``running``."""
        self._live_status(step, "preparing", "running", ("source_compute",))

    def live_complete(self, step: Step):
        """``_post_live_migration``: the dest applies and drops the MigrationContext and
        takes the instance; the source frees the flavor and the old devices."""
        m = self._migration(step, _LIVE, ("running",))
        source = self._rt(m.source_compute)
        self._rt(m.dest_compute)
        inst = self.store.instance(m.instance_uuid)
        old_devices = inst.migration_context.old_devices
        inst.host = m.dest_compute
        inst.pci_devices = inst.migration_context.new_devices
        inst.migration_context = None
        self.store.save_instance(inst)
        m.status = "completed"
        self.store.save_migration_status(m)
        source.drop_move_claim(inst.uuid, m.old_flavor, old_devices, m.uuid)

    def live_abort(self, step: Step):
        """``live_migration_abort`` / ``_rollback_live_migration``: the dest drops its
        claim (``drop_move_claim_at_destination``); status ``cancelled``."""
        m = self._migration(step, _LIVE, ("queued", "preparing", "running"))
        self._rt(m.source_compute)
        dest = self._rt(m.dest_compute)
        inst = self.store.instance(m.instance_uuid)
        dest.drop_move_claim_at_dest(inst, m, "cancelled")
        inst.migration_context = None
        inst.vm_state = "active"
        self.store.save_instance(inst)

    # ------------------------------------------------------------ evacuation

    def evacuate_start(self, step: Step):
        """API ``evacuate``: only from a down host; creates the ``accepted`` record."""
        inst = self._new_migration(step, need_source_up=False)
        if self.rts[inst.host] is not None:
            raise Rejected(f"cannot evacuate from {inst.host}: the host is up")
        if step.dest == inst.host:
            raise Rejected("an evacuation must change host")
        waiting = self._waiting(inst)
        if waiting is not None:  # the spec keeps one such wait per instance
            raise Rejected(f"instance {inst.uuid} still waits for {waiting.source_compute} to "
                           "clean up an earlier evacuation")
        self.store.create_migration(MigrationRecord(
            step.migration, inst.uuid, "evacuation", inst.host, step.dest, inst.flavor,
            inst.flavor, "accepted"))

    def rebuild_claim(self, step: Step):
        """Dest ``rebuild_instance`` -> ``rt.rebuild_claim``.  Also after the source came
        back and wrote ``completed`` over ``accepted``: the destination is not told
        (``ResourceTracker._claim_existing_migration`` writes ``pre-migrating`` over it)."""
        m = self._migration(step, _EVAC, ("accepted", "completed"))
        inst = self.store.instance(m.instance_uuid)
        if m.status == "completed" and not self._rebuild_pending(inst, m, claimed=False):
            raise Rejected(f"migration {m.uuid} is completed, not accepted")
        dest = self._rt(m.dest_compute)
        try:
            with dest.rebuild_claim(inst, m) as claim:
                return claim.devices
        except ComputeResourcesUnavailable as e:
            # ComputeTaskManager.rebuild_instance: NoValidHost writes error on the
            # ``accepted`` record it looks up and sets the instance ERROR; a record
            # the source's restart wrote ``completed`` is not found and stays.
            if m.status != "accepted":
                raise Rejected(str(e)) from None
            m.status = "error"
            self.store.save_migration_status(m)
            inst.vm_state = "error"
            self.store.save_instance(inst)
            raise ClaimRefused(str(e)) from None

    def finish_evacuation(self, step: Step):
        """Dest ``rt.finish_evacuation``; also over ``completed`` when the source came
        back during the rebuild (``Migration.save`` has no compare-and-swap)."""
        m = self._migration(step, _EVAC, ("pre-migrating", "completed"))
        inst = self.store.instance(m.instance_uuid)
        if m.status == "completed" and not self._rebuild_pending(inst, m, claimed=True):
            raise Rejected(f"migration {m.uuid} is completed, not pre-migrating")
        self._rt(m.dest_compute).finish_evacuation(inst, m)
        inst.vm_state = "active"  # rebuild_instance: the rebuilt guest is ACTIVE
        self.store.save_instance(inst)

    def _rebuild_pending(self, inst: InstanceRecord | None, m: MigrationRecord,
                         claimed: bool) -> bool:
        """The source cleaned up ``m`` before the rebuild finished (:meth:`_gone`) and the
        destination has (``claimed``) or has not claimed yet (the MigrationContext
        names ``m`` once it has)."""
        if inst is None:
            return False
        gone = self._gone(inst)
        if gone is None or gone.uuid != m.uuid:
            return False
        mc = inst.migration_context
        return (mc is not None and mc.migration_id == m.uuid) == claimed

    # ------------------------------------------------------------ failure

    def fail(self, step: Step):
        """``errors_out_migration`` / ``MigrationTask.rollback`` / ``_rollback_live_migration``
        / ``rebuild_instance``'s failure."""
        m = self.store.migration(step.migration)
        if m is None:
            raise Rejected(f"unknown migration {step.migration}")
        if m.status in self.store.NOT_IN_PROGRESS:
            raise Rejected(f"migration {m.uuid} is {m.status} (terminal)")
        inst = self.store.instance(m.instance_uuid)
        gone = self._gone(inst)
        if gone is not None and gone.uuid == m.uuid:  # the spec lets that rebuild finish
            raise Rejected(f"migration {m.uuid}: its source {m.source_compute} has already "
                           "dropped the instance")
        self._rollback(inst, m)

    def _release(self, inst: InstanceRecord, m: MigrationRecord) -> InstanceRecord:
        """Give back the side of ``m`` the instance is not on: the old flavor and old
        devices on the source once it has landed, else the destination's claim (new
        flavor, new devices); the instance keeps the flavor of the host it is on and
        drops old/new flavor and the MigrationContext.  The caller saves."""
        mc = inst.migration_context
        landed = m.status in LANDED_STATUSES
        if mc is not None and mc.migration_id == m.uuid:
            if landed:
                self._drop_on(m.source_compute, inst.uuid, m.old_flavor, mc.old_devices, m.uuid)
            else:
                self._drop_on(m.dest_compute, inst.uuid, m.new_flavor, mc.new_devices, m.uuid)
        if landed:
            inst.flavor = m.new_flavor
        inst.old_flavor = inst.new_flavor = None
        inst.migration_context = None
        return inst

    def _rollback(self, inst: InstanceRecord, m: MigrationRecord) -> InstanceRecord:
        """A failed move: :meth:`_release`, the failure status of its type and phase
        (:func:`~movecheck.model.records.failure_status`), and vm_state ERROR after
        the claim of a resize, cold migration or evacuation
        (``ComputeManager._error_out_instance_on_exception``)."""
        status = failure_status(m)
        if fail_errors_instance(m):
            inst.vm_state = "error"
        elif inst.vm_state == "resized":
            inst.vm_state = "active"
        inst = self._release(inst, m)
        self.store.save_instance(inst)
        m.status = status
        self.store.save_migration_status(m)
        return inst

    # ------------------------------------------------------------ hosts

    def host_down(self, step: Step):
        """nova-compute stops: its in-memory tracker is gone."""
        if self.rts[step.host] is None:
            raise Rejected(f"host {step.host} is already down")
        self.rts[step.host] = None
        self.store.set_host_up(step.host, False)

    def host_up(self, step: Step):
        """nova-compute starts: ``init_host`` -> ``_destroy_evacuated_instances``, then
        ``update_available_resource`` rebuilds the tracker from the records."""
        if self.rts[step.host] is not None:
            raise Rejected(f"host {step.host} is already up")
        self.store.set_host_up(step.host, True)
        self._destroy_evacuated_instances(step.host)
        rt = self.rts[step.host] = self._start_compute(step.host)
        rt.update_available_resource()

    #: Evacuation statuses the restarted source cleans up (``accepted`` and
    #: ``done`` since bug 1518200, ``pre-migrating`` since bug 1764883).
    EVACUATION_CLEANED_UP = EVACUATION_CLEANED_UP

    def _destroy_evacuated_instances(self, host: str) -> None:
        """``ComputeManager._destroy_evacuated_instances`` (``nova/compute/manager.py``):
        for every evacuation away from ``host`` in ``accepted``, ``pre-migrating`` or
        ``done`` whose instance is not deleted, the local guest is destroyed, the
        source is removed from the instance's allocation
        (``remove_provider_tree_from_instance_allocation``) and the record says
        ``completed``.  The destination is not told: an unfinished rebuild carries
        on with its claim (``rebuild_claim`` / ``finish_evacuation`` later write
        ``pre-migrating`` / ``done`` over ``completed``).  The source's usage is
        rebuilt by the audit that follows (which no longer counts the instance here)."""
        for m in self.store.evacuations_from(host):
            if m.status not in self.EVACUATION_CLEANED_UP:
                continue
            inst = self.store.instance(m.instance_uuid)
            if inst is None or inst.vm_state == "deleted":
                continue  # its allocations went with it
            gone = self._gone(inst)
            if gone is not None and gone.uuid == m.uuid:
                continue  # cleaned up once already; the rebuild is still to finish
            m.source_cleaned = True
            self.store.save_source_cleaned(m)
            newest = self.store.newest_migration(inst.uuid)
            if newest.uuid != m.uuid:
                # The instance moved on since (a done evacuation is finished): the spec
                # keeps an older record as it is (docs/spec.md); only the share held
                # here goes.
                continue
            m.status = "completed"
            self.store.save_migration_status(m)

    def audit(self, step: Step):
        """The host's periodics: ``update_available_resource``, and
        ``_cleanup_incomplete_migrations`` (:meth:`_cleanup_incomplete_migrations`)."""
        self._rt(step.host).update_available_resource()
        self._cleanup_incomplete_migrations(step.host)

    def _cleanup_incomplete_migrations(self, host: str) -> None:
        """``ComputeManager._cleanup_incomplete_migrations`` (``nova/compute/manager.py``):
        the ``error`` migrations on this host (source or destination) of a deleted
        instance whose host is another one become ``failed`` once the leftover files
        are removed.  Only the instance's newest record: the spec keeps older records
        as they are (docs/spec.md); Nova takes every such record."""
        for m in self.store.migrations_by_host(host, self.store.NOT_IN_PROGRESS - {"error"}):
            if m.status != "error":
                continue
            inst = self.store.instance(m.instance_uuid)
            if inst is None or inst.vm_state != "deleted" or inst.host == host:
                continue
            if self.store.newest_migration(inst.uuid).uuid != m.uuid:
                continue
            m.status = "failed"
            self.store.save_migration_status(m)
