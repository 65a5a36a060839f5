"""conformance/examples/tracker.js computes capacity exactly: it conforms on a cloud whose
allocation ratios are inexact in binary (1.15, 1.4, 1.5), given by ``--cloud FILE``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movecheck.cli import main
from movecheck.conformance.adapters.jsonl import JsonlTracker
from movecheck.spec.cloudfile import load_cloud
from movecheck.spec.vocab import Step

EXAMPLE = Path(__file__).parent.parent / "conformance" / "examples" / "tracker.js"

#: Capacities land on whole numbers that floating point misses:
#: (2048 - 1958) x 1.4 = 126 (125.99999999999999 in doubles), 100 x 1.15 = 115
#: (114.99999999999999), (8 - 2) x 1.5 = 9.  Two ``small`` fill h1's memory exactly.
CLOUD = """\
instances = 2
max_migrations = 3

[[hosts]]
name = "h1"
devices = ["pci0"]
inventories.VCPU = { total = 4 }
inventories.MEMORY_MB = { total = 2048, reserved = 1958, allocation_ratio = 1.4 }
inventories.DISK_GB = { total = 100, allocation_ratio = 1.15 }

[[hosts]]
name = "h2"
devices = ["pci0", "pci1"]
inventories.VCPU = { total = 8, reserved = 2, allocation_ratio = 1.5 }
inventories.MEMORY_MB = { total = 1024, reserved = 934, allocation_ratio = 1.4 }
inventories.DISK_GB = { total = 200, reserved = 100, allocation_ratio = 1.15 }

[[flavors]]
name = "small"
vcpus = 1
memory_mb = 63
disk_gb = 50

[[flavors]]
name = "large"
vcpus = 2
memory_mb = 63
disk_gb = 65
devices = 1
"""

JUST_FITS = [Step("boot", instance="i1", host="h1", flavor="small"),
             Step("boot", instance="i2", host="h1", flavor="small")]


@pytest.fixture
def cloud_file(tmp_path):
    path = tmp_path / "inexact.toml"
    path.write_text(CLOUD)
    return path


def _outcomes(script: Path, cloud_file: Path) -> list[bool]:
    tracker = JsonlTracker(f"node {script}", timeout=10)
    try:
        tracker.reset(load_cloud(cloud_file))
        return [tracker.apply(s).accepted for s in JUST_FITS]
    finally:
        tracker.close()


def test_a_claim_that_just_fits_an_inexact_ratio_is_accepted(cloud_file, tmp_path):
    assert _outcomes(EXAMPLE, cloud_file) == [True, True]
    # The same tracker with the capacity in floating point refuses it: the test can fail.
    floating = tmp_path / "float_tracker.js"
    floating.write_text(EXAMPLE.read_text().replace(
        "return BigInt(amount) * den <= BigInt(i.total - (i.reserved || 0)) * num;",
        "return amount <= (i.total - (i.reserved || 0)) * i.allocation_ratio;"))
    assert floating.read_text() != EXAMPLE.read_text()
    assert _outcomes(floating, cloud_file) == [True, False]


def test_the_example_tracker_conforms_on_a_cloud_with_inexact_ratios(cloud_file, tmp_path):
    report = tmp_path / "r.json"
    code = main(["conform", "--tracker", f"jsonl:node {EXAMPLE}", "--cloud", str(cloud_file),
                 "--examples", "80", "--seed", "3", "--json", str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["discrepancy"]
    assert data["cloud"]["hosts"][0]["inventories"]["DISK_GB"]["allocation_ratio"] == 1.15
    assert data["steps"] > 400
