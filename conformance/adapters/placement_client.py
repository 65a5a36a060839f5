"""The allocation writes Nova sends to Placement, call for call.

A small subset of ``nova/scheduler/client/report.py`` ``SchedulerReportClient``
(Queens and later), written against :class:`PlacementService`.  Every write
carries the consumer generation at microversion 1.28
(``CONSUMER_GENERATION_VERSION``), and, like Nova, no ``consumer_type``.

Errors, as Nova tells them apart (``report.py`` string-matches the detail):

- 409 ``placement.concurrent_update`` with "consumer generation conflict"
  -> :class:`ConsumerGenerationConflict` (Nova: ``AllocationUpdateFailed`` /
  ``AllocationMoveFailed``); :meth:`ReportClient.update_allocations` re-reads
  and retries, every other caller reports it;
- 409 ``placement.concurrent_update`` otherwise (a resource provider
  generation moved under the write) -> retried, as Nova's ``@retries`` does;
- any other 409 (capacity, min/max/step, missing inventory: Placement uses
  the one code ``placement.undefined_code`` for all of them) ->
  :class:`AllocationRefused` carrying Placement's detail text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from movecheck.conformance.adapters.placement_service import PlacementError, PlacementService

#: ``nova/scheduler/client/report.py`` CONSUMER_GENERATION_VERSION.
ALLOCATION_VERSION = "1.28"

#: Nova's ``@retries`` decorator tries a write 4 times on provider-generation conflicts.
PROVIDER_CONFLICT_RETRIES = 4

#: Read-modify-write attempts on a consumer generation conflict.
CONSUMER_CONFLICT_RETRIES = 4

Allocations = dict[str, dict[str, int]]  # {provider uuid: {resource class: amount}}


class AllocationRefused(Exception):
    """Placement answered 409 for capacity or inventory constraints (the detail says which)."""


class ConsumerGenerationConflict(Exception):
    """Placement answered 409 placement.concurrent_update: "consumer generation conflict"."""


def _error(data: Any) -> tuple[str, str]:
    try:
        err = data["errors"][0]
        return err.get("code", ""), err.get("detail", "")
    except (TypeError, KeyError, IndexError):
        return "", str(data)


class ReportClient:
    """Nova's report client calls used by the move operations."""

    def __init__(self, service: PlacementService, project_id: str, user_id: str):
        self.service = service
        self.project_id = project_id
        self.user_id = user_id
        self.provider_conflict_retries = 0  # how many provider-generation retries happened

    # ------------------------------------------------------------------ reads

    def get_allocs_for_consumer(self, consumer: str) -> tuple[Allocations, int | None]:
        """GET /allocations/{consumer} -> ({rp: {rc: amount}}, consumer_generation)."""
        data = self.service.expect(200, "GET", f"/allocations/{consumer}",
                                   microversion=ALLOCATION_VERSION)
        allocs = {rp: dict(a["resources"]) for rp, a in data["allocations"].items()}
        return allocs, data.get("consumer_generation")

    # ------------------------------------------------------------------ writes

    def _body(self, allocs: Allocations, generation: int | None) -> dict[str, Any]:
        return {
            "allocations": {rp: {"resources": res} for rp, res in allocs.items() if res},
            "project_id": self.project_id,
            "user_id": self.user_id,
            "consumer_generation": generation,
        }

    def _write(self, method: str, path: str, body: Any) -> None:
        for _ in range(PROVIDER_CONFLICT_RETRIES):
            status, data = self.service.call(method, path, body, ALLOCATION_VERSION)
            if status == 204:
                return
            code, detail = _error(data)
            if status == 409 and code == "placement.concurrent_update":
                if "consumer generation conflict" in detail:
                    raise ConsumerGenerationConflict(detail)
                self.provider_conflict_retries += 1
                continue  # a provider generation moved: Nova retries the same request
            if status == 409:
                raise AllocationRefused(detail)
            raise PlacementError(f"{method} {path} answered {status}: {detail}")
        raise PlacementError(f"{method} {path}: provider generation conflict "
                             f"{PROVIDER_CONFLICT_RETRIES} times in a row")

    def put_allocations(self, consumer: str, allocs: Allocations, generation: int | None) -> None:
        """PUT /allocations/{consumer} with the generation the caller last saw."""
        self._write("PUT", f"/allocations/{consumer}", self._body(allocs, generation))

    def claim_resources(self, consumer: str, allocs: Allocations) -> None:
        """``claim_resources``: the scheduler's claim for ``consumer``.

        If the consumer already holds allocations (evacuation: the instance
        still holds its source host) they are kept beside the new ones, the
        "doubled-up" allocation of ``_move_operation_alloc_request``
        (``nova/scheduler/utils.py`` ``claim_resources_on_destination``).
        """
        current, generation = self.get_allocs_for_consumer(consumer)
        merged = {rp: dict(res) for rp, res in current.items()}
        for rp, res in allocs.items():
            merged.setdefault(rp, {}).update(res)
        self.put_allocations(consumer, merged, generation)

    def move_allocations(self, source: str, target: str,
                         providers: set[str] | None = None,
                         keep: set[str] | None = None) -> bool:
        """``move_allocations``: everything ``source`` holds goes to ``target``, atomically.

        One POST /allocations replaces both consumers (``replace_all``): the
        target's own allocations are overwritten, the source ends empty.
        When the source holds nothing, Nova assumes the allocations were
        already moved and leaves the target alone.  Here an empty source is
        also a flavor of zeros (which Nova's flavors cannot be), whose move
        must still empty the target: the adapter PUTs ``{}`` to the target
        (POSTing ``{}`` for a source that does not exist would create an
        empty consumer, docs/placement.md finding 5).  Returns False when the
        source held nothing.  ``providers`` moves only the allocations against those
        providers; the source keeps the rest (see the adapter's ``_move_claim``).
        ``keep``: the target's allocations against those providers stay (the way
        back of such a partial move).
        """
        src, src_gen = self.get_allocs_for_consumer(source)
        tgt, tgt_gen = self.get_allocs_for_consumer(target)
        moving = src if providers is None else {rp: r for rp, r in src.items() if rp in providers}
        kept = {rp: r for rp, r in tgt.items() if keep and rp in keep and rp not in moving}
        if not moving:
            if tgt != kept:
                self.put_allocations(target, kept, tgt_gen)
            return False
        body = {
            source: self._body({rp: r for rp, r in src.items() if rp not in moving}, src_gen),
            target: self._body({**kept, **moving}, tgt_gen),
        }
        self._write("POST", "/allocations", body)
        return True

    def update_allocations(self, consumer: str,
                           change: Callable[[Allocations], Allocations]) -> Allocations:
        """Read-modify-write of one consumer, re-read and re-applied on a generation conflict.

        This is how a writer that lost a race must behave so that the other
        writer's change is kept, not silently overwritten: the conflict is
        Placement's 409 ``placement.concurrent_update``; after
        :data:`CONSUMER_CONFLICT_RETRIES` lost races it is raised.
        """
        for attempt in range(CONSUMER_CONFLICT_RETRIES):
            current, generation = self.get_allocs_for_consumer(consumer)
            new = change({rp: dict(res) for rp, res in current.items()})
            try:
                self.put_allocations(consumer, new, generation)
                return new
            except ConsumerGenerationConflict:
                if attempt == CONSUMER_CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def remove_providers_from_allocation(self, consumer: str, providers: set[str]) -> None:
        """``remove_provider_tree_from_instance_allocation``: drop a host's tree from a consumer."""
        self.update_allocations(
            consumer, lambda cur: {rp: r for rp, r in cur.items() if rp not in providers}
        )

    def delete_allocation_for_consumer(self, consumer: str) -> bool:
        """``delete_allocation_for_instance(force=False)``: GET, then PUT {} with the generation.

        Returns False (and writes nothing) when the consumer holds nothing.
        """
        current, generation = self.get_allocs_for_consumer(consumer)
        if not current:
            return False
        self.put_allocations(consumer, {}, generation)
        return True
