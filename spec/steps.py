"""The spec's steps: each step's whole definition, in one place (docs/spec.md, "Steps").

Each step below is one class used as a namespace: its Nova function, its
parameters, in domain words when it is enabled and what it does, and the rule
itself — ``when`` (the guard) and ``then`` (the effect), plus ``claim`` for a
step that picks devices.  The rule is written ONCE, as Python over the
operations of :mod:`movecheck.spec.interpret.terms`, and read twice: with
plain values by :mod:`movecheck.spec.interpret.concrete` (explore,
conformance) and with Z3 terms by :mod:`movecheck.spec.interpret.z3` (prove,
bmc).  docs/one-spec.md explains the mechanism; docs/spec.md lists the steps
(generated from this table).

How a rule reads:

- ``when(x, s, sl, p)`` yields the guard's conjuncts, each
  ``(reason code, condition, *message arguments)``, in the order a person
  checks them.  The concrete reading stops at the first false one and
  reports its reason (:data:`REASONS`); the Z3 reading conjoins them all.
- ``then(x, s, sl, p, picks)`` returns the acting slot's new value and the
  usage it charges or frees, ``[(condition, host, flavor, +1 | -1)]``.
- A move step Nova schedules after its migration record exists (``resize_claim``,
  ``live_claim``, ``rebuild_claim``) splits its guard: ``when`` is what Nova's API
  checks (refused: nothing is written), ``schedule`` what the scheduler and the
  destination check after the record was written; ``refused(x, s, sl, p)`` is what
  a refusal there leaves (the record ``error``).  The step is rejected either way;
  only the state after it differs (docs/spec.md, "Refused claims").
- ``s`` is the state, ``sl`` the acting slot (:class:`~movecheck.spec.state.Slot`:
  the instance and its latest migration record; ``m*`` fields are the
  migration's), ``p`` the step's parameters, ``x`` the reading (lookups such
  as ``x.up(s, host)`` and ``x.fvec(flavor)``, the cloud's numbers).
- ``acts`` says which slot acts: the instance named by the step, the one
  whose latest migration the step names, or none (a host step, whose rule
  takes ``(x, s, p)`` and returns the new state).

Rules branch with :func:`ite`, ``AND``/``OR``/``NOT``, never with ``if`` on a
state value (a Z3 term has no truth value).  Step parameters are names in
the concrete reading and indices or free terms in the Z3 one: compare them
with ``EQ``/``NE``, look them up through ``x``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from movecheck.spec.errors import InputError
from movecheck.spec.interpret.terms import AND, EQ, IN, NE, NOT, OR, Codes, ite, sel
from movecheck.spec.state import ST, STATUSES, TY, VM_ACT, VM_DEL, VM_ERR, VM_NONE, VM_RSZ
from movecheck.spec.statuses import (
    DEST_CLAIMED,
    FAILURE_STATUS,
    FAILURE_STATUS_BEFORE_CLAIM,
    FINISHED,
    LANDED,
    NEW,
    STATUS_MACHINES,
)
from movecheck.spec.vocab import (
    EVACUATION,
    LIVE_MIGRATION,
    MIGRATION,
    MIGRATION_TYPES,
    RESIZE,
    RESOURCE_CLASSES,
    Step,
)

# --------------------------------------------------------------------------- status codes


def _codes(table: dict[str, Any]) -> Codes:
    return Codes(((TY[t], ST[s]) for t, ss in table.items() for s in ss), len(STATUSES))


_IN_PROGRESS = Codes(((TY[t], ST[s]) for t, g in STATUS_MACHINES.items() for s in g.nodes
                      if s != NEW and s not in FINISHED[t]), len(STATUSES))
_LANDED = _codes(LANDED)
_DEST_CLAIMED = _codes(DEST_CLAIMED)
_FAILURE_BEFORE = [ST[FAILURE_STATUS_BEFORE_CLAIM[t]] for t in MIGRATION_TYPES]
_FAILURE_AFTER = [ST[FAILURE_STATUS[t]] for t in MIGRATION_TYPES]

RZ = (RESIZE, MIGRATION)  # the two types of a resize_claim (flavor change or not)


@cache
def _st(names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(ST[n] for n in names)


@cache
def _ty(names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(TY[n] for n in names)


def status_is(sl, *statuses: str):
    """The slot's migration has one of ``statuses``."""
    return IN(sl.mst, _st(statuses))


def type_is(sl, *types: str):
    return IN(sl.mtype, _ty(types))


# --------------------------------------------------------------------------- the accounting rule
# What each host must be charged, recomputed from the records: Nova's
# update_available_resource (nova/compute/resource_tracker.py).  The conservation
# invariant and the audit step read it; docs/spec.md "The accounting rule".


_MISSING = object()


def per_slot(fn):
    """Memoise what a rule derives from one slot, in the slot's ``__dict__`` (slots are
    rebuilt, never mutated, by steps): a concrete slot shared by many states, or a Z3
    slot's term, is computed once."""
    key = "_" + fn.__name__

    def wrapper(sl):
        d = sl.__dict__
        v = d.get(key, _MISSING)
        if v is _MISSING:
            v = d[key] = fn(sl)
        return v

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@per_slot
def alive(sl):
    """The instance exists: booted and not deleted (active, resized or error)."""
    return IN(sl.vm, (VM_ACT, VM_RSZ, VM_ERR))


