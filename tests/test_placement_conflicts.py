"""Generation conflicts: two writers race on one consumer; no write is silently lost.

Placement answers a stale consumer generation with 409
``placement.concurrent_update`` ("consumer generation conflict"); Nova's report
client (``nova/scheduler/client/report.py``) either re-reads and retries or
raises ``AllocationUpdateFailed``.  These tests make a second writer win the
race and check that the adapter either retries (keeping the other writer's
change) or reports the conflict, never overwrites it.
"""

from __future__ import annotations

import pytest

from movecheck.conformance.adapters.placement import PlacementTracker, placement_factory
from movecheck.conformance.adapters.placement_client import (
    CONSUMER_CONFLICT_RETRIES,
    ConsumerGenerationConflict,
    ReportClient,
)
from movecheck.spec import default_cloud
from movecheck.spec.vocab import Step

pytestmark = pytest.mark.placement


@pytest.fixture
def tracker() -> PlacementTracker:
    t = placement_factory()
    t.reset(default_cloud())
    return t


def other_writer(tracker: PlacementTracker) -> ReportClient:
    return ReportClient(tracker.service, "other-project", "other-user")


def test_stale_write_is_refused_and_a_reread_keeps_both_changes(tracker):
    tracker.apply(Step("boot", instance="i1", host="h1", flavor="small"))
    c = tracker._inst_uuid("i1")
    h1, h2 = tracker.root["h1"], tracker.root["h2"]
    a, b = other_writer(tracker), other_writer(tracker)
    seen_a, gen_a = a.get_allocs_for_consumer(c)
    seen_b, gen_b = b.get_allocs_for_consumer(c)
    assert gen_a == gen_b
    a.put_allocations(c, {**seen_a, h2: {"VCPU": 1}}, gen_a)  # A wins the race
    with pytest.raises(ConsumerGenerationConflict, match="consumer generation conflict"):
        b.put_allocations(c, {h1: {"VCPU": 1, "MEMORY_MB": 256}}, gen_b)  # stale: refused
    # A's write is still there: the stale write did not silently replace it.
    assert a.get_allocs_for_consumer(c)[0][h2] == {"VCPU": 1}
    # B re-reads and re-applies its change on top of A's.
    b.update_allocations(c, lambda cur: {**cur, h1: {**cur[h1], "MEMORY_MB": 256}})
    final, _ = a.get_allocs_for_consumer(c)
    assert final == {h1: {"VCPU": 1, "MEMORY_MB": 256, "DISK_GB": 10}, h2: {"VCPU": 1}}


def race_once(tracker: PlacementTracker, path: str, competitor, times: int = 1) -> list[int]:
    """Run ``competitor()`` just before the adapter's next ``times`` PUTs to ``path``."""
    real_call = tracker.service.call
    fired: list[int] = []
    racing = []  # the competitor's own requests go through here too: do not race them

    def call(method, p, body=None, microversion="1.28"):
        if method == "PUT" and p == path and len(fired) < times and not racing:
            fired.append(1)
            racing.append(1)
            try:
                competitor()
            finally:
                racing.clear()
        return real_call(method, p, body, microversion)

    tracker.service.call = call
    return fired


def test_adapter_retries_a_lost_race_during_evacuation_cleanup(tracker):
    for step in (Step("boot", instance="i1", host="h1", flavor="small"),
                 Step("host_down", host="h1"),
                 Step("evacuate_start", migration="m1", instance="i1", dest="h2"),
                 Step("rebuild_claim", migration="m1"),
                 Step("finish_evacuation", migration="m1")):
        assert tracker.apply(step).accepted
    c = tracker._inst_uuid("i1")
    h2 = tracker.root["h2"]
    rival = other_writer(tracker)

    def grow_on_dest():  # another writer changes the instance's dest allocation
        cur, gen = rival.get_allocs_for_consumer(c)
        rival.put_allocations(c, {**cur, h2: {**cur[h2], "DISK_GB": 11}}, gen)

    fired = race_once(tracker, f"/allocations/{c}", grow_on_dest)
    assert tracker.apply(Step("host_up", host="h1")).accepted
    assert fired == [1]
    # The source tree is gone (the adapter's change) and the rival's change survived.
    assert tracker.client.get_allocs_for_consumer(c)[0] == {
        h2: {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 11}}


def test_adapter_reports_a_race_it_keeps_losing(tracker):
    tracker.apply(Step("boot", instance="i1", host="h1", flavor="small"))
    tracker.apply(Step("host_down", host="h1"))
    tracker.apply(Step("evacuate_start", migration="m1", instance="i1", dest="h2"))
    tracker.apply(Step("rebuild_claim", migration="m1"))
    tracker.apply(Step("finish_evacuation", migration="m1"))
    c = tracker._inst_uuid("i1")
    rival = other_writer(tracker)

    def touch():
        cur, gen = rival.get_allocs_for_consumer(c)
        rival.put_allocations(c, cur, gen)  # same allocations, new generation

    race_once(tracker, f"/allocations/{c}", touch, times=CONSUMER_CONFLICT_RETRIES)
    with pytest.raises(ConsumerGenerationConflict):
        tracker.apply(Step("host_up", host="h1"))


def test_claim_on_a_consumer_someone_else_created_is_reported(tracker):
    """A boot claim sends consumer_generation null ("I expect a new consumer");
    if another writer created the consumer first, Placement refuses with a
    generation conflict and the adapter raises it (a discrepancy, not an accept)."""
    c = tracker._inst_uuid("i1")
    other_writer(tracker).put_allocations(c, {tracker.root["h2"]: {"VCPU": 1}}, None)
    with pytest.raises(ConsumerGenerationConflict):
        tracker.apply(Step("boot", instance="i1", host="h1", flavor="small"))
    assert tracker.observe().usage["h1"]["VCPU"] == 0
