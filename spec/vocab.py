"""The vocabulary of movecheck: clouds, records, steps, outcomes, observations.

Names follow Nova (``nova/objects/migration.py``, ``nova/objects/migration_context.py``,
``nova/objects/instance.py``) so that a Nova engineer recognises them; docs/spec.md
section 2 is the contract.  Every value here is immutable and has a JSON round
trip (``to_json`` / ``from_json``); the JSON shapes are published as JSON Schema
in ``docs/schemas/`` (see :mod:`movecheck.spec.schemas`).

Per-state records (Instance, Migration, MigrationContext, Step) are
``NamedTuple``\\ s rather than dataclasses: they are hashed millions of times by
the explorer and tuple hashing runs in C.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from movecheck.spec.errors import InputError

#: The counted resource classes, in Placement's names (os-resource-classes).
RESOURCE_CLASSES: tuple[str, ...] = ("VCPU", "MEMORY_MB", "DISK_GB")

#: Flavor attribute that supplies each resource class.
FLAVOR_FIELD = {"VCPU": "vcpus", "MEMORY_MB": "memory_mb", "DISK_GB": "disk_gb"}

#: Schema version of every JSON shape below; bumped on incompatible change.
SCHEMA_VERSION = 1


# --------------------------------------------------------------------------- cloud


@dataclass(frozen=True)
class Inventory:
    """One resource class of one host, as a Placement inventory record."""

    total: int
    reserved: int = 0
    allocation_ratio: float = 1.0

    @property
    def capacity(self) -> Fraction:
        """(total - reserved) x allocation_ratio, exactly (Placement ``_check_capacity_exceeded``)."""
        return (self.total - self.reserved) * Fraction(str(self.allocation_ratio))

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "reserved": self.reserved,
            "allocation_ratio": self.allocation_ratio,
        }


@dataclass(frozen=True)
class Host:
    """A compute host (one node): inventories, named devices (PCI-like), up flag."""

    name: str
    inventories: tuple[tuple[str, Inventory], ...]
    devices: tuple[str, ...] = ()
    up: bool = True

    def inventory(self, rc: str) -> Inventory:
        for name, inv in self.inventories:
            if name == rc:
                return inv
        raise KeyError(rc)

    def capacity(self, rc: str) -> Fraction:
        return self.inventory(rc).capacity

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inventories": {rc: inv.to_json() for rc, inv in self.inventories},
            "devices": list(self.devices),
            "up": self.up,
        }


@dataclass(frozen=True)
class Flavor:
    """A flavor: counted resources plus a number of devices (like a PCI alias count)."""

    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    devices: int = 0

    def amount(self, rc: str) -> int:
        return getattr(self, FLAVOR_FIELD[rc])

    def vector(self) -> tuple[int, ...]:
        return tuple(self.amount(rc) for rc in RESOURCE_CLASSES)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vcpus": self.vcpus,
            "memory_mb": self.memory_mb,
            "disk_gb": self.disk_gb,
            "devices": self.devices,
        }


@dataclass(frozen=True)
class Cloud:
    """The immutable configuration of one scenario.

    ``instances`` are the instance ids that may be booted (each at most once);
    ``max_migrations`` bounds how many migration records a run may create, which
    keeps exhaustive exploration finite; ``options`` names spec options
    (docs/spec.md, "Spec options") that change the spec's semantics.
    """

    hosts: tuple[Host, ...]
    flavors: tuple[Flavor, ...]
    instances: tuple[str, ...]
    max_migrations: int = 2
    options: frozenset[str] = field(default_factory=frozenset)

    def host(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def flavor(self, name: str) -> Flavor:
        for f in self.flavors:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def host_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hosts)

    @property
    def flavor_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.flavors)

    def migration_ids(self) -> tuple[str, ...]:
        """The migration ids a run may use, in the order they are handed out."""
        return tuple(f"m{k}" for k in range(1, self.max_migrations + 1))

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "hosts": [h.to_json() for h in self.hosts],
            "flavors": [f.to_json() for f in self.flavors],
            "instances": list(self.instances),
            "max_migrations": self.max_migrations,
            "options": sorted(self.options),
        }

    @staticmethod
    def from_json(data: Any) -> Cloud:
        from movecheck.spec.cloudfile import cloud_from_mapping

        return cloud_from_mapping(data)


# --------------------------------------------------------------------------- records

#: vm_state values used by the spec (nova/compute/vm_states.py names).
VM_ACTIVE = "active"
VM_RESIZED = "resized"
VM_DELETED = "deleted"
#: A failed move left the instance in ERROR (ComputeManager._error_out_instance_on_exception).
VM_ERROR = "error"
VM_STATES = (VM_ACTIVE, VM_RESIZED, VM_DELETED, VM_ERROR)


class MigrationContext(NamedTuple):
    """``nova/objects/migration_context.py``: what a move claimed that cannot be
    recomputed from the flavor.  Here: the devices (as ``old/new_pci_devices``)."""

    migration_id: str
    old_devices: tuple[str, ...]
    new_devices: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "migration_id": self.migration_id,
            "old_devices": list(self.old_devices),
            "new_devices": list(self.new_devices),
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> MigrationContext:
        return MigrationContext(d["migration_id"], tuple(d["old_devices"]), tuple(d["new_devices"]))


class Instance(NamedTuple):
    """``nova/objects/instance.py`` fields that matter for accounting."""

    id: str
    vm_state: str
    host: str
    flavor: str
    old_flavor: str | None = None
    new_flavor: str | None = None
    devices: tuple[str, ...] = ()
    migration_context: MigrationContext | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vm_state": self.vm_state,
            "host": self.host,
            "flavor": self.flavor,
            "old_flavor": self.old_flavor,
            "new_flavor": self.new_flavor,
            "devices": list(self.devices),
            "migration_context": (
                self.migration_context.to_json() if self.migration_context else None
            ),
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> Instance:
        mc = d.get("migration_context")
        return Instance(
            d["id"], d["vm_state"], d["host"], d["flavor"], d.get("old_flavor"),
            d.get("new_flavor"), tuple(d.get("devices", ())),
            MigrationContext.from_json(mc) if mc else None,
        )


#: Migration types, ``nova/objects/fields.py`` ``MigrationType``.
RESIZE = "resize"
MIGRATION = "migration"
LIVE_MIGRATION = "live-migration"
EVACUATION = "evacuation"
MIGRATION_TYPES = (RESIZE, MIGRATION, LIVE_MIGRATION, EVACUATION)


class Migration(NamedTuple):
    """``nova/objects/migration.py`` (the fields the accounting reads)."""

    id: str
    instance: str
    migration_type: str
    source: str
    dest: str
    old_flavor: str
    new_flavor: str
    status: str

    @property
    def is_same_host(self) -> bool:
        """``Migration.is_same_host_resize`` generalised: source node == dest node."""
        return self.source == self.dest

    def to_json(self) -> dict[str, Any]:
        return dict(self._asdict())

    @staticmethod
    def from_json(d: dict[str, Any]) -> Migration:
        return Migration(**{k: d[k] for k in Migration._fields})


# --------------------------------------------------------------------------- steps


class Step(NamedTuple):
    """One atomic action of the cloud (docs/spec.md, "Steps").

    ``kind`` is a step name from :data:`movecheck.spec.steps.STEPS`; the other
    fields are that step's parameters (unused ones are ``None``).  Build steps
    with :func:`movecheck.spec.steps.make_step`, which checks the parameters.
    """

    kind: str
    migration: str | None = None
    instance: str | None = None
    host: str | None = None
    dest: str | None = None
    flavor: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"step": self.kind}
        for name in Step._fields[1:]:
            value = getattr(self, name)
            if value is not None:
                d[name] = value
        return d

    @staticmethod
    def from_json(d: Any) -> Step:
        from movecheck.spec.steps import step_from_json

        return step_from_json(d)

    def __str__(self) -> str:
        args = ", ".join(
            f"{n}={getattr(self, n)}" for n in Step._fields[1:] if getattr(self, n) is not None
        )
        return f"{self.kind}({args})"


ACCEPTED = "accepted"
REJECTED = "rejected"


class Outcome(NamedTuple):
    """What a step did: accepted (with the devices a claim picked) or rejected."""

    result: str
    reason: str | None = None
    devices: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.result == ACCEPTED

    @staticmethod
    def accept(devices: tuple[str, ...] = ()) -> Outcome:
        return Outcome(ACCEPTED, None, tuple(devices))

    @staticmethod
    def reject(reason: str) -> Outcome:
        return Outcome(REJECTED, reason, ())

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"result": self.result}
        if self.reason is not None:
            d["reason"] = self.reason
        if self.devices:
            d["devices"] = list(self.devices)
        return d

    @staticmethod
    def from_json(d: Any) -> Outcome:
        if not isinstance(d, dict) or d.get("result") not in (ACCEPTED, REJECTED):
            raise InputError('an outcome needs "result": "accepted" or "rejected"')
        devices = d.get("devices", [])
        if not isinstance(devices, list) or not all(isinstance(x, str) for x in devices):
            raise InputError('an outcome\'s "devices" must be a list of device names')
        return Outcome(d["result"], d.get("reason"), tuple(devices))


#: The parts of an observation; a tracker declares which it observes.
#: ``allocations`` is optional and newer: Placement's per-consumer view
#: (:mod:`movecheck.spec.allocations`).
CAPABILITIES = ("usage", "devices", "migrations", "instances", "allocations")


@dataclass(frozen=True)
class Observation:
    """What a tracker exposes (docs/adapters.md, "The contract").  Parts it cannot tell are None.

    - ``usage``: {host: {rc: int}}
    - ``devices``: {host: {device: holder instance id or None}}
    - ``migrations``: {migration id: status}
    - ``instances``: {instance id: host} for instances that exist (not deleted)
    - ``allocations``: {consumer: {host: {rc: int}}}, Placement's allocations per
      instance and migration consumer (:mod:`movecheck.spec.allocations`)
    """

    usage: dict[str, dict[str, int]]
    devices: dict[str, dict[str, str | None]] | None = None
    migrations: dict[str, str] | None = None
    instances: dict[str, str] | None = None
    allocations: dict[str, dict[str, dict[str, int]]] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"usage": self.usage}
        for part in ("devices", "migrations", "instances", "allocations"):
            value = getattr(self, part)
            if value is not None:
                d[part] = value
        return d

    @staticmethod
    def from_json(d: Any) -> Observation:
        if not isinstance(d, dict) or not isinstance(d.get("usage"), dict):
            raise InputError('an observation needs a "usage" object {host: {resource class: int}}')
        return Observation(
            usage=d["usage"],
            devices=d.get("devices"),
            migrations=d.get("migrations"),
            instances=d.get("instances"),
            allocations=d.get("allocations"),
        )

    def restricted(self, capabilities: frozenset[str]) -> Observation:
        """The same observation with only the parts in ``capabilities``."""
        return Observation(
            usage=self.usage,
            devices=self.devices if "devices" in capabilities else None,
            migrations=self.migrations if "migrations" in capabilities else None,
            instances=self.instances if "instances" in capabilities else None,
            allocations=self.allocations if "allocations" in capabilities else None,
        )