@per_slot
def status_in_progress(sl):
    """The slot's latest migration has an in-progress status (not a finished one)."""
    return AND(sl.mx, _IN_PROGRESS.has(sl.mtype, sl.mst))


@per_slot
def in_progress(sl):
    """The slot's latest move is in progress: its status says so, or it is an
    evacuation whose source came back before it landed (status ``completed``, the
    rebuild still to finish)."""
    return OR(status_in_progress(sl), sl.gone)


@per_slot
def landed(sl):
    """The instance has landed on the destination (the source now holds the old flavor)."""
    return _LANDED.has(sl.mtype, sl.mst)


@per_slot
def dest_claimed(sl):
    """The destination holds a claim for a move that has not landed."""
    return _DEST_CLAIMED.has(sl.mtype, sl.mst)


def charged_flavor(x, sl):
    """The flavor an instance charges its own host: between resize_migrated and
    finish_resize the MigrationContext is applied and the NEW flavor is charged
    (bug 1953359's fix)."""
    d = sl.__dict__
    v = d.get("_charged_flavor", _MISSING)
    if v is _MISSING:
        v = d["_charged_flavor"] = _charged_flavor(x, sl)
    return v


def _charged_flavor(x, sl):
    applied = AND(sl.mc, NE(sl.newf, x.NONE), sl.mx, status_is(sl, "post-migrating"))
    return ite(applied, sl.newf, sl.flavor)


@per_slot
def migration_hold(sl):
    """(condition, host, flavor) the migration itself holds, apart from the instance:
    not landed -> the new flavor on the dest (the move claim, also after an early
    return of an evacuation's source); landed -> the old flavor on the source (held
    for a revert); an evacuation that has not claimed or a finished migration holds
    nothing."""
    lnd = landed(sl)
    return (AND(in_progress(sl), OR(lnd, dest_claimed(sl), AND(sl.gone, sl.mc))),
            ite(lnd, sl.msrc, sl.mdst), ite(lnd, sl.mold, sl.mnew))


def wait_hold(sl):
    """(condition, host, flavor) an evacuated instance's dead source still holds for it,
    until that host restarts (``ComputeManager._destroy_evacuated_instances``)."""
    return (sl.wx, sl.wsrc, sl.wflv)


@per_slot
def instance_charged(sl):
    """The instance charges its own host: it exists and its host has not dropped it."""
    return AND(alive(sl), NOT(sl.gone))


def charges(x, sl) -> list:
    """Everything one slot charges: [(condition, host, flavor)] (memoised per slot)."""
    d = sl.__dict__
    v = d.get("_charges", _MISSING)
    if v is _MISSING:
        v = d["_charges"] = _charges(x, sl)
    return v


def _charges(x, sl) -> list:
    return [(instance_charged(sl), sl.host, charged_flavor(x, sl)), migration_hold(sl),
            wait_hold(sl)]


def instance_charges(x, sl) -> list:
    """What the instance alone charges (the audit of a tracker that skips migrations)."""
    return [(instance_charged(sl), sl.host, charged_flavor(x, sl))]


def device_holds(x, sl) -> list:
    """Every device hold of one slot, [(condition, host, devices)]: the instance's
    own devices on its host (unless that host dropped it), the migration's (the
    MigrationContext's new devices on the dest before it lands, its old devices on
    the source after), and those a source the instance waits for still holds."""
    d = sl.__dict__
    v = d.get("_device_holds", _MISSING)
    if v is _MISSING:
        v = d["_device_holds"] = _device_holds(x, sl)
    return v


def _device_holds(x, sl) -> list:
    hold, host, _ = migration_hold(sl)
    return [(instance_charged(sl), sl.host, sl.dev),
            (AND(hold, sl.mc), host, ite(landed(sl), sl.mco, sl.mcn)),
            (sl.wx, sl.wsrc, sl.wdev)]


def root_disk(x, flavor):
    """The flavor's root disk (DISK_GB; the spec's flavors have no ephemeral disk);
    0 for no flavor (a hand-built state of an instance with no boot flavor)."""
    if flavor is None:
        return 0
    return x.fvec(flavor)[_DISK]


_DISK = RESOURCE_CLASSES.index("DISK_GB")


def fits(x, s, host, flavor):
    """The claim test (``Claim._test``, Placement ``_check_capacity_exceeded``):
    usage + flavor <= capacity per resource class."""
    return x.vle(x.vadd(x.usage(s, host), x.fvec(flavor)), x.cap(host))


# --------------------------------------------------------------------------- reasons

