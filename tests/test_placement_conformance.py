"""A seeded conformance run of the real Placement on a cloud with nested device providers.

The same driver as ``movecheck conform --tracker placement`` (Hypothesis,
swarm testing, shrinking), on three hosts with 2, 1 and 0 devices,
overcommit ratios and reserved memory, so that every move type, confirm and
revert, evacuation and Placement's own capacity refusals (409) can occur.
"""

from __future__ import annotations

from collections import Counter

import pytest

from movecheck.conformance.adapters.placement import PlacementTracker
from movecheck.conformance.driver import run_conformance
from movecheck.spec.cloudfile import cloud_from_mapping

pytestmark = [pytest.mark.placement, pytest.mark.slow]

_OVERCOMMIT = {"VCPU": {"total": 4, "allocation_ratio": 2.0},
               "MEMORY_MB": {"total": 4096, "reserved": 512, "allocation_ratio": 1.5},
               "DISK_GB": {"total": 40}}

CLOUD = cloud_from_mapping({
    "hosts": [
        {"name": "h1", "devices": ["pci0", "pci1"], "inventories": _OVERCOMMIT},
        {"name": "h2", "devices": ["pci0"], "inventories": _OVERCOMMIT},
        {"name": "h3", "inventories": {"VCPU": {"total": 2}, "MEMORY_MB": {"total": 2048},
                                       "DISK_GB": {"total": 20}}},
    ],
    "flavors": [
        {"name": "small", "vcpus": 1, "memory_mb": 1024, "disk_gb": 10},
        {"name": "gpu", "vcpus": 3, "memory_mb": 2048, "disk_gb": 10, "devices": 1},
        {"name": "gpu2", "vcpus": 4, "memory_mb": 2048, "disk_gb": 20, "devices": 2},
    ],
    "instances": 3,
    "max_migrations": 4,
})


class CountingTracker(PlacementTracker):
    """Counts the claims Placement itself refused (409), per step kind."""

    refused: Counter

    def apply(self, step):
        out = super().apply(step)
        if not out.accepted and "(409)" in (out.reason or ""):
            self.refused[step.kind] += 1
        return out


def test_conformance_run_against_placement_is_clean_and_covers_every_move():
    tracker = CountingTracker()
    tracker.refused = Counter()
    result = run_conformance(lambda: tracker, CLOUD, examples=20, steps=30, seed=11,
                             label="placement")
    assert result.discrepancy is None, result.discrepancy
    assert result.steps >= 300
    assert result.capabilities == frozenset({"usage", "devices", "allocations"})
    # The driver's exact coverage depends on its generation strategy; full step
    # and edge coverage is asserted by the seeded walks in tests/test_placement.py.
    accepted = set(result.coverage.to_json()["steps_accepted"])
    assert {"boot", "resize_claim", "live_claim", "delete"} <= accepted
    assert tracker.refused["boot"] > 0  # Placement's own 409s occurred
