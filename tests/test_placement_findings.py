"""Where real Placement differs from the spec (docs/placement.md, "Findings").

Each test pins one finding: either a discrepancy the kit reports (with the
shrunk trace that docs/placement.md shows), or a Placement behaviour the spec
does not share together with the reason the kit cannot reach it.
"""

from __future__ import annotations

import pytest

from movecheck.conformance.adapters.placement import PlacementTracker, placement_factory
from movecheck.conformance.adapters.placement_client import AllocationRefused
from movecheck.spec import Spec, default_cloud
from movecheck.spec.cloudfile import cloud_from_mapping
from movecheck.spec.vocab import Step

pytestmark = pytest.mark.placement


@pytest.fixture(scope="module")
def tracker() -> PlacementTracker:
    return placement_factory()


def ratio_cloud():
    """VCPU 45 at allocation_ratio 1.4: capacity exactly 63, but 45 * 1.4 == 62.99999999999999."""
    inv = {"VCPU": {"total": 45, "allocation_ratio": 1.4}, "MEMORY_MB": {"total": 8192},
           "DISK_GB": {"total": 100}}
    return cloud_from_mapping({
        "hosts": [{"name": "h1", "inventories": inv}, {"name": "h2", "inventories": inv}],
        "flavors": [{"name": "big", "vcpus": 33, "memory_mb": 1024, "disk_gb": 10},
                    {"name": "mid", "vcpus": 30, "memory_mb": 1024, "disk_gb": 10}],
        "instances": 2,
    })


def test_finding_1_float_capacity_refuses_the_last_unit(tracker):
    """Placement computes (total - reserved) * allocation_ratio in floating point
    (placement/objects/allocation.py _check_capacity_exceeded): 45 * 1.4 is
    62.99999999999999, so the 63rd VCPU is refused although the capacity is 63.
    The kit's shrunk trace: boot(i1, h1, big=33 VCPU); resize_claim(m1, i1, h1, mid=30)."""
    cloud = ratio_cloud()
    spec = Spec(cloud)
    tracker.reset(cloud)
    state = spec.initial()
    boot = Step("boot", instance="i1", host="h1", flavor="big")
    assert tracker.apply(boot).accepted
    state = spec.next_state(state, boot)
    resize = Step("resize_claim", migration="m1", instance="i1", dest="h1", flavor="mid")
    assert spec.why_rejected(state, resize) is None  # 33 + 30 = 63 <= capacity 63
    got = tracker.apply(resize)
    assert not got.accepted and "VCPU" in got.reason and "capacity" in got.reason
    # A fresh boot of 63 VCPU in two instances shows the same thing without a move.
    tracker.reset(cloud)
    assert tracker.apply(boot).accepted
    assert not tracker.apply(Step("boot", instance="i2", host="h1", flavor="mid")).accepted
    assert spec.why_rejected(spec.next_state(spec.initial(), boot),
                             Step("boot", instance="i2", host="h1", flavor="mid")) is None


def _plain_host(tracker: PlacementTracker, vcpu: int = 4, ratio: float = 1.0) -> str:
    tracker.reset(cloud_from_mapping({
        "hosts": [{"name": "h1", "inventories": {
            "VCPU": {"total": vcpu, "allocation_ratio": ratio}, "MEMORY_MB": {"total": 4096},
            "DISK_GB": {"total": 100}}}],
        "flavors": [{"name": "one", "vcpus": 1, "memory_mb": 1, "disk_gb": 1}],
        "instances": 1,
    }))
    return tracker.root["h1"]


def test_finding_2_own_previous_allocation_is_left_out_of_the_check(tracker):
    """A consumer rewriting its allocation on a full provider is checked without its
    own previous allocation: same amount accepted, one more refused.  Unreachable by
    the kit: Nova's move sequence empties the instance consumer before the claim."""
    rp = _plain_host(tracker)
    c = tracker._inst_uuid("x")
    tracker.client.put_allocations(c, {rp: {"VCPU": 4}}, None)  # host full
    allocs, gen = tracker.client.get_allocs_for_consumer(c)
    tracker.client.put_allocations(c, {rp: {"VCPU": 4}}, gen)  # accepted on a full host
    allocs, gen = tracker.client.get_allocs_for_consumer(c)
    with pytest.raises(AllocationRefused, match="exceed the capacity"):
        tracker.client.put_allocations(c, {rp: {"VCPU": 5}}, gen)