#: Why a step is rejected: a stable code (what a conformance driver or a tracker's
#: adapter can match on) and the sentence a person reads.
REASONS: dict[str, str] = {
    "unknown_step": "unknown step {!r}",
    "bad_parameter": "{}",
    "unknown_host": "unknown host {}",
    "unknown_flavor": "unknown flavor {}",
    "unknown_instance": "unknown instance {}",
    "unknown_migration": "unknown migration {}",
    "already_booted": "instance {} was already booted",
    "no_instance": "instance {} does not exist",
    "in_progress": "instance {} already has an in-progress migration",
    "not_active": "instance {} is {:vm}, not active",
    "not_error": "instance {} is {:vm}, not error",
    "host_down": "host {} is down",
    "already_down": "host {} is already down",
    "already_up": "host {} is already up",
    "source_up": "cannot evacuate from {}: the host is up",
    "source_cleanup_pending": "instance {} still waits for {} to clean up an earlier evacuation",
    "source_cleaned": "migration {}: its source {} has already dropped the instance",
    "does_not_fit": "flavor {1} does not fit on {0}",
    "no_free_devices": "not enough free devices on {0} for flavor {1}",
    "not_fresh": "migration {} already exists",
    "migration_limit": "the cloud allows at most {} migrations",
    "same_host": "a {} must change host",
    "disk_too_small": "flavor {}'s root disk is smaller than instance {}'s image min_disk (the "
                      "root disk of flavor {}, which it was booted with)",
    "wrong_type": "migration {} is a {:type}",
    "wrong_status": "migration {} is {:status}, not {}",
}


class _Sayer(string.Formatter):
    """Formats messages; ``{:status}``, ``{:type}`` and ``{:vm}`` show a code by name."""

    NAMES = {"status": STATUSES, "type": MIGRATION_TYPES,
             "vm": {VM_NONE: "never booted", VM_ACT: "active", VM_RSZ: "resized", VM_DEL: "deleted",
                    VM_ERR: "error"}}

    def format_field(self, value, format_spec):
        table = self.NAMES.get(format_spec)
        if table is not None:
            return str(table[value]) if type(value) is int else str(value)
        return super().format_field(value, format_spec)


#: say(template, *args): a rule's message in words (only called for a false conjunct).
say = _Sayer().format


# --------------------------------------------------------------------------- phrases shared by steps


def claim_fits(x, s, host, flavor):
    """The claim on ``host`` of ``flavor`` fits: capacity, then free devices."""
    yield "does_not_fit", fits(x, s, host, flavor), host, flavor
    yield "no_free_devices", x.free_count(s, host) >= x.fdev(flavor), host, flavor


def movable(x, s, sl, p, need_host_up: bool = True, dest_up: bool = True):
    """A new move of the instance may start: it exists with no move in progress, its
    host (unless evacuating) and the dest (unless the scheduler checks it) are up,
    the migration id is fresh."""
    yield "no_instance", alive(sl), p.instance
    yield "in_progress", AND(NOT(in_progress(sl)), EQ(sl.older, 0)), p.instance
    if need_host_up:
        yield "host_down", x.up(s, sl.host), sl.host
    if dest_up:
        yield "host_down", x.up(s, p.dest), p.dest
    yield "not_fresh", x.fresh(s, p.migration), p.migration
    yield "migration_limit", x.nmig(s) < x.max_migrations, x.max_migrations


def schedulable(x, s, host, flavor):
    """The scheduler and the destination take the move: ``host`` is up (Nova's
    ComputeFilter, ``ComputeTaskManager._live_migrate``'s ``_check_host_is_up``)
    and the claim of ``flavor`` fits there."""
    yield "host_down", x.up(s, host), host
    yield from claim_fits(x, s, host, flavor)


def refuse(x, sl, p, mtype, new_flavor):
    """A move the scheduler or the destination refused: the record the conductor
    wrote before scheduling ends ``error`` (``MigrationTask.rollback``,
    ``ComputeTaskManager._live_migrate``); usage, devices and the vm_state are
    unchanged, the migration id is used up."""
    return create(x, sl, p, mtype, sl.flavor, new_flavor, "error"), ()


def status_guard(x, s, sl, types, statuses, up=()):
    """The named migration is of one of ``types``, in one of ``statuses``, and the
    hosts on its ``up`` sides ("msrc", "mdst") are up."""
    yield "wrong_type", type_is(sl, *types), sl.mid, sl.mtype
    yield "wrong_status", status_is(sl, *statuses), sl.mid, sl.mst, \
        " or ".join(statuses)
    for side in up:
        yield "host_down", x.up(s, getattr(sl, side)), getattr(sl, side)


def create(x, sl, p, mtype, old, new, status: str):
    """A new migration record becomes the slot's latest (the previous one, terminal,
    is retired; ``older`` counts retired records still in progress)."""
    return sl._replace(mx=True, mid=p.migration, mtype=mtype, mst=ST[status], msrc=sl.host,
                       mdst=p.dest, mold=old, mnew=new, older=sl.older + ite(in_progress(sl), 1, 0))


def claim_move(x, sl, picks):
    """A MoveClaim: the MigrationContext records the old devices and the picked new ones."""
    return sl._replace(mc=True, mco=sl.dev, mcn=picks)


def land(sl):
    """The instance lands on the dest with the MigrationContext's new devices."""
    return sl._replace(host=sl.mdst, dev=sl.mcn)


def end_move(x, sl, status: str):
    """Release the migration's own hold, drop the context, set the final status."""
    hold, host, flavor = migration_hold(sl)
    new = sl._replace(oldf=x.NONE, newf=x.NONE, mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES,
                      vm=VM_ACT, mst=ST[status], gone=False)
    return new, [(hold, host, flavor, -1)]


