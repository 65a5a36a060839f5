"""The ``placement`` tracker: the real OpenStack Placement, driven the way Nova drives it.

Hosts are resource providers with VCPU / MEMORY_MB / DISK_GB inventories;
each device is a nested child provider with one unit of
:data:`DEVICE_CLASS` (Nova's "PCI in Placement" model since Zed:
``nova/compute/pci_placement_translator.py``, one provider per device named
``<hostname>_<address>``), so that the device names a claim picked are real
Placement providers and device exhaustion is refused by Placement itself.

Each step issues exactly the allocation writes Nova sends since Queens
(``nova/scheduler/client/report.py``; docs/placement.md): the migration
consumer holds the source allocation and the instance consumer holds the
destination during resize, cold and live migration; confirm deletes the
migration's allocation; revert, rollback and failure before landing move it
back; an evacuation doubles the instance's allocation until the source comes
back; delete removes everything.

**Only allocation outcomes come from Placement.**  Placement knows nothing of
migration statuses, vm states or which hosts are up, so the adapter keeps the
small bookkeeping that Nova's API and conductor keep (which instance is where
with which flavor, each migration's type, hosts and status, which hosts are
up) and rejects status-only steps from it, as Nova's API does
(``compute/api.py`` ``check_instance_state``, ``Migration.get_by_instance_and_status``,
``servicegroup`` up checks).  A claim is accepted or refused by Placement's
answer to the allocation write (409 on capacity), never by a re-computation.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from movecheck.conformance.adapters.placement_client import AllocationRefused, Allocations, ReportClient
from movecheck.conformance.adapters.placement_service import PlacementService
from movecheck.spec.statuses import LANDED
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import (
    EVACUATION,
    LIVE_MIGRATION,
    MIGRATION,
    RESIZE,
    RESOURCE_CLASSES,
    Cloud,
    Flavor,
    Observation,
    Outcome,
    Step,
)

#: Resource class of one device (a custom class, as Nova's PCI-in-Placement uses).
DEVICE_CLASS = "CUSTOM_MOVECHECK_PCI"

#: Project and user every consumer belongs to (Placement requires both since 1.8).
PROJECT_ID = "movecheck-project"
USER_ID = "movecheck-user"

_NS = uuid.UUID("6d0f3c1e-6d1b-4c0a-9f55-6d6f76656368")

# The status machines are the spec's (movecheck.spec.statuses): what is under
# test here is Placement's allocation accounting, not the status bookkeeping
# that Nova's conductor and API keep around it.

_RESIZES = (RESIZE, MIGRATION)

#: Statuses after which a migration is over, of any type (``nova/db/main/api.py``
#: ``migration_get_in_progress_and_error_by_host_and_node`` leaves these out;
#: ``error`` is over for the API, ``migration_get_in_progress_by_instance``).
_ENDED = frozenset({"confirmed", "reverted", "error", "failed", "completed", "cancelled", "done"})

#: Status-only steps: (migration types, from statuses, to status, sides that must be up).
#: Nova's compute manager writes these statuses (``compute/manager.py``
#: ``_prep_resize`` .. ``confirm_resize``, ``_do_live_migration``,
#: ``rebuild_instance``) and refuses to act for a compute whose service is down.
_STATUS_STEPS: dict[str, tuple[tuple[str, ...], frozenset[str], str, tuple[str, ...]]] = {
    "resize_migrate": (_RESIZES, frozenset({"pre-migrating"}), "migrating", ("source",)),
    "resize_migrated": (_RESIZES, frozenset({"migrating"}), "post-migrating", ("source",)),
    "finish_resize": (_RESIZES, frozenset({"post-migrating"}), "finished", ("dest",)),
    "confirm": (_RESIZES, frozenset({"finished"}), "confirming", ()),
    "confirm_finish": (_RESIZES, frozenset({"confirming"}), "confirmed", ("source",)),
    "revert": (_RESIZES, frozenset({"finished"}), "reverting", ()),
    "revert_finish": (_RESIZES, frozenset({"reverting"}), "reverted", ("dest", "source")),
    "live_queue": ((LIVE_MIGRATION,), frozenset({"accepted"}), "queued", ("source",)),
    "live_prepare": ((LIVE_MIGRATION,), frozenset({"queued"}), "preparing", ("source", "dest")),
    "live_run": ((LIVE_MIGRATION,), frozenset({"preparing"}), "running", ("source",)),
    "live_complete": ((LIVE_MIGRATION,), frozenset({"running"}), "completed", ("source", "dest")),
    "live_abort": ((LIVE_MIGRATION,), frozenset({"queued", "preparing", "running"}), "cancelled",
                   ("source", "dest")),
    # An evacuation's destination is not told when the source cleans up early
    # (``completed``): it may still claim and finish (``_rebuild_pending``).
    "rebuild_claim": ((EVACUATION,), frozenset({"accepted", "completed"}), "pre-migrating",
                      ("dest",)),
    "finish_evacuation": ((EVACUATION,), frozenset({"pre-migrating", "completed"}), "done",
                          ("dest",)),
}


def _failure_status(m: _Migration) -> str:
    """The status Nova 34 writes when a move fails, by type and phase: resize and cold
    migration ``error`` (``errors_out_migration``, ``MigrationTask.rollback``); live
    migration and evacuation ``error`` before the destination's claim (the
    conductor: ``_live_migrate``, ``ComputeTaskManager.rebuild_instance``),
    ``failed`` after (``_rollback_live_migration``, ``ComputeManager.rebuild_instance``)."""
    if m.migration_type in _RESIZES or m.status == "accepted":
        return "error"
    return "failed"


@dataclass
class _Instance:
    """What Nova's API database knows of an instance (``nova/objects/instance.py``)."""

    host: str
    flavor: str
    vm_state: str = "active"
    #: ``instance_system_metadata`` ``image_min_disk``: the boot flavor's root disk
    #: (``nova/utils.py`` ``get_system_metadata_from_image``).
    image_min_disk: int = 0