def test_finding_3_over_capacity_provider_accepts_writes_that_do_not_grow_usage(tracker):
    """After the allocation_ratio is lowered below current usage (PUT inventories is
    accepted), a write that shrinks usage is accepted although the provider stays over
    capacity; any growth is refused.  Unreachable by the kit: the spec has no step that
    changes inventories, so usage never exceeds capacity."""
    rp = _plain_host(tracker, vcpu=4, ratio=2.0)  # capacity 8
    a, b = tracker._inst_uuid("a"), tracker._inst_uuid("b")
    tracker.client.put_allocations(a, {rp: {"VCPU": 4}}, None)
    tracker.client.put_allocations(b, {rp: {"VCPU": 4}}, None)
    inv = tracker.service.expect(200, "GET", f"/resource_providers/{rp}/inventories")
    inv["inventories"]["VCPU"]["allocation_ratio"] = 1.0  # capacity 4 < usage 8
    tracker.service.expect(200, "PUT", f"/resource_providers/{rp}/inventories", inv)
    _, gen = tracker.client.get_allocs_for_consumer(b)
    tracker.client.put_allocations(b, {rp: {"VCPU": 2}}, gen)  # 6 > 4, but smaller: accepted
    assert tracker.observe().usage["h1"]["VCPU"] == 6
    _, gen = tracker.client.get_allocs_for_consumer(b)
    with pytest.raises(AllocationRefused):
        tracker.client.put_allocations(b, {rp: {"VCPU": 3}}, gen)


def test_finding_4_one_conflict_code_for_capacity_and_inventory_constraints(tracker):
    """Capacity and min_unit/max_unit/step_size violations share the 409 code
    placement.undefined_code; only the detail differs.  The adapter leaves
    max_unit at Placement's default (MAX_INT) with min_unit = step_size = 1, so only
    capacity can refuse a claim, which is what the spec models."""
    rp = _plain_host(tracker)
    inv = tracker.service.expect(200, "GET", f"/resource_providers/{rp}/inventories")
    assert inv["inventories"]["VCPU"]["max_unit"] == 2**31 - 1
    inv["inventories"]["VCPU"]["max_unit"] = 2
    tracker.service.expect(200, "PUT", f"/resource_providers/{rp}/inventories", inv)
    body = {"allocations": {rp: {"resources": {"VCPU": 3}}}, "project_id": "p", "user_id": "u",
            "consumer_generation": None}
    st1, over_max = tracker.service.call("PUT", f"/allocations/{tracker._inst_uuid('a')}", body)
    body["allocations"][rp]["resources"]["VCPU"] = 5
    inv = tracker.service.expect(200, "GET", f"/resource_providers/{rp}/inventories")
    inv["inventories"]["VCPU"]["max_unit"] = 100
    tracker.service.expect(200, "PUT", f"/resource_providers/{rp}/inventories", inv)
    st2, over_cap = tracker.service.call("PUT", f"/allocations/{tracker._inst_uuid('a')}", body)
    assert st1 == st2 == 409
    assert over_max["errors"][0]["code"] == over_cap["errors"][0]["code"] == "placement.undefined_code"
    assert "inventory constraints" in over_max["errors"][0]["detail"]
    assert "exceed the capacity" in over_cap["errors"][0]["detail"]


def test_zero_total_inventory_is_left_out_and_placement_refuses_claims_on_it(tracker):
    """Placement refuses an inventory of total 0; like Nova the adapter does not
    report it, and a claim for that class is refused by Placement (no inventory),
    as the spec refuses it (capacity 0)."""
    cloud = cloud_from_mapping({
        "hosts": [{"name": "h1", "inventories": {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 4096},
                                                 "DISK_GB": {"total": 0}}},
                  {"name": "h2", "inventories": {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 4096},
                                                 "DISK_GB": {"total": 10}}}],
        "flavors": [{"name": "diskless", "vcpus": 1, "memory_mb": 64, "disk_gb": 0},
                    {"name": "disk", "vcpus": 1, "memory_mb": 64, "disk_gb": 1}],
        "instances": 2,
    })
    spec = Spec(cloud)
    tracker.reset(cloud)
    assert tracker.apply(Step("boot", instance="i1", host="h1", flavor="diskless")).accepted
    refused = tracker.apply(Step("boot", instance="i2", host="h1", flavor="disk"))
    assert not refused.accepted and "(409)" in refused.reason
    assert spec.why_rejected(spec.initial(), Step("boot", instance="i2", host="h1", flavor="disk"))