def fail_effect(x, sl):
    """Roll the move back to where the instance is now; release the other side's hold;
    the status is the type's failure status before or after the destination's claim
    (error; failed for a live migration or an evacuation past ``accepted``)."""
    hold, host, flavor = migration_hold(sl)
    before_claim = status_is(sl, "accepted")
    # _error_out_instance_on_exception: a resize or cold migration, or an evacuation
    # past its claim, leaves the instance in ERROR, and so does the conductor's
    # NoValidHost for an evacuation before it (ComputeTaskManager.rebuild_instance);
    # a live migration's rollback keeps the vm_state (resized is left for active).
    error_out = type_is(sl, *RZ, EVACUATION)
    vm = ite(error_out, VM_ERR, ite(EQ(sl.vm, VM_RSZ), VM_ACT, sl.vm))
    new = sl._replace(vm=vm, flavor=ite(landed(sl), sl.mnew, sl.flavor), oldf=x.NONE,
                      newf=x.NONE, mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES,
                      mst=ite(before_claim, sel(_FAILURE_BEFORE, sl.mtype),
                              sel(_FAILURE_AFTER, sl.mtype)))
    return new, [(hold, host, flavor, -1)]


def no_wait(x, sl):
    """The slot no longer waits for a source's clean-up."""
    return sl._replace(wx=False, wsrc=x.NO_HOST, wflv=x.NONE, wdev=x.NO_DEVICES)


def set_status(sl, status: str):
    return sl._replace(mst=ST[status]), ()


# --------------------------------------------------------------------------- the step table


@dataclass(frozen=True)
class StepDef:
    name: str
    params: tuple[str, ...]
    move: str | None  # migration type family the step belongs to, or None
    nova: str  # the Nova function(s) it stands for
    guard: str  # enabled when ... (domain words)
    effect: str  # what it does (domain words)
    acts: str  # "instance" | "migration" | "host": which slot acts
    when: Any = field(repr=False, compare=False, default=None)  # the guard's conjuncts
    then: Any = field(repr=False, compare=False, default=None)  # the effect
    claim: Any = field(repr=False, compare=False, default=None)  # (host, flavor) it claims on
    creates: bool = False  # creates a migration record (its id must be fresh)
    schedule: Any = field(repr=False, compare=False, default=None)  # the scheduler's conjuncts
    refused: Any = field(repr=False, compare=False, default=None)  # what a refusal there leaves

    @property
    def claims(self) -> bool:
        """Picks devices on a host (the outcome reports them)."""
        return self.claim is not None

    def conjuncts(self, x, s, sl, p):
        """The whole guard: what the API checks, then what the scheduler checks."""
        yield from self.when(x, s, sl, p)
        if self.schedule is not None:
            yield from self.schedule(x, s, sl, p)


#: Every step of the spec, in the order docs and reports list them.
STEPS: dict[str, StepDef] = {}


def step(cls) -> StepDef:
    """Register the step described by the class body (a namespace, never instantiated)."""
    d = cls.__dict__
    sd = StepDef(cls.__name__, d["params"], d.get("move"), d["nova"], d["guard"], d["effect"],
                 d["acts"], d["when"], d["then"], d.get("claim"), d.get("creates", False),
                 d.get("schedule"), d.get("refused"))
    assert (sd.schedule is None) == (sd.refused is None), sd.name
    STEPS[sd.name] = sd
    return sd


# ---- boot / delete


@step
class boot:
    params = ("instance", "host", "flavor")
    acts = "instance"
    nova = "compute/manager.py _build_and_run_instance -> rt.instance_claim"
    guard = "the instance was never booted, the host is up and the flavor (and its devices) fits"
    effect = ("the instance is active on the host with the flavor; the host's usage grows by the "
              "flavor and the picked devices are held")

    def when(x, s, sl, p):
        yield "already_booted", EQ(sl.vm, VM_NONE), p.instance
        yield "host_down", x.up(s, p.host), p.host
        yield from claim_fits(x, s, p.host, p.flavor)

    def claim(x, s, sl, p):
        return p.host, p.flavor

    def then(x, s, sl, p, picks):
        new = sl._replace(vm=VM_ACT, host=p.host, flavor=p.flavor, oldf=x.NONE, newf=x.NONE,
                          dev=picks, mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES, bootf=p.flavor)
        return new, [(True, p.host, p.flavor, +1)]


@step
class delete:
    params = ("instance",)
    acts = "instance"
    nova = ("compute/api.py API._delete (local delete when the host is down); a RESIZED "
            "instance's resize is confirmed first: API._confirm_resize_on_deleting")
    guard = "the instance exists (not deleted)"
    effect = ("the instance is deleted and frees everything it holds; a resize or cold migration "
              "that is finished or confirming is confirmed (the source frees the old flavor); any "
              "other in-progress migration of it fails (error, or failed for a live migration) "
              "and frees its holds too")

    def when(x, s, sl, p):
        yield "no_instance", alive(sl), p.instance

    def then(x, s, sl, p, picks):
        moving = status_in_progress(sl)
        resized = AND(moving, type_is(sl, *RZ), status_is(sl, "finished", "confirming"))
        failed, _ = fail_effect(x, sl)
        confirmed, _ = end_move(x, sl, "confirmed")
        # Everything the slot charges is freed (the instance's Placement allocation
        # is deleted, a waiting source's share included); only the status differs.
        cur = ite(moving, ite(resized, confirmed, failed), sl)
        new = no_wait(x, cur._replace(vm=VM_DEL, dev=x.NO_DEVICES, oldf=x.NONE, newf=x.NONE,
                                      mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES, gone=False,
                                      bootf=x.NONE))
        return new, [(c, h, f, -1) for c, h, f in charges(x, sl)]