@dataclass
class _Migration:
    """What Nova's database knows of a migration (``nova/objects/migration.py``)."""

    instance: str
    migration_type: str
    source: str
    dest: str
    old_flavor: str
    new_flavor: str
    status: str
    #: The source's ``_destroy_evacuated_instances`` removed it from the instance's
    #: allocation (an evacuation only).
    source_cleaned: bool = False
    #: The destination's claim was written (an evacuation only).
    claimed: bool = False

    @property
    def in_progress(self) -> bool:
        return self.status not in _ENDED


def _nonempty(allocs: Allocations) -> bool:
    """A claim with no resources at all (a flavor of zeros, no devices) is not sent.

    Nova never sends one (flavors have vcpus >= 1 and memory_mb >= 1); and
    Placement 1.28 would create an empty consumer at generation 0 that
    GET /allocations does not show, so that the next write with the generation
    GET reported (null) gets a 409 (docs/placement.md, finding 5).
    """
    return any(allocs.values())


class _Rejected(Exception):
    """A step Nova's API, conductor or Placement refuses (becomes a rejected outcome)."""


class PlacementTracker:
    """A movecheck tracker backed by the real Placement (conformance/tracker.py protocol)."""

    #: Usage per host from GET /resource_providers/{rp}/usages; device holders
    #: from GET /resource_providers/{device rp}/allocations; allocations per
    #: consumer from GET /allocations/{consumer}.
    capabilities = frozenset({"usage", "devices", "allocations"})

    #: Placement's usages are the sum of its allocations, exact after every write.
    usage_level = "placement"

    #: Every step maps to what Nova sends (often nothing); none is inexpressible.
    unsupported_steps: frozenset[str] = frozenset()

    def __init__(self, db_url: str | None = None):
        self.service = PlacementService.get(db_url)
        self.client = ReportClient(self.service, PROJECT_ID, USER_ID)
        self.cloud: Cloud | None = None

    # ------------------------------------------------------------------ protocol

    def reset(self, cloud: Cloud) -> None:
        """A fresh Placement database with one provider tree per host."""
        self.service.reset()
        self.cloud = cloud
        self.flavors: dict[str, Flavor] = {f.name: f for f in cloud.flavors}
        self.up = {h.name: h.up for h in cloud.hosts}
        self.instances: dict[str, _Instance] = {}
        self.migrations: dict[str, _Migration] = {}
        self.root: dict[str, str] = {}  # host -> provider uuid
        self.device_rp: dict[str, dict[str, str]] = {}  # host -> {device: provider uuid}
        self.device_name: dict[str, str] = {}  # device provider uuid -> device name
        if any(h.devices for h in cloud.hosts):
            self.service.expect(201, "PUT", f"/resource_classes/{DEVICE_CLASS}")
        for h in cloud.hosts:
            rp = self._provider(h.name, None)
            self.root[h.name] = rp
            self._inventory(rp, {
                rc: {"total": inv.total, "reserved": inv.reserved,
                     "allocation_ratio": inv.allocation_ratio}
                for rc, inv in h.inventories
                # Placement refuses total 0; Nova does not report such inventory.
                if inv.total > 0
            })
            self.device_rp[h.name] = {}
            for d in h.devices:
                drp = self._provider(f"{h.name}_{d}", rp)
                self._inventory(drp, {DEVICE_CLASS: {"total": 1}})
                self.device_rp[h.name][d] = drp
                self.device_name[drp] = d
        self._first_step_request = len(self.service.log)  # requests() starts after set-up

    def apply(self, step: Step) -> Outcome:
        sd = STEPS.get(step.kind)
        if sd is None:
            return Outcome.reject(f"unknown step {step.kind!r}")
        missing = [p for p in sd.params if getattr(step, p, None) is None]
        if missing:
            return Outcome.reject(f"step {step.kind} needs {', '.join(missing)}")
        handler = getattr(self, "_step_" + step.kind, None)
        try:
            if handler is not None:
                return Outcome.accept(tuple(sorted(handler(step) or ())))
            if step.kind in _STATUS_STEPS:
                return Outcome.accept(tuple(sorted(self._status_step(step) or ())))
            raise _Rejected(f"unknown step {step.kind!r}")
        except _Rejected as e:
            return Outcome.reject(str(e))

    def observe(self) -> Observation:
        usage = {}
        for host, rp in self.root.items():
            data = self.service.expect(200, "GET", f"/resource_providers/{rp}/usages")
            usage[host] = {rc: int(data["usages"].get(rc, 0)) for rc in RESOURCE_CLASSES}
        devices: dict[str, dict[str, str | None]] = {}
        for host, devs in self.device_rp.items():
            devices[host] = {}
            for d, drp in devs.items():
                data = self.service.expect(200, "GET", f"/resource_providers/{drp}/allocations")
                holders = [self._holder(c) for c in data["allocations"]]
                # Two consumers on a one-unit device would be a Placement bug;
                # report the first and let the comparison show the difference.
                devices[host][d] = holders[0] if holders else None
        return Observation(usage=usage, devices=devices, allocations=self.allocations())

    def close(self) -> None:
        """Nothing to release: the next reset replaces the database."""

    # ------------------------------------------------------------------ reports

    def allocations(self) -> dict[str, dict[str, dict[str, int]]]:
        """Placement's real allocations per consumer: GET /allocations/{consumer} for
        every instance (deleted ones too: a leak must show) and every migration.

        {instance or migration id: {host: {resource class: amount}}}: a device
        provider counts for its host, and its one unit of :data:`DEVICE_CLASS`
        is left out (devices are the ``devices`` part)."""
        host_of = {rp: host for host, rp in self.root.items()}
        for host, devs in self.device_rp.items():
            host_of.update({drp: host for drp in devs.values()})
        consumers = [(i, self._inst_uuid(i)) for i in self.instances]
        consumers += [(m, self._mig_uuid(m)) for m in self.migrations]
        out: dict[str, dict[str, dict[str, int]]] = {}
        for name, c in consumers:
            data = self.service.expect(200, "GET", f"/allocations/{c}")
            for rp, alloc in data["allocations"].items():
                for rc, n in alloc["resources"].items():
                    if rc in RESOURCE_CLASSES and n:
                        per = out.setdefault(name, {}).setdefault(host_of.get(rp, rp), {})
                        per[rc] = per.get(rc, 0) + int(n)
        return out

    def consumer_allocations(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per consumer ("instance i1", "migration m1"): {provider name: {rc: amount}}."""
        names = {rp: host for host, rp in self.root.items()}
        for host, devs in self.device_rp.items():
            names.update({drp: f"{host}_{d}" for d, drp in devs.items()})
        out = {}
        consumers = [(f"instance {i}", self._inst_uuid(i)) for i in self.instances]
        consumers += [(f"migration {m}", self._mig_uuid(m)) for m in self.migrations]
        for label, c in consumers:
            allocs, _ = self.client.get_allocs_for_consumer(c)
            if allocs:
                out[label] = {names.get(rp, rp): res for rp, res in allocs.items()}
        return out

    def requests(self, include_reads: bool = True) -> list[str]:
        """The REST requests the steps sent since the last reset (set-up left out), one line
        each, with names for uuids.

        For a discrepancy report: the request sequence that led Placement to its answer.
        """
        names = {rp: h for h, rp in self.root.items()}
        for h, devs in self.device_rp.items():
            names.update({drp: f"{h}_{d}" for d, drp in devs.items()})
        for iid in self.cloud.instances if self.cloud else ():
            names[self._inst_uuid(iid)] = "{" + iid + "}"
        for mid in self.cloud.migration_ids() if self.cloud else ():
            names[self._mig_uuid(mid)] = "{" + mid + "}"

        def named(text: str) -> str:
            for u, n in names.items():
                text = text.replace(u, n)
            return text

        lines = []
        for method, path, body, status, reply in self.service.log[self._first_step_request:]:
            if method == "GET" and not include_reads:
                continue
            line = f"{method} {named(path)}"
            if body is not None:
                line += " " + named(json.dumps(body, sort_keys=True))
            line += f" -> {status}"
            if status >= 400 and isinstance(reply, dict) and reply.get("errors"):
                err = reply["errors"][0]
                detail = " ".join(str(err.get("detail", "")).split())
                detail = detail.replace("There was a conflict when trying to complete your "
                                        "request. ", "")
                line += f" {err.get('code', '')}: {named(detail)}"
            lines.append(line)
        return lines

    # ------------------------------------------------------------------ set-up helpers

    def _uuid(self, kind: str, name: str) -> str:
        return str(uuid.uuid5(_NS, f"{kind}:{name}"))

    def _inst_uuid(self, iid: str) -> str:
        return self._uuid("instance", iid)

    def _mig_uuid(self, mid: str) -> str:
        return self._uuid("migration", mid)

    def _provider(self, name: str, parent: str | None) -> str:
        rp = self._uuid("provider", name)
        body: dict[str, Any] = {"name": name, "uuid": rp}
        if parent is not None:
            body["parent_provider_uuid"] = parent
        self.service.expect(200, "POST", "/resource_providers", body)
        return rp

    def _inventory(self, rp: str, inventories: dict[str, dict[str, Any]]) -> None:
        # min_unit 1, step_size 1 and max_unit left at Placement's default
        # (MAX_INT): the spec has no per-allocation limits, so these never bite.
        self.service.expect(200, "PUT", f"/resource_providers/{rp}/inventories",
                            {"resource_provider_generation": 0, "inventories": inventories})

    def _holder(self, consumer: str) -> str:
        for iid in self.instances:
            if self._inst_uuid(iid) == consumer:
                return iid
        for mid, m in self.migrations.items():
            if self._mig_uuid(mid) == consumer:
                return m.instance
        return consumer

    # ------------------------------------------------------------------ bookkeeping checks

    def _check_known(self, step: Step) -> None:
        assert self.cloud is not None
        for host in (step.host, step.dest):
            if host is not None and host not in self.up:
                raise _Rejected(f"unknown host {host}")
        if step.flavor is not None and step.flavor not in self.flavors:
            raise _Rejected(f"unknown flavor {step.flavor}")
        if step.instance is not None and step.instance not in self.cloud.instances:
            raise _Rejected(f"unknown instance {step.instance}")

    def _require_up(self, host: str) -> None:
        if not self.up[host]:
            raise _Rejected(f"host {host} is down")

    def _existing(self, iid: str) -> _Instance:
        inst = self.instances.get(iid)
        if inst is None or inst.vm_state == "deleted":
            raise _Rejected(f"instance {iid} does not exist")
        return inst

    def _in_progress_of(self, iid: str) -> tuple[str, _Migration] | None:
        for mid, m in self.migrations.items():
            if m.instance == iid and m.in_progress:
                return mid, m
        return None

    def _newest_of(self, iid: str) -> tuple[str, _Migration] | None:
        found = None
        for mid, m in self.migrations.items():
            if m.instance == iid:
                found = mid, m
        return found

    def _gone(self, iid: str) -> _Migration | None:
        """The evacuation whose source restarted before the instance landed: the source
        dropped the instance, the rebuild on the destination is still to finish."""
        found = self._newest_of(iid)
        inst = self.instances.get(iid)
        if found is None or inst is None or inst.vm_state == "deleted":
            return None
        m = found[1]
        if m.migration_type == EVACUATION and m.source_cleaned and inst.host == m.source:
            return m
        return None

    def _waiting(self, iid: str) -> _Migration | None:
        """A done evacuation whose source (down) has not cleaned up: Placement still holds
        the source in the instance's allocation."""
        for m in self.migrations.values():
            if (m.instance == iid and m.migration_type == EVACUATION and m.status == "done"
                    and not m.source_cleaned):
                return m
        return None

    def _movable(self, step: Step, need_host_up: bool = True, dest_up: bool = True) -> _Instance:
        """Nova's API checks before a move: the instance exists, has no task, its host
        (and the dest, unless the scheduler checks it) is up."""
        self._check_known(step)
        inst = self._existing(step.instance)
        if self._in_progress_of(step.instance) is not None or self._gone(step.instance):
            raise _Rejected(f"instance {step.instance} already has an in-progress migration")
        if need_host_up:
            self._require_up(inst.host)
        if dest_up:
            self._require_up(step.dest)
        if step.migration in self.migrations:
            raise _Rejected(f"migration {step.migration} already exists")
        if len(self.migrations) >= self.cloud.max_migrations:
            raise _Rejected(f"the cloud allows at most {self.cloud.max_migrations} migrations")
        return inst

    def _migration(self, step: Step) -> _Migration:
        m = self.migrations.get(step.migration)
        if m is None:
            raise _Rejected(f"unknown migration {step.migration}")
        return m

    # ------------------------------------------------------------------ Placement helpers

    def _claim_request(self, host: str, flavor: str) -> tuple[Allocations, list[str]]:
        """The allocation a claim of ``flavor`` on ``host`` sends, and the devices it names.

        Zero amounts are left out (Placement's minimum is 1; Nova's
        ``resources_from_flavor`` drops them).  Devices: the lowest-named
        device providers that Placement reports as free
        (GET /resource_providers?in_tree=...&resources=...).  When fewer are
        free than the flavor needs, the request still names that many
        devices (padded with devices that are held, or with more units than
        the host has), so that the refusal is Placement's own 409.
        """
        f = self.flavors[flavor]
        root = self.root[host]
        allocs: Allocations = {root: {rc: f.amount(rc) for rc in RESOURCE_CLASSES if f.amount(rc)}}
        if not f.devices:
            return allocs, []
        free = self._free_devices(host)
        picked = free[: f.devices]
        for d in picked:
            allocs[self.device_rp[host][d]] = {DEVICE_CLASS: 1}
        missing = f.devices - len(picked)
        if missing:
            held = [d for d in sorted(self.device_rp[host]) if d not in picked]
            target = self.device_rp[host][held[0]] if held else root
            allocs.setdefault(target, {}).setdefault(DEVICE_CLASS, 0)
            allocs[target][DEVICE_CLASS] += missing
        return allocs, picked

    def _free_devices(self, host: str) -> list[str]:
        if not self.device_rp[host]:
            return []
        data = self.service.expect(
            200, "GET",
            f"/resource_providers?in_tree={self.root[host]}&resources={DEVICE_CLASS}:1")
        return sorted(self.device_name[rp["uuid"]] for rp in data["resource_providers"])

    def _tree(self, host: str) -> set[str]:
        return {self.root[host], *self.device_rp[host].values()}

    def _refused(self, mid: str, m: _Migration, reason: str) -> None:
        """A move the scheduler refused after the conductor wrote its record
        (``MigrationTask._preallocate_migration``, ``ComputeTaskManager._live_migrate``):
        reported rejected, the record ends ``error`` (``MigrationTask.rollback``,
        ``_live_migrate``) and Placement is left as it was."""
        m.status = "error"
        self.migrations[mid] = m
        raise _Rejected(reason) from None

    def _scheduled(self, mid: str, m: _Migration) -> None:
        """The conductor's checks before the scheduler: dest is not the source
        (live migration) and its service is up (ComputeFilter, ``_check_host_is_up``)."""
        if m.migration_type == LIVE_MIGRATION and m.dest == m.source:
            self._refused(mid, m, "a live migration must change host")
        if not self.up.get(m.dest, False):
            self._refused(mid, m, f"host {m.dest} is down")

    def _move_claim(self, mid: str, iid: str, dest: str, flavor: str) -> list[str]:
        """Conductor + scheduler for resize, cold and live migration (Queens and later).

        1. ``replace_allocation_with_migration`` (``conductor/tasks/migrate.py``):
           ``move_allocations(instance -> migration)``, one POST /allocations;
        2. the scheduler's ``claim_resources``: PUT the instance's allocation on dest;
        3. on a refusal the conductor's rollback ``revert_allocation_for_migration``
           moves the source allocation back to the instance.
        """
        inst_c, mig_c = self._inst_uuid(iid), self._mig_uuid(mid)
        # Nova 34 moves everything the instance holds, a dead evacuation source's
        # share too (``replace_allocation_with_migration`` calls ``move_allocations``
        # with no provider filter), and frees that share when the move ends, before
        # the source's clean-up.  The spec keeps the source held until its restart
        # (``evacuation_source_hold``), so this adapter moves only the instance's host
        # tree: docs/placement.md, finding 6.
        moved = self.client.move_allocations(inst_c, mig_c,
                                             self._tree(self.instances[iid].host))
        allocs, picked = self._claim_request(dest, flavor)
        try:
            if _nonempty(allocs):
                self.client.claim_resources(inst_c, allocs)
        except AllocationRefused:
            if moved:
                self._move_back(mid, iid)
            raise
        return picked

    def _move_back(self, mid: str, iid: str) -> None:
        """``revert_allocation_for_migration``: the migration's allocation goes back to
        the instance, which keeps the share of an evacuation source still waiting for
        its clean-up (the claim moved only the instance's host tree: finding 6)."""
        waiting = self._waiting(iid)
        self.client.move_allocations(self._mig_uuid(mid), self._inst_uuid(iid),
                                     keep=None if waiting is None else self._tree(waiting.source))

    def _refusal(self, host: str, e: AllocationRefused) -> str:
        """Placement's 409 detail as one line, with provider names instead of uuids."""
        text = " ".join(str(e).split())
        text = text.replace("There was a conflict when trying to complete your request. ", "")
        for h, rp in self.root.items():
            text = text.replace(rp, h)
            for d, drp in self.device_rp[h].items():
                text = text.replace(drp, f"{h}_{d}")
        return f"Placement refused the claim on {host} (409): {text}"

    def _rollback(self, m: _Migration, mid: str) -> None:
        """Undo a move's allocations the way Nova's failure paths do.

        Not landed (resize, cold or live): the migration's source allocation
        goes back to the instance (``revert_allocation_for_migration``,
        ``_rollback_live_migration``).  Landed resize: the migration's source
        allocation is deleted, the instance stays on dest
        (``_delete_allocation_after_move``).  Evacuation: the side the instance
        is not on is removed from the instance's doubled allocation
        (``remove_provider_tree_from_instance_allocation``).
        """
        iid = m.instance
        landed = m.status in LANDED[m.migration_type]
        status = _failure_status(m)
        inst = self.instances[iid]
        # _error_out_instance_on_exception: ERROR for a resize, cold migration or
        # evacuation (before an evacuation's claim: the conductor's NoValidHost,
        # ComputeTaskManager.rebuild_instance); a live-migration rollback keeps it.
        if m.migration_type != LIVE_MIGRATION:
            inst.vm_state = "error"
        elif inst.vm_state == "resized":
            inst.vm_state = "active"
        if m.migration_type == EVACUATION:
            if m.status == "pre-migrating":
                self.client.remove_providers_from_allocation(self._inst_uuid(iid), self._tree(m.dest))
        elif landed:
            self.client.delete_allocation_for_consumer(self._mig_uuid(mid))
        else:
            self._move_back(mid, iid)
        if landed:
            inst.flavor = m.new_flavor
        m.status = status

    # ------------------------------------------------------------------ steps

    def _step_boot(self, step: Step) -> list[str]:
        """``_build_and_run_instance``; Placement: the scheduler's PUT /allocations/{instance}."""
        self._check_known(step)
        if step.instance in self.instances:
            raise _Rejected(f"instance {step.instance} was already booted")
        self._require_up(step.host)  # the scheduler's ComputeFilter
        allocs, picked = self._claim_request(step.host, step.flavor)
        try:
            if _nonempty(allocs):
                self.client.put_allocations(self._inst_uuid(step.instance), allocs, None)
        except AllocationRefused as e:
            raise _Rejected(self._refusal(step.host, e)) from None
        self.instances[step.instance] = _Instance(
            step.host, step.flavor, image_min_disk=self.cloud.flavor(step.flavor).disk_gb)
        return picked

    def _step_delete(self, step: Step) -> None:
        """``compute/api.py`` delete: an in-progress move fails first, then
        DELETE /allocations/{instance} (``delete_allocation_for_instance(force=True)``)."""
        self._check_known(step)
        self._existing(step.instance)
        found = self._in_progress_of(step.instance)
        if found is not None:
            mid, m = found
            if m.migration_type in _RESIZES and m.status in ("finished", "confirming"):
                # API._confirm_resize_on_deleting -> confirm_resize on the source:
                # the migration's (source) allocation is deleted.
                self.client.delete_allocation_for_consumer(self._mig_uuid(mid))
                m.status = "confirmed"
            else:
                self._rollback(m, mid)
        status, _ = self.service.call("DELETE", f"/allocations/{self._inst_uuid(step.instance)}")
        if status not in (204, 404):  # 404: a flavor of all zeros never allocated anything
            raise AssertionError(f"DELETE /allocations answered {status}")
        self.instances[step.instance].vm_state = "deleted"

    def _step_reset_state(self, step: Step) -> None:
        """``os-resetState``: an admin sets an instance in ERROR back to active (Nova's
        API database only; nothing is sent to Placement)."""
        self._check_known(step)
        inst = self._existing(step.instance)
        if inst.vm_state != "error":
            raise _Rejected(f"instance {step.instance} is {inst.vm_state}, not error")
        inst.vm_state = "active"

    def _step_resize_claim(self, step: Step) -> list[str]:
        inst = self._movable(step, dest_up=False)
        if inst.vm_state != "active":
            raise _Rejected(f"instance {step.instance} is {inst.vm_state}, not active")
        if step.dest == inst.host and step.flavor == inst.flavor:
            raise _Rejected("a cold migration must change host")
        if self.cloud.flavor(step.flavor).disk_gb < inst.image_min_disk:
            # API._validate_flavor_image_nostatus: FlavorDiskSmallerThanMinDisk (400)
            raise _Rejected(f"flavor {step.flavor}'s root disk is smaller than instance "
                            f"{step.instance}'s image min_disk ({inst.image_min_disk} GB)")
        mtype = RESIZE if step.flavor != inst.flavor else MIGRATION
        m = _Migration(step.instance, mtype, inst.host, step.dest, inst.flavor, step.flavor,
                       "pre-migrating")
        self._scheduled(step.migration, m)
        try:
            picked = self._move_claim(step.migration, step.instance, step.dest, step.flavor)
        except AllocationRefused as e:
            self._refused(step.migration, m, self._refusal(m.dest, e))
        self.migrations[step.migration] = m
        return picked

    def _step_live_claim(self, step: Step) -> list[str]:
        inst = self._movable(step, dest_up=False)
        if inst.vm_state != "active":
            raise _Rejected(f"instance {step.instance} is {inst.vm_state}, not active")
        m = _Migration(step.instance, LIVE_MIGRATION, inst.host, step.dest, inst.flavor,
                       inst.flavor, "accepted")
        self._scheduled(step.migration, m)
        try:
            picked = self._move_claim(step.migration, step.instance, step.dest, inst.flavor)
        except AllocationRefused as e:
            self._refused(step.migration, m, self._refusal(m.dest, e))
        self.migrations[step.migration] = m
        return picked

    def _step_evacuate_start(self, step: Step) -> None:
        """``compute/api.py`` evacuate: only from a host whose service is down; nothing
        is sent to Placement until the scheduler claims (``rebuild_claim``)."""
        inst = self._movable(step, need_host_up=False)
        if self.up[inst.host]:
            raise _Rejected(f"cannot evacuate from {inst.host}: the host is up")
        if step.dest == inst.host:
            raise _Rejected("an evacuation must change host")
        waiting = self._waiting(step.instance)
        if waiting is not None:  # the spec keeps one such wait per instance
            raise _Rejected(f"instance {step.instance} still waits for {waiting.source} to clean "
                            "up an earlier evacuation")
        self.migrations[step.migration] = _Migration(
            step.instance, EVACUATION, inst.host, step.dest, inst.flavor, inst.flavor, "accepted")

    def _status_step(self, step: Step) -> list[str] | None:
        types, before, after, sides = _STATUS_STEPS[step.kind]
        m = self._migration(step)
        if m.migration_type not in types:
            raise _Rejected(f"migration {step.migration} is a {m.migration_type}")
        if m.status not in before:
            raise _Rejected(f"migration {step.migration} is {m.status}, not {' or '.join(sorted(before))}")
        if m.status == "completed" and not self._rebuild_pending(m, step.kind == "finish_evacuation"):
            raise _Rejected(f"migration {step.migration} is completed, not "
                            f"{' or '.join(sorted(before - {'completed'}))}")
        for side in sides:
            self._require_up(getattr(m, side))
        picked = getattr(self, "_effect_" + step.kind, lambda mid, m: None)(step.migration, m)
        m.status = after
        return picked

    # Effects of the status steps that Nova pairs with allocation writes (or
    # with instance record changes); the others only write the status.

    def _effect_resize_migrated(self, mid: str, m: _Migration) -> None:
        self.instances[m.instance].host = m.dest  # _resize_instance: instance.host := dest

    def _effect_finish_resize(self, mid: str, m: _Migration) -> None:
        inst = self.instances[m.instance]
        inst.flavor, inst.vm_state = m.new_flavor, "resized"

    def _effect_confirm_finish(self, mid: str, m: _Migration) -> None:
        """``confirm_resize``: ``delete_allocation_for_instance(migration.uuid)`` (GET + PUT {})."""
        self.client.delete_allocation_for_consumer(self._mig_uuid(mid))
        self.instances[m.instance].vm_state = "active"

    def _effect_revert_finish(self, mid: str, m: _Migration) -> None:
        """``finish_revert_resize``: ``move_allocations(migration -> instance)``."""
        self._move_back(mid, m.instance)
        inst = self.instances[m.instance]
        inst.host, inst.flavor, inst.vm_state = m.source, m.old_flavor, "active"

    def _effect_live_complete(self, mid: str, m: _Migration) -> None:
        """``_post_live_migration``: the migration's source allocation is deleted."""
        self.client.delete_allocation_for_consumer(self._mig_uuid(mid))
        self.instances[m.instance].host = m.dest

    def _effect_live_abort(self, mid: str, m: _Migration) -> None:
        """``_rollback_live_migration`` -> ``_revert_allocation``: migration -> instance."""
        self._move_back(mid, m.instance)

    def _rebuild_pending(self, m: _Migration, claimed: bool) -> bool:
        """The source cleaned up before the rebuild finished (``completed`` over
        ``accepted`` or ``pre-migrating``); the destination has (``claimed``) or has
        not claimed yet."""
        return self._gone(m.instance) is m and m.claimed == claimed

    def _effect_rebuild_claim(self, mid: str, m: _Migration) -> list[str]:
        """The scheduler's evacuation claim: the instance holds source + dest
        (``claim_resources_on_destination``).  Placement's 409 refuses it: rejected,
        and the conductor's NoValidHost writes ``error`` on the ``accepted`` record and
        sets the instance ERROR (``ComputeTaskManager.rebuild_instance``); a record
        the source's restart wrote ``completed`` is not found and stays."""
        allocs, picked = self._claim_request(m.dest, m.new_flavor)
        try:
            if _nonempty(allocs):
                self.client.claim_resources(self._inst_uuid(m.instance), allocs)
        except AllocationRefused as e:
            if m.status == "accepted":
                m.status = "error"
                self.instances[m.instance].vm_state = "error"
            raise _Rejected(self._refusal(m.dest, e)) from None
        m.claimed = True
        return picked

    def _effect_finish_evacuation(self, mid: str, m: _Migration) -> None:
        """``rebuild_instance`` ends: the instance is on the destination, ACTIVE."""
        inst = self.instances[m.instance]
        inst.host, inst.vm_state = m.dest, "active"

    def _step_fail(self, step: Step) -> None:
        m = self._migration(step)
        if not m.in_progress:
            raise _Rejected(f"migration {step.migration} is {m.status} (terminal)")
        if self._gone(m.instance) is m:  # the spec lets that rebuild finish
            raise _Rejected(f"migration {step.migration}: its source {m.source} has already "
                            "dropped the instance")
        self._rollback(m, step.migration)

    def _step_host_down(self, step: Step) -> None:
        """nova-compute stops: Placement is not told anything."""
        self._check_known(step)
        if not self.up[step.host]:
            raise _Rejected(f"host {step.host} is already down")
        self.up[step.host] = False

    def _step_host_up(self, step: Step) -> None:
        """nova-compute starts: ``init_host`` -> ``_destroy_evacuated_instances``: every
        evacuation away from the host in ``accepted``, ``pre-migrating`` or ``done``
        whose instance is not deleted has the source tree removed from the
        instance's allocation (``remove_provider_tree_from_instance_allocation``)
        and is written ``completed``; the destination carries on."""
        self._check_known(step)
        if self.up[step.host]:
            raise _Rejected(f"host {step.host} is already up")
        self.up[step.host] = True
        for mid, m in self.migrations.items():
            if (m.migration_type != EVACUATION or m.source != step.host
                    or m.status not in ("accepted", "pre-migrating", "done")
                    or self.instances[m.instance].vm_state == "deleted"
                    or self._gone(m.instance) is m):
                continue
            self.client.remove_providers_from_allocation(self._inst_uuid(m.instance),
                                                         self._tree(m.source))
            m.source_cleaned = True
            # A done evacuation the instance has moved on from keeps its status (the
            # spec's; Nova writes completed on it too).
            if self._newest_of(m.instance)[0] == mid:
                m.status = "completed"

    def _step_audit(self, step: Step) -> None:
        """``update_available_resource``: since Pike/Queens the compute's periodic
        does not write allocations for counted classes, so nothing is sent."""
        self._check_known(step)
        self._require_up(step.host)
        # _cleanup_incomplete_migrations: the error migration of a deleted instance on
        # this host, the instance's host being another, becomes failed (the newest
        # record only, as the spec keeps older ones).
        for mid, m in self.migrations.items():
            inst = self.instances[m.instance]
            if (m.status == "error" and step.host in (m.source, m.dest)
                    and inst.vm_state == "deleted" and inst.host != step.host
                    and self._newest_of(m.instance)[0] == mid):
                m.status = "failed"


def placement_factory(db_url: str | None = None) -> PlacementTracker:
    """The built-in ``placement`` tracker.

    ``db_url`` (or the environment variable ``MOVECHECK_PLACEMENT_DB``) names
    Placement's database; the default is in-memory SQLite (``sqlite://``).
    """
    return PlacementTracker(db_url)


#: The name the tracker registry (``conformance/adapters/__init__.py``) looks up first.
factory = placement_factory

__all__ = ["DEVICE_CLASS", "PlacementTracker", "factory", "placement_factory"]