def test_default_cloud_reaches_no_finding(tracker):
    """On the embedded default cloud (ratios 1.0) none of the findings can bite: a
    short conformance run is clean (the full run is in .ci/run)."""
    from movecheck.conformance.driver import run_conformance

    result = run_conformance(lambda: tracker, default_cloud(), examples=8, steps=25, seed=7,
                             label="placement")
    assert result.discrepancy is None, result.discrepancy
    assert result.steps > 100


def test_request_sequence_of_finding_1_is_readable(tracker):
    """The request log a report can show: names instead of uuids, Placement's 409 detail."""
    tracker.reset(ratio_cloud())
    tracker.apply(Step("boot", instance="i1", host="h1", flavor="big"))
    tracker.apply(Step("resize_claim", migration="m1", instance="i1", dest="h1", flavor="mid"))
    writes = tracker.requests(include_reads=False)
    assert [w.split(" ")[0] + " " + w.split(" ")[1] for w in writes] == [
        "PUT /allocations/{i1}", "POST /allocations", "PUT /allocations/{i1}", "POST /allocations"]
    assert writes[2].endswith("placement.undefined_code: Unable to allocate inventory: Unable to "
                              "create allocation for 'VCPU' on resource provider 'h1'. The "
                              "requested amount would exceed the capacity.")
    assert '"VCPU": 30' in writes[2] and "-> 409" in writes[2]
    assert all("-> 204" in w for w in (writes[0], writes[1], writes[3]))


def test_finding_5_empty_new_consumer_hides_its_generation(tracker):
    """At microversion 1.28, PUT /allocations/{c} {} with consumer_generation null for a
    new consumer answers 204 and creates a consumer at generation 0, but
    GET /allocations/{c} answers {"allocations": {}} with no consumer_generation; the
    next write sending what GET implied (null) is refused with 409 "consumer generation
    conflict - expected 0 but got None".  Nova never sends an empty claim; the adapter
    does not either (a flavor of zeros claims nothing)."""
    rp = _plain_host(tracker)
    c = tracker._inst_uuid("empty")
    body = {"allocations": {}, "project_id": "p", "user_id": "u", "consumer_generation": None}
    assert tracker.service.call("PUT", f"/allocations/{c}", body)[0] == 204
    assert tracker.service.call("GET", f"/allocations/{c}") == (200, {"allocations": {}})
    body["allocations"] = {rp: {"resources": {"VCPU": 1}}}
    status, reply = tracker.service.call("PUT", f"/allocations/{c}", body)
    assert status == 409 and "expected 0 but got None" in reply["errors"][0]["detail"]
    body["consumer_generation"] = 0
    assert tracker.service.call("PUT", f"/allocations/{c}", body)[0] == 204


def test_zero_flavor_moves_agree_with_the_spec(tracker):
    """With the empty claim left out, a flavor of zeros boots, resizes and is deleted
    as the spec says (before, the resize raised the generation conflict of finding 5)."""
    cloud = cloud_from_mapping({
        "hosts": [{"name": h, "inventories": {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 1024},
                                              "DISK_GB": {"total": 10}}} for h in ("h1", "h2")],
        "flavors": [{"name": "zero", "vcpus": 0, "memory_mb": 0, "disk_gb": 0},
                    {"name": "one", "vcpus": 1, "memory_mb": 1, "disk_gb": 1}],
        "instances": 1, "max_migrations": 2,
    })
    spec = Spec(cloud)
    state = spec.initial()
    tracker.reset(cloud)
    for step in (Step("boot", instance="i1", host="h1", flavor="zero"),
                 Step("resize_claim", migration="m1", instance="i1", dest="h2", flavor="zero"),
                 Step("resize_migrate", migration="m1"), Step("resize_migrated", migration="m1"),
                 Step("finish_resize", migration="m1"), Step("confirm", migration="m1"),
                 Step("confirm_finish", migration="m1"),
                 Step("resize_claim", migration="m2", instance="i1", dest="h1", flavor="one"),
                 Step("fail", migration="m2"), Step("delete", instance="i1")):
        assert spec.why_rejected(state, step) is None, step
        assert tracker.apply(step).accepted, step
        state = spec.next_state(state, step)
        assert tracker.observe().usage == spec.observe(state).usage, step