@step
class reset_state:
    params = ("instance",)
    acts = "instance"
    nova = ("api/openstack/compute/admin_actions.py AdminActionsController._reset_state "
            "(os-resetState, state active)")
    guard = "the instance is in vm_state error"
    effect = "vm_state active (an admin's reset-state); nothing it holds changes"

    def when(x, s, sl, p):
        yield "not_error", EQ(sl.vm, VM_ERR), p.instance, sl.vm

    def then(x, s, sl, p, picks):
        return sl._replace(vm=VM_ACT), ()


# ---- resize / cold migrate


@step
class resize_claim:
    params = ("migration", "instance", "dest", "flavor")
    move = RESIZE
    acts = "instance"
    creates = True
    nova = ("conductor/tasks/migrate.py MigrationTask (the record, then scheduling) + "
            "compute/manager.py _prep_resize -> rt.resize_claim")
    guard = ("the instance is active with no in-progress migration, its host is up, the "
             "migration id is fresh, dest != host or the flavor changes (same-host resize), and "
             "the new flavor's root disk is at least that of the flavor the instance was booted "
             "with (its image min_disk); then the scheduler: dest is up and the new flavor fits "
             "on dest on top of what dest holds")
    effect = ("a migration (type resize if the flavor changes, else migration) is created "
              "pre-migrating; dest holds the new flavor and the picked devices; the "
              "MigrationContext records the old and new devices.  Refused by the scheduler "
              "(dest down, does not fit): the step is rejected and its migration is created "
              "error, nothing else changes")

    def when(x, s, sl, p):
        yield from movable(x, s, sl, p, dest_up=False)
        yield "not_active", EQ(sl.vm, VM_ACT), p.instance, sl.vm
        # API.resize: CannotResizeToSameFlavor, CannotMigrateToSameHost (no record).
        yield "same_host", NOT(AND(EQ(p.dest, sl.host), EQ(p.flavor, sl.flavor))), "cold migration"
        # API._validate_flavor_image_nostatus: FlavorDiskSmallerThanMinDisk, a 400.  The
        # image's min_disk was raised to the boot flavor's root disk at boot
        # (nova/utils.py get_system_metadata_from_image): no resize below it.
        yield "disk_too_small", root_disk(x, p.flavor) >= root_disk(x, sl.bootf), p.flavor, \
            p.instance, sl.bootf

    def schedule(x, s, sl, p):
        yield from schedulable(x, s, p.dest, p.flavor)

    def claim(x, s, sl, p):
        return p.dest, p.flavor

    def then(x, s, sl, p, picks):
        new = create(x, sl, p, _resize_type(sl, p), sl.flavor, p.flavor, "pre-migrating")
        new = claim_move(x, new._replace(oldf=sl.flavor, newf=p.flavor), picks)
        # The MoveClaim charges dest the new flavor (same host: on top of the old one).
        return new, [(True, p.dest, p.flavor, +1)]

    def refused(x, s, sl, p):
        # MigrationTask._preallocate_migration wrote it pre-migrating; NoValidHost ->
        # MigrationTask.rollback sets error (Nova's test_resize_not_enough_resource).
        return refuse(x, sl, p, _resize_type(sl, p), p.flavor)


def _resize_type(sl, p):
    """determine_migration_type: resize iff the flavor changes, else migration."""
    return ite(NE(p.flavor, sl.flavor), TY[RESIZE], TY[MIGRATION])


@step
class resize_migrate:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/manager.py _resize_instance (status migrating)"
    guard = "the migration is pre-migrating and its source is up"
    effect = "status migrating"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("pre-migrating",), ("msrc",))

    def then(x, s, sl, p, picks):
        return set_status(sl, "migrating")


@step
class resize_migrated:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/manager.py _resize_instance (status post-migrating, instance.host := dest)"
    guard = "the migration is migrating and its source is up"
    effect = ("status post-migrating; the instance lands on dest (host := dest, holds the new "
              "devices); the source now holds the old flavor for the migration")

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("migrating",), ("msrc",))

    def then(x, s, sl, p, picks):
        return land(sl._replace(mst=ST["post-migrating"])), ()


@step
class finish_resize:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/manager.py _finish_resize"
    guard = "the migration is post-migrating and its dest is up"
    effect = "status finished; instance.flavor := new flavor; vm_state resized"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("post-migrating",), ("mdst",))

    def then(x, s, sl, p, picks):
        return sl._replace(mst=ST["finished"], flavor=sl.mnew, vm=VM_RSZ), ()


