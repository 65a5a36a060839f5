"""Clouds: the built-in default, growing it with --hosts/--instances, and cloud files.

A cloud file is TOML or JSON with the shape of :meth:`Cloud.to_json`
(documented in docs/cloud.md, schema docs/schemas/cloud.schema.json).  Every
problem is reported as one :class:`CloudError` sentence naming the field.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from movecheck.spec.errors import CloudError
from movecheck.spec.vocab import RESOURCE_CLASSES, SCHEMA_VERSION, Cloud, Flavor, Host, Inventory

#: Bounds for --hosts / --instances / max_migrations (exploration and proofs grow fast).
MAX_HOSTS = 16
MAX_INSTANCES = 16
MAX_MIGRATIONS = 64

#: Spec options a cloud may turn on (docs/spec.md, "Spec options").
KNOWN_OPTIONS: dict[str, str] = {}


def default_host(name: str, devices: int = 1) -> Host:
    """A small host: 4 VCPU, 2048 MB (512 reserved), 40 GB, ``devices`` PCI-like devices."""
    return Host(
        name=name,
        inventories=(
            ("VCPU", Inventory(total=4, reserved=0, allocation_ratio=1.0)),
            ("MEMORY_MB", Inventory(total=2048, reserved=512, allocation_ratio=1.0)),
            ("DISK_GB", Inventory(total=40, reserved=0, allocation_ratio=1.0)),
        ),
        devices=tuple(f"pci{k}" for k in range(devices)),
    )


DEFAULT_FLAVORS = (
    Flavor("small", vcpus=1, memory_mb=512, disk_gb=10, devices=0),
    Flavor("large", vcpus=2, memory_mb=1024, disk_gb=20, devices=1),
)


def default_cloud(hosts: int = 2, instances: int = 2, max_migrations: int = 2) -> Cloud:
    """The embedded default: 2 hosts, 2 flavors, up to 2 instances, 1 device per host.

    Two ``large`` instances do not fit on one host (memory), so capacity
    rejections are reachable; ``large`` needs the host's one device, so device
    exhaustion is reachable too.
    """
    _check_range("--hosts", hosts, 1, MAX_HOSTS)
    _check_range("--instances", instances, 1, MAX_INSTANCES)
    _check_range("max_migrations", max_migrations, 0, MAX_MIGRATIONS)
    return Cloud(
        hosts=tuple(default_host(f"h{k}") for k in range(1, hosts + 1)),
        flavors=DEFAULT_FLAVORS,
        instances=tuple(f"i{k}" for k in range(1, instances + 1)),
        max_migrations=max_migrations,
    )


def _check_range(what: str, value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise CloudError(f"{what} must be a whole number from {lo} to {hi}, not {value!r}")


def load_cloud(path: str | Path) -> Cloud:
    """Read a cloud file (``.toml`` or ``.json``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise CloudError(f"cannot read cloud file {p}: {e.strerror or e}") from None
    try:
        if p.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise CloudError(f"cloud file {p} is not valid {p.suffix.lstrip('.') or 'JSON'}: {e}") from None
    return cloud_from_mapping(data, where=str(p))


def _keys(d: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise CloudError(f"{where} must be a table/object")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise CloudError(f"{where} has unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(d))
    if missing:
        raise CloudError(f"{where} is missing {missing[0]!r}")
    return d


def _int(d: dict[str, Any], key: str, where: str, lo: int = 0, default: int | None = None) -> int:
    v = d.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise CloudError(f"{where}.{key} must be a whole number >= {lo}, not {v!r}")
    return v


def _name(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v or not v.replace("-", "").replace("_", "").isalnum():
        raise CloudError(f"{where} must be a non-empty name of letters, digits, - or _, not {v!r}")
    return v


def cloud_from_mapping(data: Any, where: str = "cloud") -> Cloud:
    """Validate and build a :class:`Cloud` from its JSON/TOML mapping."""
    d = _keys(data, where, {"schema_version", "hosts", "flavors", "instances", "max_migrations",
                            "options"}, {"hosts", "flavors", "instances"})
    if d.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise CloudError(f"{where}.schema_version must be {SCHEMA_VERSION}")
    hosts_raw = d["hosts"]
    if not isinstance(hosts_raw, list) or not 1 <= len(hosts_raw) <= MAX_HOSTS:
        raise CloudError(f"{where}.hosts must be a list of 1 to {MAX_HOSTS} hosts")
    hosts = []
    for k, h in enumerate(hosts_raw):
        hw = f"{where}.hosts[{k}]"
        h = _keys(h, hw, {"name", "inventories", "devices", "up"}, {"name", "inventories"})
        name = _name(h["name"], f"{hw}.name")
        invs_raw = _keys(h["inventories"], f"{hw}.inventories", set(RESOURCE_CLASSES),
                         set(RESOURCE_CLASSES))
        invs = []
        for rc in RESOURCE_CLASSES:
            iw = f"{hw}.inventories.{rc}"
            inv = _keys(invs_raw[rc], iw, {"total", "reserved", "allocation_ratio"}, {"total"})
            total = _int(inv, "total", iw)
            reserved = _int(inv, "reserved", iw, default=0)
            ratio = inv.get("allocation_ratio", 1.0)
            if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or ratio <= 0:
                raise CloudError(f"{iw}.allocation_ratio must be a number > 0, not {ratio!r}")
            if reserved > total:
                raise CloudError(f"{iw}.reserved ({reserved}) exceeds total ({total})")
            invs.append((rc, Inventory(total, reserved, float(ratio))))
        devices = h.get("devices", [])
        if not isinstance(devices, list):
            raise CloudError(f"{hw}.devices must be a list of device names")
        devices = tuple(_name(x, f"{hw}.devices[{j}]") for j, x in enumerate(devices))
        if len(set(devices)) != len(devices):
            raise CloudError(f"{hw}.devices names a device twice")
        up = h.get("up", True)
        if not isinstance(up, bool):
            raise CloudError(f"{hw}.up must be true or false")
        hosts.append(Host(name, tuple(invs), devices, up))
    if len({h.name for h in hosts}) != len(hosts):
        raise CloudError(f"{where}.hosts names a host twice")
    flavors_raw = d["flavors"]
    if not isinstance(flavors_raw, list) or not flavors_raw:
        raise CloudError(f"{where}.flavors must be a non-empty list")
    flavors = []
    for k, f in enumerate(flavors_raw):
        fw = f"{where}.flavors[{k}]"
        f = _keys(f, fw, {"name", "vcpus", "memory_mb", "disk_gb", "devices"},
                  {"name", "vcpus", "memory_mb", "disk_gb"})
        flavors.append(Flavor(_name(f["name"], f"{fw}.name"), _int(f, "vcpus", fw),
                              _int(f, "memory_mb", fw), _int(f, "disk_gb", fw),
                              _int(f, "devices", fw, default=0)))
    if len({f.name for f in flavors}) != len(flavors):
        raise CloudError(f"{where}.flavors names a flavor twice")
    for k, f in enumerate(flavors):
        if not any(_fits_empty(h, f) for h in hosts):
            raise CloudError(f"{where}.flavors[{k}] ({f.name}) fits on no host")
    inst = d["instances"]
    if isinstance(inst, int) and not isinstance(inst, bool):
        _check_range(f"{where}.instances", inst, 1, MAX_INSTANCES)
        instances = tuple(f"i{k}" for k in range(1, inst + 1))
    elif isinstance(inst, list) and 1 <= len(inst) <= MAX_INSTANCES:
        instances = tuple(_name(x, f"{where}.instances[{j}]") for j, x in enumerate(inst))
        if len(set(instances)) != len(instances):
            raise CloudError(f"{where}.instances names an instance twice")
    else:
        raise CloudError(f"{where}.instances must be a count or a list of 1 to {MAX_INSTANCES} ids")
    mm = d.get("max_migrations", 2)
    _check_range(f"{where}.max_migrations", mm, 0, MAX_MIGRATIONS)
    options = d.get("options", [])
    if not isinstance(options, list):
        raise CloudError(f"{where}.options must be a list of spec option names")
    for o in options:
        if o not in KNOWN_OPTIONS:
            known = ", ".join(sorted(KNOWN_OPTIONS)) or "none yet"
            raise CloudError(f"{where}.options names unknown spec option {o!r} (known: {known})")
    return Cloud(tuple(hosts), tuple(flavors), instances, mm, frozenset(options))


def _fits_empty(h: Host, f: Flavor) -> bool:
    return len(h.devices) >= f.devices and all(
        f.amount(rc) <= h.capacity(rc) for rc in RESOURCE_CLASSES
    )


def resolve_cloud(cloud_file: str | None, hosts: int | None, instances: int | None,
                  max_migrations: int | None = None) -> Cloud:
    """The cloud named on a command line: a file, or the default grown by flags."""
    if cloud_file is not None:
        if hosts is not None or instances is not None:
            raise CloudError("give either --cloud or --hosts/--instances, not both")
        cloud = load_cloud(cloud_file)
        if max_migrations is not None:
            _check_range("--max-migrations", max_migrations, 0, MAX_MIGRATIONS)
            cloud = Cloud(cloud.hosts, cloud.flavors, cloud.instances, max_migrations, cloud.options)
        return cloud
    return default_cloud(2 if hosts is None else hosts, 2 if instances is None else instances,
                         2 if max_migrations is None else max_migrations)
