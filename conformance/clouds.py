"""The family of clouds a conformance run draws from when the user pins none.

In the embedded default cloud every allocation ratio is 1.0, so a tracker that
computes capacity as ``total x ratio - reserved`` instead of Placement's
``(total - reserved) x ratio`` (``placement/objects/allocation.py``
``_check_capacity_exceeded``), or in floating point (``100 x 1.15 =
114.99999999999999``), keeps the same books as the spec.  Each example of a
run without ``--cloud``/``--hosts``/``--instances`` therefore draws its own
cloud: 2 or 3 hosts of uneven sizes, reserved amounts, allocation ratios that
binary floating point cannot hold exactly (1.15, 1.4) beside exact ones (1.5,
2.0), 0 to 2 devices per host, and sometimes a flavor ``edge`` exactly the
size of one host's capacity (a claim that just fits) or one unit over it on
one resource class (a claim that just does not).

Every choice is a ``sampled_from`` whose first value is the default cloud's,
so Hypothesis shrinks a failing example's cloud toward the default cloud, and
every draw is of a small index, so Hypothesis never substitutes a constant
from local source files for it (see docs/conformance.md, "Same seed, same
examples").
"""

from __future__ import annotations

import math

from movecheck.spec.cloudfile import DEFAULT_FLAVORS, default_cloud
from movecheck.spec.vocab import RESOURCE_CLASSES, Cloud, Flavor, Host, Inventory

#: Per resource class, (total - reserved, allocation_ratio) pairs; the first is
#: the default host's.  (100, 1.15) and (45, 1.4) have an integral capacity
#: (115, 63) that the floating-point product misses by one ulp.
NET_AND_RATIO: dict[str, tuple[tuple[int, float], ...]] = {
    "VCPU": ((4, 1.0), (100, 1.15), (45, 1.4), (3, 1.5), (2, 2.0)),
    "MEMORY_MB": ((1536, 1.0), (1024, 1.5), (1280, 1.4), (2000, 1.15), (2560, 1.0)),
    "DISK_GB": ((40, 1.0), (30, 1.5), (100, 1.15), (45, 1.4), (20, 2.0)),
}

#: Reserved amounts per resource class; the first is the default host's.
RESERVED: dict[str, tuple[int, ...]] = {
    "VCPU": (0, 1, 2),
    "MEMORY_MB": (512, 0, 256, 1024),
    "DISK_GB": (0, 10, 5),
}

#: Devices per host; the first is the default host's.
DEVICES = (1, 0, 2)

#: Hosts per cloud; the first is the default cloud's.
HOSTS = (2, 3)

#: Which resource class the ``edge`` flavor overflows by one unit (None: it
#: just fits its host).
BUMPS: tuple[str | None, ...] = (None, *RESOURCE_CLASSES)


def _build_hosts(rows) -> tuple[Host, ...]:
    hosts = []
    for k, (per_rc, devices) in enumerate(rows, 1):
        inv = tuple((rc, Inventory(total=net + reserved, reserved=reserved,
                                   allocation_ratio=ratio))
                    for rc, ((net, ratio), reserved) in zip(RESOURCE_CLASSES, per_rc, strict=True))
        hosts.append(Host(f"h{k}", inv, tuple(f"pci{d}" for d in range(devices))))
    return tuple(hosts)


def _fits(host: Host, flavor: Flavor) -> bool:
    """``flavor`` fits on ``host`` when the host is empty."""
    return len(host.devices) >= flavor.devices and all(
        flavor.amount(rc) <= host.capacity(rc) for rc in RESOURCE_CLASSES)


def edge_flavor(host: Host, bump: str | None) -> Flavor:
    """A flavor exactly as large as ``host``'s capacity, one unit more of ``bump``."""
    size = {rc: math.floor(host.capacity(rc)) + (rc == bump) for rc in RESOURCE_CLASSES}
    return Flavor("edge", vcpus=size["VCPU"], memory_mb=size["MEMORY_MB"],
                  disk_gb=size["DISK_GB"], devices=0)


def clouds():
    """The Hypothesis strategy of generated clouds (simplest: the default cloud)."""
    from hypothesis import strategies as st

    base = default_cloud()
    # Strategies are built once: building one costs more than drawing from it.
    host = st.tuples(
        st.tuples(*(st.tuples(st.sampled_from(NET_AND_RATIO[rc]), st.sampled_from(RESERVED[rc]))
                    for rc in RESOURCE_CLASSES)),
        st.sampled_from(DEVICES))
    hosts_of = {n: st.tuples(*(host for _ in range(n))).map(_build_hosts) for n in HOSTS}
    n_hosts = st.sampled_from(HOSTS)
    edge_on = {n: st.sampled_from((None, *range(n))) for n in HOSTS}
    bumps = st.sampled_from(BUMPS)

    @st.composite
    def cloud(draw) -> Cloud:
        n = draw(n_hosts)
        hosts = draw(hosts_of[n])
        edge_host = draw(edge_on[n])
        flavors = DEFAULT_FLAVORS
        if edge_host is not None:
            bump = draw(bumps)
            edge = edge_flavor(hosts[edge_host], bump)
            if not any(_fits(h, edge) for h in hosts):
                # A cloud file must not have a flavor that fits nowhere
                # (movecheck validate reads the cloud back from a trace).
                edge = edge_flavor(hosts[edge_host], None)
            flavors = (*DEFAULT_FLAVORS, edge)
        if not any(_fits(h, DEFAULT_FLAVORS[1]) for h in hosts):
            # No host has a device for ``large``: the first gets the default's one.
            hosts = (Host(hosts[0].name, hosts[0].inventories, ("pci0",)), *hosts[1:])
        return Cloud(hosts, flavors, base.instances, base.max_migrations)

    return cloud()