@step
class confirm:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/api.py confirm_resize (status confirming)"
    guard = "the migration is finished"
    effect = "status confirming"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("finished",))

    def then(x, s, sl, p, picks):
        return set_status(sl, "confirming")


@step
class confirm_finish:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/manager.py confirm_resize -> rt.drop_move_claim_at_source"
    guard = "the migration is confirming and its source is up"
    effect = ("status confirmed; the source frees the old flavor and old devices; the instance "
              "drops old/new flavor and its MigrationContext; vm_state active")

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("confirming",), ("msrc",))

    def then(x, s, sl, p, picks):
        return end_move(x, sl, "confirmed")


@step
class revert:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/api.py revert_resize (status reverting)"
    guard = "the migration is finished"
    effect = "status reverting"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("finished",))

    def then(x, s, sl, p, picks):
        return set_status(sl, "reverting")


@step
class revert_finish:
    params = ("migration",)
    move = RESIZE
    acts = "migration"
    nova = "compute/manager.py revert_resize -> rt.drop_move_claim_at_dest + finish_revert_resize"
    guard = "the migration is reverting and source and dest are up"
    effect = ("status reverted; dest frees the new flavor and new devices; the instance is back on "
              "the source with the old flavor and old devices; vm_state active")

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, RZ, ("reverting",), ("mdst", "msrc"))

    def then(x, s, sl, p, picks):
        # Dest frees the new flavor the instance held there; the source's hold for
        # the migration becomes the instance's own (no usage change there).
        new = sl._replace(host=sl.msrc, flavor=sl.mold, oldf=x.NONE, newf=x.NONE, dev=sl.mco,
                          mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES, vm=VM_ACT,
                          mst=ST["reverted"])
        return new, [(True, sl.mdst, sl.mnew, -1)]


# ---- live migrate


@step
class live_claim:
    params = ("migration", "instance", "dest")
    move = LIVE_MIGRATION
    acts = "instance"
    creates = True
    nova = ("conductor/manager.py ComputeTaskManager._live_migrate (the record) + "
            "conductor/tasks/live_migrate.py -> rt.live_migration_claim")
    guard = ("the instance is active with no in-progress migration, its host is up and the "
             "migration id is fresh; then the conductor: dest != host, dest is up and the "
             "flavor fits on dest")
    effect = ("a live-migration is created accepted; dest holds the flavor and the picked "
              "devices.  Refused by the conductor (dest is the host, dest down, does not fit): "
              "the step is rejected and its live-migration is created error, nothing else "
              "changes")

    def when(x, s, sl, p):
        yield from movable(x, s, sl, p, dest_up=False)
        yield "not_active", EQ(sl.vm, VM_ACT), p.instance, sl.vm

    def schedule(x, s, sl, p):
        # LiveMigrationTask._check_destination_is_not_source (UnableToMigrateToSelf),
        # _check_host_is_up, then the scheduler and the destination's claim.
        yield "same_host", NE(p.dest, sl.host), "live migration"
        yield from schedulable(x, s, p.dest, sl.flavor)

    def claim(x, s, sl, p):
        return p.dest, sl.flavor

    def then(x, s, sl, p, picks):
        new = create(x, sl, p, TY[LIVE_MIGRATION], sl.flavor, sl.flavor, "accepted")
        return claim_move(x, new, picks), [(True, p.dest, sl.flavor, +1)]

    def refused(x, s, sl, p):
        # _live_migrate: the prechecks' exceptions set the record error and keep
        # the vm_state (_set_vm_state with instance.vm_state).
        return refuse(x, sl, p, TY[LIVE_MIGRATION], sl.flavor)


@step
class live_queue:
    params = ("migration",)
    move = LIVE_MIGRATION
    acts = "migration"
    nova = "compute/manager.py live_migration (status queued)"
    guard = "the live-migration is accepted and its source is up"
    effect = "status queued"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, (LIVE_MIGRATION,), ("accepted",), ("msrc",))

    def then(x, s, sl, p, picks):
        return set_status(sl, "queued")


@step
class live_prepare:
    params = ("migration",)
    move = LIVE_MIGRATION
    acts = "migration"
    nova = "compute/manager.py _do_live_migration (status preparing, pre_live_migration on dest)"
    guard = "the live-migration is queued and source and dest are up"
    effect = "status preparing"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, (LIVE_MIGRATION,), ("queued",), ("msrc", "mdst"))

    def then(x, s, sl, p, picks):
        return set_status(sl, "preparing")


@step
class live_run:
    params = ("migration",)
    move = LIVE_MIGRATION
    acts = "migration"
    nova = "compute/manager.py _do_live_migration (status running)"
    guard = "the live-migration is preparing and its source is up"
    effect = "status running"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, (LIVE_MIGRATION,), ("preparing",), ("msrc",))

    def then(x, s, sl, p, picks):
        return set_status(sl, "running")


