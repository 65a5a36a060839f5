"""The spec's steps: the one place that lists them (docs/spec.md, "Steps").

Each row names the step as Nova's function that performs it, its parameters,
the migration type it belongs to (if any), and in domain words when it is
enabled and what it does.  The guards and effects themselves are in
:mod:`movecheck.spec.concrete` (concrete interpretation) and
:mod:`movecheck.spec.symbolic` (Z3); both dispatch on these names, and the
docs (docs/spec.md) are checked against this table by a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from movecheck.spec.errors import InputError
from movecheck.spec.vocab import EVACUATION, LIVE_MIGRATION, RESIZE, Step


@dataclass(frozen=True)
class StepDef:
    name: str
    params: tuple[str, ...]
    move: str | None  # migration type family the step belongs to, or None
    nova: str  # the Nova function(s) it stands for
    guard: str  # enabled when ... (domain words)
    effect: str  # what it does (domain words)
    claims: bool = False  # picks devices on a host (outcome reports them)


_S = StepDef

#: Every step of the spec, in the order docs and reports list them.
STEPS: dict[str, StepDef] = {
    s.name: s
    for s in [
        _S("boot", ("instance", "host", "flavor"), None,
           "compute/manager.py _build_and_run_instance -> rt.instance_claim",
           "the instance was never booted, the host is up and the flavor (and its devices) fits",
           "the instance is active on the host with the flavor; the host's usage grows by the "
           "flavor and the picked devices are held", claims=True),
        _S("delete", ("instance",), None,
           "compute/api.py delete (local delete when the host is down)",
           "the instance exists (not deleted)",
           "the instance is deleted and frees everything it holds; an in-progress migration of "
           "it fails (error, or failed for a live migration) and frees its holds too"),
        _S("resize_claim", ("migration", "instance", "dest", "flavor"), RESIZE,
           "conductor/tasks/migrate.py + compute/manager.py _prep_resize -> rt.resize_claim",
           "the instance is active with no in-progress migration, its host and dest are up, the "
           "migration id is fresh, dest != host or the flavor changes (same-host resize), and the "
           "new flavor fits on dest on top of what dest holds",
           "a migration (type resize if the flavor changes, else migration) is created "
           "pre-migrating; dest holds the new flavor and the picked devices; the MigrationContext "
           "records the old and new devices", claims=True),
        _S("resize_migrate", ("migration",), RESIZE,
           "compute/manager.py _resize_instance (status migrating)",
           "the migration is pre-migrating and its source is up", "status migrating"),
        _S("resize_migrated", ("migration",), RESIZE,
           "compute/manager.py _resize_instance (status post-migrating, instance.host := dest)",
           "the migration is migrating and its source is up",
           "status post-migrating; the instance lands on dest (host := dest, holds the new "
           "devices); the source now holds the old flavor for the migration"),
        _S("finish_resize", ("migration",), RESIZE,
           "compute/manager.py _finish_resize",
           "the migration is post-migrating and its dest is up",
           "status finished; instance.flavor := new flavor; vm_state resized"),
        _S("confirm", ("migration",), RESIZE,
           "compute/api.py confirm_resize (status confirming)",
           "the migration is finished", "status confirming"),
        _S("confirm_finish", ("migration",), RESIZE,
           "compute/manager.py confirm_resize -> rt.drop_move_claim_at_source",
           "the migration is confirming and its source is up",
           "status confirmed; the source frees the old flavor and old devices; the instance "
           "drops old/new flavor and its MigrationContext; vm_state active"),
        _S("revert", ("migration",), RESIZE,
           "compute/api.py revert_resize (status reverting)",
           "the migration is finished", "status reverting"),
        _S("revert_finish", ("migration",), RESIZE,
           "compute/manager.py revert_resize -> rt.drop_move_claim_at_dest + finish_revert_resize",
           "the migration is reverting and source and dest are up",
           "status reverted; dest frees the new flavor and new devices; the instance is back on "
           "the source with the old flavor and old devices; vm_state active"),
        _S("live_claim", ("migration", "instance", "dest"), LIVE_MIGRATION,
           "conductor/tasks/live_migrate.py -> rt.live_migration_claim",
           "the instance is active with no in-progress migration, its host and dest are up, "
           "dest != host, the migration id is fresh and the flavor fits on dest",
           "a live-migration is created accepted; dest holds the flavor and the picked devices",
           claims=True),
        _S("live_queue", ("migration",), LIVE_MIGRATION,
           "compute/manager.py live_migration (status queued)",
           "the live-migration is accepted and its source is up", "status queued"),
        _S("live_prepare", ("migration",), LIVE_MIGRATION,
           "compute/manager.py _do_live_migration (status preparing, pre_live_migration on dest)",
           "the live-migration is queued and source and dest are up", "status preparing"),
        _S("live_run", ("migration",), LIVE_MIGRATION,
           "compute/manager.py _do_live_migration (status running)",
           "the live-migration is preparing and its source is up", "status running"),
        _S("live_complete", ("migration",), LIVE_MIGRATION,
           "compute/manager.py _post_live_migration",
           "the live-migration is running and source and dest are up",
           "status completed; the instance is on dest with the new devices; the source frees "
           "the flavor and the old devices"),
        _S("live_abort", ("migration",), LIVE_MIGRATION,
           "compute/manager.py live_migration_abort / _rollback_live_migration",
           "the live-migration is queued, preparing or running and source and dest are up (the "
           "dest drops its claim: drop_move_claim_at_destination)",
           "status cancelled; dest frees the flavor and the devices it claimed"),
        _S("evacuate_start", ("migration", "instance", "dest"), EVACUATION,
           "compute/api.py evacuate (creates the accepted evacuation record)",
           "the instance exists with no in-progress migration, its host is down, dest is up "
           "and differs from the host, and the migration id is fresh",
           "an evacuation is created accepted (no claim yet)"),
        _S("rebuild_claim", ("migration",), EVACUATION,
           "compute/manager.py rebuild_instance -> rt.rebuild_claim",
           "the evacuation is accepted, its dest is up and the flavor fits on dest",
           "status pre-migrating; dest holds the flavor and the picked devices", claims=True),
        _S("finish_evacuation", ("migration",), EVACUATION,
           "compute/resource_tracker.py finish_evacuation (under the lock since bug 1896463)",
           "the evacuation is pre-migrating and its dest is up",
           "status done; the instance is on dest with the new devices; the source (down) keeps "
           "its hold until it comes back"),
        _S("fail", ("migration",), None,
           "errors_out_migration / MigrationTask.rollback / _rollback_live_migration",
           "the migration is in progress (not terminal)",
           "the move is rolled back to the host the instance is on now and the other side's "
           "hold is released; status error (failed for a live-migration)"),
        _S("host_down", ("host",), None, "nova-compute stops (service down)",
           "the host is up", "the host is down; nothing it holds changes"),
        _S("host_up", ("host",), None,
           "nova-compute starts: init_host _destroy_evacuated_instances + update_available_resource",
           "the host is down",
           "the host is up; evacuations away from it that are done become completed and free "
           "its hold; evacuations away from it that have not finished are rolled back (error)"),
        _S("audit", ("host",), None,
           "compute/resource_tracker.py update_available_resource",
           "the host is up",
           "the host's usage is recomputed from the instances on it and the in-progress "
           "migrations touching it"),
    ]
}

#: Steps that create a migration record (their migration parameter must be fresh).
CREATING_STEPS = frozenset({"resize_claim", "live_claim", "evacuate_start"})


def make_step(kind: str, **params: Any) -> Step:
    """Build a step, checking the parameter names against :data:`STEPS`."""
    sd = STEPS.get(kind)
    if sd is None:
        raise InputError(f"unknown step {kind!r}; the steps are: {', '.join(STEPS)}")
    missing = [p for p in sd.params if params.get(p) is None]
    extra = [p for p in params if p not in sd.params]
    if missing:
        raise InputError(f"step {kind!r} needs {', '.join(missing)}")
    if extra:
        raise InputError(f"step {kind!r} takes no {', '.join(extra)}")
    for p, v in params.items():
        if not isinstance(v, str):
            raise InputError(f"step {kind!r}: {p} must be a string name, not {v!r}")
    return Step(kind, **params)


def step_from_json(d: Any) -> Step:
    """Parse the JSON form ``{"step": kind, param: value, ...}`` of a step."""
    if not isinstance(d, dict) or "step" not in d:
        raise InputError('a step must be an object with a "step" field naming the step')
    params = {k: v for k, v in d.items() if k != "step"}
    if not isinstance(d["step"], str):
        raise InputError('a step\'s "step" field must be a step name')
    return make_step(d["step"], **params)