@step
class live_complete:
    params = ("migration",)
    move = LIVE_MIGRATION
    acts = "migration"
    nova = "compute/manager.py _post_live_migration"
    guard = "the live-migration is running and source and dest are up"
    effect = ("status completed; the instance is on dest with the new devices; the source frees "
              "the flavor and the old devices")

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, (LIVE_MIGRATION,), ("running",), ("msrc", "mdst"))

    def then(x, s, sl, p, picks):
        # The instance takes over the dest claim; the source frees the flavor.
        new = land(sl)._replace(mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES, mst=ST["completed"])
        return new, [(True, sl.msrc, sl.mold, -1)]


@step
class live_abort:
    params = ("migration",)
    move = LIVE_MIGRATION
    acts = "migration"
    nova = "compute/manager.py live_migration_abort / _rollback_live_migration"
    guard = ("the live-migration is queued, preparing or running and source and dest are up (the "
             "dest drops its claim: drop_move_claim_at_destination)")
    effect = "status cancelled; dest frees the flavor and the devices it claimed"

    def when(x, s, sl, p):
        yield from status_guard(x, s, sl, (LIVE_MIGRATION,), ("queued", "preparing", "running"),
                                ("msrc", "mdst"))

    def then(x, s, sl, p, picks):
        return end_move(x, sl, "cancelled")


# ---- evacuate


@step
class evacuate_start:
    params = ("migration", "instance", "dest")
    move = EVACUATION
    acts = "instance"
    creates = True
    nova = "compute/api.py evacuate (creates the accepted evacuation record)"
    guard = ("the instance exists with no in-progress migration, its host is down, dest is up "
             "and differs from the host, the migration id is fresh, and it does not wait for "
             "the clean-up of an earlier evacuation's source (the spec keeps one such wait per "
             "instance)")
    effect = "an evacuation is created accepted (no claim yet)"

    def when(x, s, sl, p):
        yield from movable(x, s, sl, p, need_host_up=False)
        yield "source_up", NOT(x.up(s, sl.host)), sl.host
        yield "same_host", NE(p.dest, sl.host), "evacuation"
        yield "source_cleanup_pending", NOT(sl.wx), p.instance, sl.wsrc

    def then(x, s, sl, p, picks):
        return create(x, sl, p, TY[EVACUATION], sl.flavor, sl.flavor, "accepted"), ()


@step
class rebuild_claim:
    params = ("migration",)
    move = EVACUATION
    acts = "migration"
    nova = ("conductor/manager.py ComputeTaskManager.rebuild_instance (scheduling) + "
            "compute/manager.py rebuild_instance -> rt.rebuild_claim "
            "(ResourceTracker._claim_existing_migration)")
    guard = ("the evacuation is accepted (or completed by its source's early restart before "
             "the claim: the destination is not told) and its dest is up; then the "
             "scheduler: the flavor fits on dest")
    effect = ("status pre-migrating; dest holds the flavor and the picked devices.  Refused "
              "by the scheduler: the step is rejected, the evacuation ends error and the "
              "instance is in vm_state error (an evacuation its source completed already is "
              "left as it is)")

    def when(x, s, sl, p):
        yield "wrong_type", type_is(sl, EVACUATION), sl.mid, sl.mtype
        yield "wrong_status", OR(status_is(sl, "accepted"),
                                 AND(status_is(sl, "completed"), sl.gone, NOT(sl.mc))), \
            sl.mid, sl.mst, "accepted"
        yield "host_down", x.up(s, sl.mdst), sl.mdst

    def schedule(x, s, sl, p):
        yield from claim_fits(x, s, sl.mdst, sl.mnew)

    def claim(x, s, sl, p):
        return sl.mdst, sl.mnew

    def then(x, s, sl, p, picks):
        new = claim_move(x, sl._replace(mst=ST["pre-migrating"]), picks)
        return new, [(True, sl.mdst, sl.mnew, +1)]

    def refused(x, s, sl, p):
        # ComputeTaskManager.rebuild_instance: NoValidHost writes error on the
        # ``accepted`` record it looked up and sets the instance ERROR.  A record the
        # source's restart wrote ``completed`` is not found (docs/nova.md finding 4:
        # Nova leaves that instance uncharged; the spec refuses without a change).
        errored = sl._replace(mst=ST["error"], vm=VM_ERR)
        return ite(sl.gone, sl, errored), ()


@step
class finish_evacuation:
    params = ("migration",)
    move = EVACUATION
    acts = "migration"
    nova = "compute/resource_tracker.py finish_evacuation (under the lock since bug 1896463)"
    guard = ("the evacuation is pre-migrating (or completed by its source's early restart "
             "after the claim) and its dest is up")
    effect = ("status done (finished); the instance is active on dest with the new devices and "
              "drops its MigrationContext; unless the source came back already, the instance now "
              "waits for the source's clean-up: the source (down) keeps the old flavor and "
              "devices until it comes back")

    def when(x, s, sl, p):
        yield "wrong_type", type_is(sl, EVACUATION), sl.mid, sl.mtype
        yield "wrong_status", OR(status_is(sl, "pre-migrating"),
                                 AND(status_is(sl, "completed"), sl.gone, sl.mc)), \
            sl.mid, sl.mst, "pre-migrating"
        yield "host_down", x.up(s, sl.mdst), sl.mdst

    def then(x, s, sl, p, picks):
        wait = NOT(sl.gone)
        new = land(sl)._replace(
            vm=VM_ACT, mst=ST["done"], mc=False, mco=x.NO_DEVICES, mcn=x.NO_DEVICES, gone=False, wx=wait,
            wsrc=ite(wait, sl.msrc, x.NO_HOST), wflv=ite(wait, sl.mold, x.NONE),
            wdev=ite(wait, sl.mco, x.NO_DEVICES))
        return new, ()


# ---- failure


@step
class fail:
    params = ("migration",)
    acts = "migration"
    nova = ("compute/manager.py errors_out_migration, _rollback_live_migration, "
            "rebuild_instance; conductor/tasks/migrate.py MigrationTask.rollback; "
            "conductor/manager.py ComputeTaskManager._live_migrate, rebuild_instance")
    guard = ("the migration is in progress (its status is not a finished one), and it is not "
             "an evacuation whose source has dropped the instance already (the spec lets that "
             "rebuild finish)")
    effect = ("the move is rolled back to the host the instance is on now and the other side's "
              "hold is released; status error (a resize or cold migration; a live migration or "
              "an evacuation still accepted, before its destination's claim), failed (a live "
              "migration or an evacuation after the claim); a resize, cold migration or "
              "evacuation leaves the instance in vm_state error")

    def when(x, s, sl, p):
        yield "wrong_status", status_in_progress(sl), sl.mid, sl.mst, "in progress"
        yield "source_cleaned", NOT(sl.gone), sl.mid, sl.msrc

    def then(x, s, sl, p, picks):
        return fail_effect(x, sl)


# ---- hosts


@step
class host_down:
    params = ("host",)
    acts = "host"
    nova = "nova-compute stops (service down)"
    guard = "the host is up"
    effect = "the host is down; nothing it holds changes"

    def when(x, s, p):
        yield "already_down", x.up(s, p.host), p.host

    def then(x, s, p, picks):
        return x.set_up(s, p.host, False)


@step
class host_up:
    params = ("host",)
    acts = "host"
    nova = ("nova-compute starts: init_host -> ComputeManager._destroy_evacuated_instances "
            "+ update_available_resource")
    guard = "the host is down"
    effect = ("the host is up; it drops every instance evacuated away from it: the shares it "
              "still holds for evacuated instances are freed (their wait ends), and the latest "
              "evacuation of a living instance from it that is accepted, pre-migrating or done "
              "becomes completed; one that had not landed frees the instance's charge on this "
              "host, while its destination keeps its claim and carries on")

    def when(x, s, p):
        yield "already_up", NOT(x.up(s, p.host)), p.host

    def then(x, s, p, picks):
        # init_host: _destroy_evacuated_instances (nova/compute/manager.py) takes the
        # evacuations from this host that are accepted, pre-migrating (bug 1764883) or
        # done, skips deleted instances, removes this host from the instance's
        # allocation and writes completed.  Each is cleaned once (``gone``).
        def waits_here(sl):
            return AND(sl.wx, EQ(sl.wsrc, p.host))

        def record_here(sl):
            return AND(sl.mx, type_is(sl, EVACUATION), EQ(sl.msrc, p.host), alive(sl),
                       NOT(sl.gone), status_is(sl, "accepted", "pre-migrating", "done"))

        def clean_up(sl):
            wait, rec = waits_here(sl), record_here(sl)
            early = AND(rec, NOT(status_is(sl, "done")))
            new = sl._replace(mst=ite(rec, ST["completed"], sl.mst), gone=OR(sl.gone, early))
            new = ite(wait, no_wait(x, new), new)
            return new, [(wait, sl.wsrc, sl.wflv, -1),
                         (early, sl.host, charged_flavor(x, sl), -1)]

        return x.each_slot(x.set_up(s, p.host, True),
                           lambda sl: OR(waits_here(sl), record_here(sl)), clean_up)


@step
class audit:
    params = ("host",)
    acts = "host"
    nova = ("compute/resource_tracker.py update_available_resource; compute/manager.py "
            "_cleanup_incomplete_migrations (a periodic of the same host)")
    guard = "the host is up"
    effect = ("the host's usage is recomputed from the instances on it and the in-progress "
              "migrations touching it; the error migration of a deleted instance that touches "
              "this host, the instance's host being another, becomes failed")

    def when(x, s, p):
        yield "host_down", x.up(s, p.host), p.host

    def then(x, s, p, picks):
        def incomplete(sl):
            return AND(EQ(sl.vm, VM_DEL), sl.mx, status_is(sl, "error"), NE(sl.host, p.host),
                       OR(EQ(sl.msrc, p.host), EQ(sl.mdst, p.host)))

        s = x.each_slot(s, incomplete, lambda sl: set_status(sl, "failed"))
        return x.with_usage(s, p.host, x.at(x.holds(s, charges), p.host))


#: Steps that create a migration record (their migration parameter must be fresh).
CREATING_STEPS = frozenset(n for n, sd in STEPS.items() if sd.creates)


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


__all__ = ["CREATING_STEPS", "REASONS", "STEPS", "StepDef", "alive", "charged_flavor", "charges",
           "device_holds", "in_progress", "instance_charged", "landed", "make_step",
           "migration_hold", "status_in_progress", "step", "step_from_json", "wait_hold"]
