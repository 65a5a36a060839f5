"""The Nova side of the ``nova`` tracker: real Nova 34 in one process, speaking JSON lines.

Run by :mod:`movecheck.conformance.adapters.nova` as ``PYTHON server.py`` under
a Python that has the ``nova`` extra installed (it imports only the standard
library and Nova, so that Nova can live in a virtual environment of its own).
It answers the jsonl protocol of :mod:`movecheck.conformance.adapters.jsonl`
(``reset`` / ``apply`` / ``observe`` / ``close``) plus ``details`` (the
ComputeNode counters, per-consumer allocations and vm_states; docs/nova.md).

What runs is Nova's own functional-test harness that ships in the nova wheel
(``nova/tests/functional/integrated_helpers.py`` ``ProviderUsageBaseTestCase``):
the real REST API, conductor, scheduler, one ``nova-compute`` service per host
with its real ``ResourceTracker``, and the real Placement, all in-process on
in-memory SQLite and the oslo.messaging fake driver, with ``nova.virt.fake``
as the hypervisor.  Every step is a REST API call, or (for the steps Nova takes
by itself) the harness's own way of doing them: ``audit`` is
``ComputeManager.update_available_resource``; ``host_down`` stops the compute
service and forces it down; ``host_up`` restarts it (``init_host``).

**Gates.**  Nova runs a move as a chain of RPC messages between services
(``prep_resize`` -> ``resize_instance`` -> ``finish_resize`` ...).  The spec's
steps are the links of that chain, so each message handler, and each
hypervisor call that sits between two status writes, is wrapped in a *gate*
that parks the greenthread carrying it (eventlet, which Nova runs on) until the
step that stands for it is applied.  A step therefore releases exactly one
parked message and waits, event-driven, until Nova parks again or finishes:
no fixed sleeps.  ``fail`` arms a fault in the next hypervisor call the move
makes and lets the move run to its end; ``delete`` and ``live_abort`` call the
API and let the move run to its end.  docs/nova.md tables the mapping.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time
import traceback
from unittest import mock


def _die_with_parent() -> None:
    """Linux: get SIGKILL when movecheck dies, even by SIGKILL (``prctl(PR_SET_PDEATHSIG)``),
    so that no Nova outlives the run.  Elsewhere EOF on stdin ends the loop."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_die_with_parent()

# Nova's harness must import before anything else creates threads: it patches
# the process with eventlet (``nova/monkey_patch.py``).  Keep the protocol on a
# private copy of stdout: Nova and its libraries may print.
_PROTOCOL_OUT = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import logging  # noqa: E402
import warnings  # noqa: E402

warnings.simplefilter("ignore")

import eventlet  # noqa: E402,F401  (imported by Nova first; here for the hub)
import eventlet.greenthread  # noqa: E402
import nova.conf as nova_conf  # noqa: E402
from eventlet import event as ev_event  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import exception as nova_exception  # noqa: E402
from nova import objects  # noqa: E402
from nova.compute import manager as compute_manager  # noqa: E402
from nova.compute import rpcapi as compute_rpcapi  # noqa: E402
from nova.conductor import manager as conductor_manager  # noqa: E402
from nova.tests.fixtures import conf as conf_fixture  # noqa: E402
from nova.tests.functional import integrated_helpers  # noqa: E402
from nova.tests.functional.api import client as api_client  # noqa: E402
from nova.virt import fake  # noqa: E402

#: The resource class that counts a host's PCI-like devices (as the placement tracker).
DEVICE_CLASS = "CUSTOM_MOVECHECK_PCI"
RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")

#: How long one step may take inside Nova before the server gives up on it (s).
STEP_DEADLINE = float(os.environ.get("MOVECHECK_NOVA_STEP_DEADLINE", "30"))

#: Poll interval while waiting for Nova to park or finish (s).  The harness
#: itself sleeps 0.5 s between polls (``integrated_helpers`` ``_wait_for_*``).
POLL = float(os.environ.get("MOVECHECK_NOVA_POLL", "0.001"))

#: Polls in a row that must find Nova settled (a cast takes a hub turn to be
#: picked up).  ``MOVECHECK_NOVA_POLL=0.5 MOVECHECK_NOVA_CALM=1`` waits the
#: way the harness does (bench/nova.py compares the two).
CALM = int(os.environ.get("MOVECHECK_NOVA_CALM", "3"))


# --------------------------------------------------------------------------- set-up caveats


def _api_paste_ini() -> str | None:
    """Where the nova wheel put ``etc/nova/api-paste.ini`` (under the environment's
    prefix, not under site-packages where ``nova/tests/fixtures/conf.py`` looks)."""
    from importlib import metadata

    for f in metadata.distribution("nova").files or ():
        if str(f).endswith("etc/nova/api-paste.ini"):
            path = str(f.locate())
            if os.path.exists(path):
                return os.path.realpath(path)
    candidate = os.path.join(sys.prefix, "etc", "nova", "api-paste.ini")
    return candidate if os.path.exists(candidate) else None


_PASTE = _api_paste_ini()
_orig_conf_setup = conf_fixture.ConfFixture.setUp


def _conf_setup(self):
    _orig_conf_setup(self)
    if _PASTE:
        self.conf.set_default("api_paste_config", _PASTE, group="wsgi")


conf_fixture.ConfFixture.setUp = _conf_setup


# --------------------------------------------------------------------------- gates


class Fault(Exception):
    """The hypervisor failure that ``fail`` injects (``nova.virt.fake`` raises it)."""


class Gates:
    """Park points in Nova's move chains, and the bookkeeping of what is in flight.

    ``active`` counts wrapped calls that are running and not parked: Nova has
    settled when it is zero (every move is parked or finished).
    """

    _generations = 0

    def __init__(self):
        # A new generation per scenario: calls of an older one (moves that
        # outlived their reset) must not count in this one.
        Gates._generations += 1
        self.generation = Gates._generations
        self.inflight: dict = {}  # greenthread -> wrapped calls it is in (nesting)
        self.parked: list[dict] = []  # {"gate", "instance", "host", "event", "fault"}
        self.free: set[str] = set()  # instances whose moves run to their end
        self.faults: set[str] = set()  # instances whose next hypervisor call fails
        self.aborts: set[str] = set()  # instances whose running live migration is aborted
        self.evacuating: set[str] = set()
        self.version = 0  # bumped on every park / unpark / entry / exit
        self.running: dict[str, int] = {}  # wrapped call name -> how many are in flight
        self.finished: dict[str, int] = {}  # wrapped call name -> how many have returned

    @property
    def active(self) -> int:
        """Greenthreads inside a wrapped call, alive and not parked.

        Counted from the greenthreads themselves rather than kept as a number:
        a greenthread that dies while parked (its service went away) must not
        count for ever.
        """
        parked = {id(p["greenlet"]) for p in self.parked}
        return sum(1 for g in self.inflight if not g.dead and id(g) not in parked)

    def parked_for(self, iid: str) -> dict | None:
        self.parked = [p for p in self.parked if not p["greenlet"].dead]
        for p in self.parked:
            if p["instance"] == iid:
                return p
        return None

    def park(self, gate: str, iid: str | None, host: str | None):
        """Block the calling greenthread until released; returns the park record."""
        if iid is None or iid in self.free or _generation() != self.generation:
            return None
        rec = {"gate": gate, "instance": iid, "host": host, "event": ev_event.Event(),
               "greenlet": eventlet.getcurrent()}
        self.parked.append(rec)
        self.version += 1
        rec["event"].wait()  # release() counted this call as running again
        return rec

    def release(self, rec: dict) -> None:
        # Counted as running from here, not from when the hub wakes it: no
        # window in which Nova looks settled but is not.
        self.parked.remove(rec)
        self.version += 1
        rec["event"].send(True)

    def fault(self, iid: str | None) -> bool:
        """True once if a fault is armed for this instance (consumed)."""
        if iid is not None and iid in self.faults:
            self.faults.discard(iid)
            return True
        return False


GATES = Gates()


def _new_gates() -> None:
    """A fresh generation of gates for the next scenario."""
    global GATES
    GATES = Gates()


def _generation() -> int:
    """The scenario the current greenthread's wrapped call belongs to."""
    return getattr(eventlet.getcurrent(), "movecheck_generation", None) or GATES.generation


def _instance_of(args, kwargs):
    inst = kwargs.get("instance")
    if inst is None:
        for a in args:
            if hasattr(a, "uuid") and hasattr(a, "vm_state"):
                inst = a
                break
    return getattr(inst, "uuid", None)


def _tracked(fn, gate: str | None = None):
    """Wrap a Nova entry point: count it in flight, and park it at ``gate`` first."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        gates = GATES
        current = eventlet.getcurrent()
        outer = getattr(current, "movecheck_generation", None)
        if outer is not None and outer != gates.generation:
            return fn(self, *args, **kwargs)  # a move that outlived its scenario
        # Set for the call and restored after it: pools reuse greenthreads.
        current.movecheck_generation = gates.generation
        gates.inflight[current] = gates.inflight.get(current, 0) + 1
        gates.version += 1
        gates.running[fn.__name__] = gates.running.get(fn.__name__, 0) + 1
        try:
            if gate is not None:
                gates.park(gate, _instance_of(args, kwargs), getattr(self, "host", None))
            return fn(self, *args, **kwargs)
        finally:
            current.movecheck_generation = outer
            if gates is GATES:  # not reset meanwhile
                left = gates.inflight.get(current, 1) - 1
                if left:
                    gates.inflight[current] = left
                else:
                    gates.inflight.pop(current, None)
                gates.version += 1
                gates.running[fn.__name__] -= 1
                gates.finished[fn.__name__] = gates.finished.get(fn.__name__, 0) + 1

    return wrapper


def _install_gates() -> None:
    """Wrap the message handlers of the move chains (``nova/compute/manager.py``)."""
    cm = compute_manager.ComputeManager
    for name, gate in [
        ("build_and_run_instance", None),
        ("_do_build_and_run_instance", None),
        ("terminate_instance", None),
        ("prep_resize", None),
        ("resize_instance", "resize_instance"),       # pre-migrating, held for resize_migrate
        ("finish_resize", "finish_resize"),           # post-migrating, held for finish_resize
        ("confirm_resize", "confirm_resize"),         # confirming, held for confirm_finish
        ("revert_resize", "revert_resize"),           # reverting, held for revert_finish
        ("finish_revert_resize", None),
        ("live_migration", "live_migration"),         # accepted, held for live_queue
        ("_do_live_migration", "do_live_migration"),  # queued, held for live_prepare
        ("live_migration_abort", None),
        ("rebuild_instance", None),
        ("pre_live_migration", None),
        ("post_live_migration_at_destination", None),
        ("rollback_live_migration_at_destination", None),
    ]:
        setattr(cm, name, _tracked(getattr(cm, name), gate))
    # preparing: held in the source, before it asks dest to prepare
    rpc = compute_rpcapi.ComputeAPI
    orig_pre = rpc.pre_live_migration

    @functools.wraps(orig_pre)
    def pre_live_migration(self, ctxt, instance, *args, **kwargs):
        GATES.park("pre_live_migration", instance.uuid, instance.host)  # on the source
        return orig_pre(self, ctxt, instance, *args, **kwargs)

    rpc.pre_live_migration = pre_live_migration
    # accepted (evacuation): held in the conductor before it schedules
    ctm = conductor_manager.ComputeTaskManager
    ctm.rebuild_instance = _tracked(ctm.rebuild_instance, "conductor_rebuild")
    ctm.live_migrate_instance = _tracked(ctm.live_migrate_instance)
    ctm.migrate_server = _tracked(ctm.migrate_server)
    ctm.schedule_and_build_instances = _tracked(ctm.schedule_and_build_instances)


class MovecheckDriver(fake.FakeDriver):
    """``nova.virt.fake.FakeDriver`` with the cloud's resources per host, gates inside
    the hypervisor calls that sit between two status writes, and injected faults.

    Also fixes the fake driver's live-migration gap: the base
    ``post_live_migration`` is a no-op, so the source keeps a ghost guest and
    a later evacuation onto that host fails with ``InstanceExists``; the guest
    is destroyed on the source as ``FakeLiveMigrateDriver`` does (without its
    sleeps).
    """

    hosts: dict = {}  # host -> {"inventory": {rc: {...}}, "devices": int}

    def init_host(self, host):
        super().init_host(host)
        spec = self.hosts.get(host)
        if spec is not None:
            inv = spec["inventory"]
            self.vcpus = inv.get("VCPU", {}).get("total", 0)
            self.memory_mb = inv.get("MEMORY_MB", {}).get("total", 0)
            self.local_gb = inv.get("DISK_GB", {}).get("total", 0)
            self.resources = fake.Resources(self.vcpus, self.memory_mb, self.local_gb)

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        """The cloud's inventory exactly (total, reserved, allocation_ratio per class).

        ``max_unit`` is the whole capacity: the spec has no per-allocation limit.
        """
        spec = self.hosts.get(self._host)
        if spec is None:
            return super().update_provider_tree(provider_tree, nodename, allocations)
        inventory = {}
        for rc, inv in spec["inventory"].items():
            if inv["total"] <= 0:
                continue
            cap = int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])
            inventory[rc] = {"total": inv["total"], "reserved": inv["reserved"],
                             "allocation_ratio": inv["allocation_ratio"], "min_unit": 1,
                             "max_unit": max(cap, inv["total"], 1), "step_size": 1}
        if spec["devices"]:
            inventory[DEVICE_CLASS] = {"total": spec["devices"], "reserved": 0,
                                       "allocation_ratio": 1.0, "min_unit": 1,
                                       "max_unit": spec["devices"], "step_size": 1}
        provider_tree.update_inventory(nodename, inventory)

    # -- resize / cold migrate
    def migrate_disk_and_power_off(self, context, instance, *args, **kwargs):
        rec = GATES.park("migrate_disk", instance.uuid, self._host)  # migrating
        if GATES.fault(instance.uuid) or (rec and rec.get("fault")):
            raise Fault("movecheck: injected failure in migrate_disk_and_power_off")
        return super().migrate_disk_and_power_off(context, instance, *args, **kwargs)

    def finish_migration(self, context, migration, instance, *args, **kwargs):
        if GATES.fault(instance.uuid):
            raise Fault("movecheck: injected failure in finish_migration")
        return super().finish_migration(context, migration, instance, *args, **kwargs)

    def confirm_migration(self, context, migration, instance, network_info):
        if GATES.fault(instance.uuid):
            raise Fault("movecheck: injected failure in confirm_migration")
        return super().confirm_migration(context, migration, instance, network_info)

    def destroy(self, context, instance, *args, **kwargs):
        if GATES.fault(instance.uuid):
            raise Fault("movecheck: injected failure in destroy")
        return super().destroy(context, instance, *args, **kwargs)

    # -- live migration
    def pre_live_migration(self, context, instance, *args, **kwargs):
        if GATES.fault(instance.uuid):
            raise Fault("movecheck: injected failure in pre_live_migration")
        return super().pre_live_migration(context, instance, *args, **kwargs)

    def live_migration(self, context, instance, dest, post_method, recover_method,
                       block_migration=False, migrate_data=None):
        """Park while running; then complete, or roll back as libvirt does on an
        abort (``migration_status='cancelled'``) or a failure (``'failed'``)."""
        rec = GATES.park("live_running", instance.uuid, self._host)
        if instance.uuid in GATES.aborts:
            GATES.aborts.discard(instance.uuid)
            recover_method(context, instance, dest, migrate_data, migration_status="cancelled")
            return
        if GATES.fault(instance.uuid) or (rec and rec.get("fault")):
            recover_method(context, instance, dest, migrate_data)
            return
        post_method(context, instance, dest, block_migration, migrate_data)

    def live_migration_abort(self, instance):
        GATES.aborts.add(instance.uuid)

    post_live_migration = fake.FakeLiveMigrateDriver.post_live_migration

    # -- evacuation (rebuild on dest)
    def spawn(self, context, instance, *args, **kwargs):
        # The rebuild's spawn (REBUILD_SPAWNING), not the one inside a resize's
        # finish_migration, nor a boot.
        if instance.uuid in GATES.evacuating and instance.task_state == "rebuild_spawning":
            rec = GATES.park("evac_spawn", instance.uuid, self._host)  # pre-migrating
            if GATES.fault(instance.uuid) or (rec and rec.get("fault")):
                raise Fault("movecheck: injected failure in spawn (rebuild)")
        return super().spawn(context, instance, *args, **kwargs)


fake.MovecheckDriver = MovecheckDriver  # compute_driver = "fake.MovecheckDriver"


# --------------------------------------------------------------------------- waiting less


class _Wakeup:
    """Event-driven delivery for the oslo.messaging fake driver.

    ``oslo_messaging/_drivers/impl_fake.py`` ``FakeListener.poll`` looks at its
    queues and, when they are empty, sleeps 50 ms before it looks again: every
    cast or call between two services waits 25 ms on average for its listener
    to wake up, and a resize is a chain of a dozen of them.  Here a listener
    with nothing to do waits on an event that ``FakeExchange.deliver_message``
    sends, still at most 50 ms (so that ``stop`` is seen as before).
    """

    event = ev_event.Event()

    @classmethod
    def notify(cls) -> None:
        old, cls.event = cls.event, ev_event.Event()
        old.send(True)

    @classmethod
    def install(cls) -> None:
        from oslo_messaging._drivers import base as om_base
        from oslo_messaging._drivers import impl_fake

        orig_deliver = impl_fake.FakeExchange.deliver_message

        @functools.wraps(orig_deliver)
        def deliver_message(self, *args, **kwargs):
            orig_deliver(self, *args, **kwargs)
            cls.notify()

        def poll(self, timeout=None):
            deadline = None if timeout is None else time.time() + timeout
            while not self._stopped.is_set():
                woken = cls.event  # taken before looking: no lost wake-up
                for target in self._targets:
                    exchange = self._exchange_manager.get_exchange(target.exchange)
                    ctxt, message, reply_q, requeue = exchange.poll(target, self._pool)
                    if message is not None:
                        return impl_fake.FakeIncomingMessage(ctxt, message, reply_q, requeue)
                pause = 0.050
                if deadline is not None:
                    pause = min(deadline - time.time(), pause)
                    if pause < 0:
                        break
                with eventlet.Timeout(pause, False):
                    woken.wait()
            return None

        impl_fake.FakeExchange.deliver_message = deliver_message
        impl_fake.FakeListener.poll = om_base.batch_poll_helper(poll)


#: Where each resize must go: server uuid -> host (``_step_resize_claim``).
TARGETS: dict[str, str] = {}

#: Servers whose next scheduling fails with NoValidHost (``fail`` before a claim).
NO_VALID_HOST: set[str] = set()


def _install_targets() -> None:
    """Schedule a resize to the spec's destination, as a cold migration with a host
    is scheduled (``nova/compute/api.py`` ``API.resize`` sets ``requested_destination``,
    and ``nova/scheduler/utils.py`` ``resources_from_request_spec`` turns it into
    Placement's ``in_tree``): the destination is the only candidate.  Nova's
    resize API takes no host (and refuses one for the source itself), and
    disabling every other compute service through the API costs a round trip
    to each of them."""
    from nova.scheduler import manager as scheduler_manager

    orig = scheduler_manager.SchedulerManager.select_destinations

    @functools.wraps(orig)
    def select_destinations(self, context, *args, **kwargs):
        spec = kwargs.get("spec_obj")
        if spec is not None and getattr(spec, "instance_uuid", None) in NO_VALID_HOST:
            raise nova_exception.NoValidHost(reason="movecheck: injected failure")
        host = TARGETS.get(getattr(spec, "instance_uuid", None)) if spec is not None else None
        if host is not None:
            spec.requested_destination = objects.Destination(host=host)
        return orig(self, context, *args, **kwargs)

    scheduler_manager.SchedulerManager.select_destinations = select_destinations


# --------------------------------------------------------------------------- the cloud


class Rejected(Exception):
    """The step is refused (by Nova's API, scheduler or compute, or by message order)."""


class _Harness(integrated_helpers.ProviderUsageBaseTestCase):
    compute_driver = "fake.MovecheckDriver"

    def runTest(self):  # unittest needs a test method; the harness is driven by hand
        pass


def _api_error(e: api_client.OpenStackApiException) -> str:
    resp = getattr(e, "response", None)
    code = getattr(resp, "status_code", "?")
    try:
        body = resp.json() if resp is not None else {}
        msg = next(iter(body.values())).get("message", "") if isinstance(body, dict) else ""
    except Exception:  # noqa: BLE001 - the message is only for the report
        msg = str(e)
    return f"Nova API {code}: {' '.join(str(msg).split())}"


class NovaCloud:
    """One scenario: the harness set up for a movecheck cloud, and the step handlers."""

    # Which services must be running to deliver a held message (the spec's
    # "source / dest is up" guards; a stopped nova-compute consumes nothing).
    SIDES = {
        "resize_instance": ("source",), "migrate_disk": ("source",),
        "finish_resize": ("dest",), "confirm_resize": ("source",),
        "revert_resize": ("dest", "source"), "live_migration": ("source",),
        "do_live_migration": ("source", "dest"), "pre_live_migration": ("source",),
        "live_running": ("source", "dest"), "conductor_rebuild": ("dest",),
        "evac_spawn": ("dest",),
    }

    #: step -> the gate it releases and the gate (or end) it waits for next.
    RELEASES = {
        "resize_migrate": ("resize_instance", "migrate_disk"),
        "resize_migrated": ("migrate_disk", "finish_resize"),
        "finish_resize": ("finish_resize", None),
        "confirm_finish": ("confirm_resize", None),
        "revert_finish": ("revert_resize", None),
        "live_queue": ("live_migration", "do_live_migration"),
        "live_prepare": ("do_live_migration", "pre_live_migration"),
        "live_run": ("pre_live_migration", "live_running"),
        "live_complete": ("live_running", None),
        "rebuild_claim": ("conductor_rebuild", "evac_spawn"),
        "finish_evacuation": ("evac_spawn", None),
    }

    def __init__(self):
        self.tc = None

    # ------------------------------------------------------------------ reset

    def reset(self, cloud: dict, known: list | None = None) -> dict:
        t0 = time.perf_counter()
        # ``allocations`` is a newer observation part: declared only when
        # movecheck says it knows it (the adapter sends what it knows).
        self.with_allocations = "allocations" in (known or ())
        self.teardown()
        hosts = cloud["hosts"]
        MovecheckDriver.hosts = {
            h["name"]: {"inventory": h["inventories"], "devices": len(h.get("devices", ()))}
            for h in hosts}
        self.devices = {h["name"]: list(h.get("devices", ())) for h in hosts}
        self.instance_ids = set(cloud.get("instances", ()))
        tc = _Harness()
        tc.setUp()
        self.tc = tc
        # reserved is the cloud's, in Placement; the ComputeNode counters count
        # instances only (so that they compare with Placement's usage).
        tc.flags(reserved_host_memory_mb=0, reserved_host_disk_mb=0, reserved_host_cpus=0,
                 allow_resize_to_same_host=True, rpc_response_timeout=3600,
                 long_rpc_timeout=3600)
        logging.getLogger().setLevel(logging.CRITICAL)
        self.ctx = nova_context.get_admin_context()
        self.api = tc.admin_api
        self.api.microversion = "2.95"
        self.computes = {}
        self.up = {}
        self.service_id = {}
        for h in hosts:
            self.computes[h["name"]] = tc._start_compute(h["name"])
            self.up[h["name"]] = True
        for s in self.api.get_services(binary="nova-compute"):
            self.service_id[s["host"]] = s["id"]
        self.rp = {h: tc._get_provider_uuid_by_host(h) for h in self.computes}
        self.flavor_id = {}
        for f in cloud["flavors"]:
            body = {"name": f["name"], "id": "mc-" + f["name"], "ram": f["memory_mb"],
                    "vcpus": f["vcpus"], "disk": f["disk_gb"]}
            fid = self.api.post_flavor({"flavor": body})["id"]
            if f.get("devices"):
                self.api.post_extra_spec(fid, {"extra_specs": {
                    f"resources:{DEVICE_CLASS}": str(f["devices"])}})
            self.flavor_id[f["name"]] = fid
        with _microversion(self.api, "2.35"):
            # An image with no minimum disk or RAM: the cloud's flavors decide.
            images = self.api.get_images()
            self.image = next((i["id"] for i in images
                               if not i.get("minDisk") and not i.get("minRam")), images[0]["id"])
        for h in hosts:
            if not h.get("up", True):
                self._host_down(h["name"])
        self.server = {}  # instance id -> server uuid
        self.iid = {}  # server uuid -> instance id
        self.migration = {}  # migration id -> nova migration uuid
        self.mig_of = {}  # migration id -> instance id
        self.holders = {h: {} for h in self.devices}  # host -> {device: instance id}
        self.reset_seconds = time.perf_counter() - t0
        caps = ["usage", "devices", "migrations", "instances"]
        if self.with_allocations:
            caps.append("allocations")
        return {"ok": True, "capabilities": caps, "unsupported_steps": []}

    def teardown(self) -> None:
        if self.tc is None:
            return
        # Let every parked move go on to its end while the services still run:
        # the harness's clean-up waits for every thread pool to drain
        # (GreenThreadPoolShutdownWait), and a move released into stopped
        # services would wait for an RPC reply for ever.
        GATES.free |= {p["instance"] for p in GATES.parked}
        for p in list(GATES.parked):
            GATES.release(p)
        try:
            self.settle(what="releasing the moves left at reset", deadline=10.0)
        except TimeoutError:
            traceback.print_exc()
        try:
            self.tc.doCleanups()
        except Exception:  # noqa: BLE001 - a dirty teardown must not stop the next scenario
            traceback.print_exc()
        self.tc = None
        _new_gates()

    # ------------------------------------------------------------------ waiting

    def settle(self, done=lambda: True, what="the step", deadline: float | None = None) -> None:
        """Wait (short polls) until ``done()`` holds and nothing in Nova is running
        unparked, three polls in a row (a cast may take a hub turn to be picked up)."""
        limit = STEP_DEADLINE if deadline is None else deadline
        deadline = time.monotonic() + limit
        calm = 0
        while True:
            v = GATES.version
            eventlet.sleep(POLL)
            if GATES.active == 0 and v == GATES.version and done():
                calm += 1
                if calm >= CALM:
                    return
            else:
                calm = 0
            if time.monotonic() > deadline:
                running = {k: v for k, v in GATES.running.items() if v}
                parked = [p["gate"] for p in GATES.parked]
                raise TimeoutError(f"Nova did not settle within {limit:g} s after {what} "
                                   f"(running: {running}; parked: {parked})")

    def _parked(self, iid: str, gate: str | None = None):
        p = GATES.parked_for(self.server.get(iid, iid))
        if p is not None and (gate is None or p["gate"] == gate):
            return p
        return None

    # ------------------------------------------------------------------ lookups

    def _server(self, iid: str) -> dict:
        sid = self.server.get(iid)
        if sid is None:
            raise Rejected(f"instance {iid} does not exist")
        try:
            return self.api.get_server(sid)
        except api_client.OpenStackApiNotFoundException:
            raise Rejected(f"instance {iid} does not exist") from None

    def _nova_migration(self, mid: str):
        uuid = self.migration.get(mid)
        if uuid is None:
            raise Rejected(f"unknown migration {mid}")
        return objects.Migration.get_by_uuid(self.ctx, uuid)

    def _check_host(self, host: str | None) -> None:
        if host is not None and host not in self.computes:
            raise Rejected(f"unknown host {host}")

    def _new_migration(self, iid: str, mid: str) -> str | None:
        sid = self.server[iid]
        known = set(self.migration.values())
        found = [m for m in objects.MigrationList.get_by_filters(self.ctx, {"instance_uuid": sid})
                 if m.uuid not in known]
        if not found:
            return None
        m = max(found, key=lambda m: m.id)
        self.migration[mid] = m.uuid
        self.mig_of[mid] = iid
        return m.uuid

    def _errored(self, iid: str) -> bool:
        try:
            return objects.Instance.get_by_uuid(self.ctx, self.server[iid]).vm_state == "error"
        except nova_exception.InstanceNotFound:
            return False

    def _task_done(self, iid: str) -> bool:
        try:
            inst = objects.Instance.get_by_uuid(self.ctx, self.server[iid])
        except nova_exception.InstanceNotFound:
            return True
        return inst.task_state is None

    # ------------------------------------------------------------------ steps

    def apply(self, step: dict) -> dict:
        kind = step.get("step")
        handler = getattr(self, "_step_" + str(kind), None)
        before = self._device_snapshot()
        try:
            if handler is None:
                if kind in self.RELEASES:
                    self._release_step(step)
                else:
                    raise Rejected(f"unknown step {kind!r}")
            else:
                handler(step)
        except Rejected as e:
            self._relabel_devices()
            return {"result": "rejected", "reason": str(e)}
        picks = self._relabel_devices(before, step)
        out = {"result": "accepted"}
        if picks:
            out["devices"] = picks
        return out

    def _sides_up(self, gate: str, mid: str) -> None:
        m = self._nova_migration(mid)
        for side in self.SIDES.get(gate, ()):
            host = m.source_compute if side == "source" else m.dest_compute
            if not self.up.get(host, False):
                raise Rejected(f"nova-compute on {host} is stopped: the message waits")

    def _release_step(self, step: dict) -> None:
        kind, mid = step["step"], step.get("migration")
        gate, _next = self.RELEASES[kind]
        m = self._nova_migration(mid)
        iid = self.mig_of[mid]
        p = self._parked(iid, gate)
        if p is None:
            raise Rejected(f"migration {mid} is {m.status}: Nova holds no {gate} message for it")
        self._sides_up(gate, mid)
        GATES.release(p)
        self.settle(lambda: self._parked(iid) is not None or self._task_done(iid), kind)
        status = objects.Migration.get_by_uuid(self.ctx, m.uuid).status
        if _next is not None and self._parked(iid) is None and (
                status in ("error", "failed") or self._errored(iid)):
            # (An evacuation whose source came back early is ``completed``
            # already: the conductor finds no ``accepted`` record to write
            # ``error`` on, and only the instance's ERROR tells.)
            # The message was delivered and Nova refused to go on (a claim that
            # does not fit: NoValidHost, ComputeResourcesUnavailable).
            fault = (self.api.get_server(self.server[iid]).get("fault") or {}).get("message", "")
            raise Rejected(f"Nova ended the move (migration {status}) {fault}".strip())

    def _step_boot(self, step: dict) -> None:
        iid, host, flavor = step.get("instance"), step.get("host"), step.get("flavor")
        self._check_host(host)
        if flavor not in self.flavor_id:
            raise Rejected(f"unknown flavor {flavor}")
        if iid in self.server:
            raise Rejected(f"instance {iid} was already booted")
        if iid not in self.instance_ids:
            raise Rejected(f"unknown instance {iid}")
        if not self.up[host]:
            raise Rejected(f"host {host} is down")
        body = {"name": iid, "imageRef": self.image, "flavorRef": self.flavor_id[flavor],
                "networks": "none", "host": host}
        try:
            server = self.api.post_server({"server": body})
        except api_client.OpenStackApiException as e:
            raise Rejected(_api_error(e)) from None
        sid = server["id"]
        self.settle(lambda: self._built(sid), "boot")
        s = self.api.get_server(sid)
        if s["status"] != "ACTIVE":
            fault = (s.get("fault") or {}).get("message", s["status"])
            self.api.delete_server(sid)
            self.settle(lambda: self._gone(sid), "deleting the failed boot")
            raise Rejected(f"Nova put the server in {s['status']}: {fault}")
        self.server[iid] = sid
        self.iid[sid] = iid

    def _built(self, sid: str) -> bool:
        try:
            inst = objects.Instance.get_by_uuid(self.ctx, sid)
        except nova_exception.InstanceNotFound:
            # Still a build request, or buried in cell0 after NoValidHost:
            # only the API tells (rarely: it costs a request).  Between two
            # requests the last answer stands: settle() wants CALM answers in a
            # row, polls faster than the throttle, and a throttled "no" after
            # the API said ERROR kept it from ever calming down (a refused boot
            # then timed out about one run in four).
            now = time.monotonic()
            if now - getattr(self, "_asked", 0.0) < 0.05:
                return getattr(self, "_answer", (None, False)) == (sid, True)
            self._asked = now
            errored = self.api.get_server(sid)["status"] == "ERROR"
            self._answer = (sid, errored)
            return errored
        return inst.vm_state in ("active", "error") and inst.task_state is None

    def _gone(self, sid: str) -> bool:
        try:
            objects.Instance.get_by_uuid(self.ctx, sid)
        except nova_exception.InstanceNotFound:
            return True
        return False

    def _step_delete(self, step: dict) -> None:
        iid = step.get("instance")
        self._server(iid)
        sid = self.server[iid]
        # Free the instance's moves first: the API's delete itself calls the
        # compute (``_confirm_resize_on_deleting`` is an RPC *call* to the
        # source's confirm_resize), which must not park.
        self._run_to_end(iid)
        try:
            self.api.delete_server(sid)
        except api_client.OpenStackApiException as e:
            raise Rejected(_api_error(e)) from None
        self.settle(lambda: self._gone(sid), "delete")

    def _run_to_end(self, iid: str) -> None:
        """Let the instance's move go on by itself to its end (no more gates)."""
        sid = self.server[iid]
        GATES.free.add(sid)
        for p in [p for p in GATES.parked if p["instance"] == sid]:
            GATES.release(p)

    def _fresh_migration(self, iid: str, mid: str | None) -> None:
        if not mid or mid in self.migration:
            raise Rejected(f"migration {mid} already exists")
        if self._parked(iid) is not None or not self._task_done(iid):
            raise Rejected(f"instance {iid} has a move in progress")

    def _start_move(self, step: dict, action: dict, what: str, only_dest: bool) -> None:
        """POST a server action and wait until the move parks at its first gate or ends."""
        iid, mid, dest = step.get("instance"), step.get("migration"), step.get("dest")
        self._check_host(dest)
        self._server(iid)
        self._fresh_migration(iid, mid)
        sid = self.server[iid]
        if only_dest:
            # Nova's resize API takes no host: the scheduler gets dest as the
            # requested destination (``_install_targets``).
            TARGETS[sid] = dest
        try:
            try:
                self.api.post_server_action(sid, action)
            except api_client.OpenStackApiException as e:
                # A resize's conductor call answers NoValidHost with a 400 after it
                # wrote the record (MigrationTask.rollback: error).
                self._bind_refused(iid, mid)
                raise Rejected(_api_error(e)) from None
            self.settle(lambda: self._parked(iid) is not None or self._task_done(iid), what)
        finally:
            TARGETS.pop(sid, None)
        if self._parked(iid) is None:
            status = self._bind_refused(iid, mid)
            fault = (self.api.get_server(sid).get("fault") or {}).get("message", "")
            raise Rejected(f"Nova did not start the move (migration {status}) {fault}".strip())
        self._new_migration(iid, mid)

    def _bind_refused(self, iid: str, mid: str) -> str:
        """A move Nova refused: the step's migration id names the record Nova wrote
        before it refused (``error``: the spec's refused move, docs/spec.md "Refused
        claims"), or nothing.  Returns the record's status for the message."""
        uuid = self._new_migration(iid, mid)
        m = objects.Migration.get_by_uuid(self.ctx, uuid) if uuid else None
        if m is None or m.status != "error":
            self.migration.pop(mid, None)
            self.mig_of.pop(mid, None)
        return m.status if m else "no migration record"

    def _step_resize_claim(self, step: dict) -> None:
        server = self._server(step.get("instance"))
        flavor = step.get("flavor")
        if flavor not in self.flavor_id:
            raise Rejected(f"unknown flavor {flavor}")
        if self.flavor_id[flavor] == server["flavor"].get("id", self._flavor_id_of(server)):
            action = {"migrate": {"host": step.get("dest")}}
            self._start_move(step, action, "migrate", only_dest=False)
        else:
            self._start_move(step, {"resize": {"flavorRef": self.flavor_id[flavor]}}, "resize",
                             only_dest=True)

    def _flavor_id_of(self, server: dict) -> str | None:
        name = server["flavor"].get("original_name")
        for fname, fid in self.flavor_id.items():
            if fname == name:
                return fid
        return None

    def _step_live_claim(self, step: dict) -> None:
        action = {"os-migrateLive": {"host": step.get("dest"), "block_migration": "auto"}}
        self._start_move(step, action, "live migrate", only_dest=False)

    def _step_evacuate_start(self, step: dict) -> None:
        iid = step.get("instance")
        if iid in self.server:
            GATES.evacuating.add(self.server[iid])
        self._start_move(step, {"evacuate": {"host": step.get("dest")}}, "evacuate",
                         only_dest=False)

    def _step_confirm(self, step: dict) -> None:
        self._user_action(step, {"confirmResize": None}, "confirm_resize")

    def _step_revert(self, step: dict) -> None:
        self._user_action(step, {"revertResize": None}, "revert_resize")

    def _user_action(self, step: dict, action: dict, gate: str) -> None:
        mid = step.get("migration")
        m = self._nova_migration(mid)
        iid = self.mig_of[mid]
        if m.status != "finished":
            raise Rejected(f"migration {mid} is {m.status}, not finished")
        done = GATES.finished.get(gate, 0)
        try:
            self.api.post_server_action(self.server[iid], action)
        except api_client.OpenStackApiException as e:
            raise Rejected(_api_error(e)) from None
        # The API casts to the compute: wait for its handler to park or return.
        self.settle(lambda: self._parked(iid, gate) is not None
                    or GATES.finished.get(gate, 0) > done, step["step"])

    def _step_reset_state(self, step: dict) -> None:
        """``POST /servers/{id}/action {"os-resetState": {"state": "active"}}``: an
        admin sets an instance in ERROR back to ACTIVE (``nova/api/openstack/compute/
        admin_actions.py`` ``_reset_state``: the vm_state, and task_state cleared;
        nothing is sent to a compute or to Placement).

        Nova's API takes it in any state; the spec's step is the repair of an
        instance in ERROR, so the server sends it only then (on an instance
        that is moving, it would clear the task_state under the move)."""
        iid = step.get("instance")
        self._server(iid)
        inst = objects.Instance.get_by_uuid(self.ctx, self.server[iid])
        if inst.vm_state != "error":
            raise Rejected(f"instance {iid} is {inst.vm_state}, not error")
        try:
            self.api.post_server_action(self.server[iid], {"os-resetState": {"state": "active"}})
        except api_client.OpenStackApiException as e:
            raise Rejected(_api_error(e)) from None
        self.settle(what="reset_state")

    def _step_live_abort(self, step: dict) -> None:
        mid = step.get("migration")
        m = self._nova_migration(mid)
        iid = self.mig_of[mid]
        done = GATES.finished.get("live_migration_abort", 0)
        try:
            self.api.api_delete(f"/servers/{self.server[iid]}/migrations/{m.id}")
        except api_client.OpenStackApiException as e:
            raise Rejected(_api_error(e)) from None
        # The API casts the abort to the source: let it act before the move goes on.
        self.settle(lambda: GATES.finished.get("live_migration_abort", 0) > done, "live_abort")
        self._run_to_end(iid)
        self.settle(lambda: self._task_done(iid), "live_abort")
        GATES.free.discard(self.server[iid])

    def _step_fail(self, step: dict) -> None:
        """Arm a hypervisor fault for the move's next driver call and let it run to its end."""
        mid = step.get("migration")
        m = self._nova_migration(mid)
        iid = self.mig_of[mid]
        p = self._parked(iid)
        if p is None and m.status == "finished" and m.migration_type in ("resize", "migration"):
            self._fail_waiting_resize(mid, m, iid)
            return
        if p is None:
            raise Rejected(f"migration {mid} is {m.status}: Nova has no step in flight to fail")
        self._sides_up(p["gate"], mid)
        if p["gate"] == "conductor_rebuild":
            # Before the destination's claim, an evacuation fails in the
            # conductor: ``ComputeTaskManager.rebuild_instance`` catches the
            # scheduler's NoValidHost and writes ``error`` (the compute's
            # ``rebuild_instance``, after the claim, writes ``failed``).
            NO_VALID_HOST.add(self.server[iid])
        GATES.faults.add(self.server[iid])
        p["fault"] = True
        self._run_to_end(iid)
        self.settle(lambda: self._task_done(iid), "fail")
        GATES.faults.discard(self.server[iid])
        GATES.free.discard(self.server[iid])
        NO_VALID_HOST.discard(self.server[iid])

    def _fail_waiting_resize(self, mid: str, m, iid: str) -> None:
        """``fail`` of a resize that waits at ``finished`` for the user.

        Nothing of the resize is in flight there, so the nearest point at which
        Nova fails it is the user's confirm failing on the source: the API
        writes ``confirming``, the source's ``driver.confirm_migration`` raises,
        ``@errors_out_migration`` writes ``error``, and the ``finally:`` of
        ``nova/compute/manager.py`` ``ComputeManager.confirm_resize`` deletes
        the migration consumer's allocation on the source
        (``_delete_allocation_after_move``, Launchpad bug 1821594).  The
        instance stays on the destination with the new flavor (vm_state ERROR).
        """
        self._sides_up("confirm_resize", mid)
        sid = self.server[iid]
        GATES.faults.add(sid)
        self._run_to_end(iid)
        try:
            try:
                self.api.post_server_action(sid, {"confirmResize": None})
            except api_client.OpenStackApiException as e:
                raise Rejected(_api_error(e)) from None
            self.settle(lambda: self._task_done(iid) and objects.Migration.get_by_uuid(
                self.ctx, m.uuid).status not in ("finished", "confirming"), "fail")
        finally:
            GATES.faults.discard(sid)
            GATES.free.discard(sid)

    def _host_down(self, host: str) -> None:
        """nova-compute dies: its RPC servers stop taking messages, and what it was
        doing stays where it is.  (``Service.stop`` would be a graceful shutdown,
        which waits for the handlers in flight: a move parked on this host would
        never let it finish.)  Then the service is forced down, as an operator
        or a fencing agent does before evacuating."""
        svc = self.computes[host]
        for server in (svc.rpcserver, getattr(svc, "rpcserver_alt", None)):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        # The messages this process had taken die with it: a parked handler
        # on this host never resumes (GreenletExit passes Nova's ``except
        # Exception``, so nothing is written on its way out, as in a crash).
        # At host_up, Nova's init_host finds what they left behind.
        for p in [p for p in GATES.parked if p["host"] == host]:
            GATES.parked.remove(p)
            with contextlib.suppress(Exception):
                eventlet.greenthread.kill(p["greenlet"])
        self.api.put_service(self.service_id[host], {"forced_down": True})
        self.up[host] = False

    def _step_host_down(self, step: dict) -> None:
        host = step.get("host")
        self._check_host(host)
        if not self.up[host]:
            raise Rejected(f"host {host} is already down")
        self._host_down(host)
        self.settle(what="host_down")

    def _step_host_up(self, step: dict) -> None:
        host = step.get("host")
        self._check_host(host)
        if self.up[host]:
            raise Rejected(f"host {host} is already up")
        # As the harness's restart_compute_service, without stopping the dead
        # service again: a new ComputeManager on the same hypervisor (driver).
        old = self.computes[host]
        cell = self.tc.host_mappings[host].cell_mapping.name
        with mock.patch("nova.virt.driver.load_compute_driver") as load_driver:
            load_driver.return_value = old.manager.driver
            self.computes[host] = self.tc.start_service("compute", host=host, cell_name=cell)
        self.api.put_service(self.service_id[host], {"forced_down": False})
        self.up[host] = True
        self.settle(what="host_up")

    def _step_audit(self, step: dict) -> None:
        host = step.get("host")
        self._check_host(host)
        if not self.up[host]:
            raise Rejected(f"host {host} is down: its periodic tasks do not run")
        manager = self.computes[host].manager
        manager.update_available_resource(self.ctx)
        # The periodic task that fails the error migrations of deleted instances
        # (``ComputeManager._cleanup_incomplete_migrations``) reads ``CONF.host``,
        # which the harness shares between its in-process computes: set it to
        # this host for the call.
        conf = nova_conf.CONF
        saved = conf.host
        conf.set_override("host", host)
        try:
            manager._cleanup_incomplete_migrations(self.ctx)
        finally:
            conf.set_override("host", saved)
        self.settle(what="audit")

    # ------------------------------------------------------------------ devices

    def _rp_allocations(self, hosts=None) -> dict:
        """{host: {consumer uuid: resources}}: Placement's allocations against each
        host's provider (one request per host, rather than one per consumer)."""
        return {h: self.tc.placement.get(
                    f"/resource_providers/{self.rp[h]}/allocations").body["allocations"]
                for h in (self.rp if hosts is None else hosts)}

    def _device_units(self, per_rp: dict | None = None) -> dict:
        """{host: {instance id: units of DEVICE_CLASS}} from Placement's allocations."""
        out = {h: {} for h in self.devices if self.devices[h]}
        if not out:
            return out
        consumers = {sid: iid for iid, sid in self.server.items()}
        consumers.update({u: self.mig_of[mid] for mid, u in self.migration.items()})
        if per_rp is None:
            per_rp = self._rp_allocations(out)
        for h in out:
            for consumer, a in per_rp[h].items():
                n = a["resources"].get(DEVICE_CLASS, 0)
                iid = consumers.get(consumer, consumer)
                if n:
                    out[h][iid] = out[h].get(iid, 0) + n
        return out

    def _device_snapshot(self) -> dict:
        return {h: dict(v) for h, v in self.holders.items()}

    def _relabel_devices(self, before: dict | None = None, step: dict | None = None) -> list:
        """Name Placement's device units: each holder keeps the names it had, new
        units take the lowest free names.  Returns the names newly taken by the
        step's instance (a claim's pick)."""
        units = self._device_units()
        picks = []
        for h, per in units.items():
            held = self.holders[h]
            for d in [d for d, who in held.items() if per.get(who, 0) <= 0]:
                del held[d]
            for who in list(per):
                mine = [d for d, w in held.items() if w == who]
                for d in mine[per[who]:]:
                    del held[d]
                need = per[who] - len(mine)
                for d in self.devices[h]:
                    if need <= 0:
                        break
                    if d not in held:
                        held[d] = who
                        need -= 1
                        picks.append((h, who, d))
        if step is None:
            return []
        target = step.get("instance") or self.mig_of.get(step.get("migration"))
        return sorted(d for _h, who, d in picks if who == target)

    # ------------------------------------------------------------------ observe

    def observe(self) -> dict:
        # A provider's usage is the sum of its allocations (Placement computes
        # ``GET /resource_providers/{uuid}/usages`` that way,
        # ``placement/objects/usage.py``): one request per host serves usage,
        # devices and allocations.
        per_rp = self._rp_allocations()
        usage = {}
        for h, allocs in per_rp.items():
            usage[h] = {rc: sum(int(a["resources"].get(rc, 0)) for a in allocs.values())
                        for rc in RESOURCE_CLASSES}
        migrations = {}
        for mid, uuid in self.migration.items():
            migrations[mid] = objects.Migration.get_by_uuid(self.ctx, uuid).status
        devices = {h: {d: self.holders[h].get(d) for d in names}
                   for h, names in self.devices.items()}
        out = {"usage": usage, "devices": devices, "migrations": migrations,
               "instances": {iid: inst.host for iid, inst in self._instances().items()}}
        if self.with_allocations:
            out["allocations"] = self._allocations(per_rp)
        return out

    def _instances(self) -> dict:
        """{instance id: Instance} of every server not deleted, from Nova's database.

        The API's ``OS-EXT-SRV-ATTR:host`` and ``OS-EXT-STS:vm_state`` are these
        fields as they are (``nova/api/openstack/compute/views/servers.py``);
        reading them here spares a ``GET /servers/detail`` per observation.
        """
        if not self.iid:
            return {}
        found = objects.InstanceList.get_by_filters(
            self.ctx, {"deleted": False, "uuid": list(self.iid)}, expected_attrs=[])
        return {self.iid[i.uuid]: i for i in found if i.uuid in self.iid}

    def _allocations(self, per_rp: dict | None = None) -> dict:
        """Placement's allocations per consumer, by instance and migration id, counted
        classes only, zeros left out (the observation's ``allocations`` part)."""
        per_rp = self._rp_allocations() if per_rp is None else per_rp
        labels = {c: label for label, c in
                  list(self.server.items()) + list(self.migration.items())}
        out: dict = {}
        for h, allocs in per_rp.items():
            for c, v in allocs.items():
                label = labels.get(c)
                res = {rc: int(n) for rc, n in v["resources"].items()
                       if rc in RESOURCE_CLASSES and n}
                if label is not None and res:
                    out.setdefault(label, {})[h] = res
        return out

    def details(self) -> dict:
        """What the jsonl observation has no field for: the ResourceTracker's
        ComputeNode counters (current as of the host's last audit), Placement's
        allocations per consumer, vm_states, and where Nova is parked."""
        cn = {}
        for h in self.computes:
            node = objects.ComputeNode.get_first_node_by_host_for_old_compat(self.ctx, h)
            cn[h] = {"VCPU": node.vcpus_used, "MEMORY_MB": node.memory_mb_used,
                     "DISK_GB": node.local_gb_used}
        labels = {c: f"instance {i}" for i, c in self.server.items()}
        labels.update({c: f"migration {m}" for m, c in self.migration.items()})
        allocations: dict = {}
        for h, allocs in self._rp_allocations().items():
            for c, v in allocs.items():
                if c in labels:
                    allocations.setdefault(labels[c], {})[h] = v["resources"]
        vm_states = {iid: inst.vm_state for iid, inst in self._instances().items()}
        # Placement's own usages endpoint: observe() sums the allocations instead.
        usages = {}
        for h, rp in self.rp.items():
            u = self.tc._get_provider_usages(rp)
            usages[h] = {rc: int(u.get(rc, 0)) for rc in RESOURCE_CLASSES}
        parked = {self.iid.get(p["instance"], p["instance"]): p["gate"] for p in GATES.parked}
        return {"compute_node_usage": cn, "placement_usages": usages,
                "allocations": allocations, "vm_states": vm_states,
                "parked": parked, "reset_seconds": round(self.reset_seconds, 3)}


@contextlib.contextmanager
def _microversion(api, version):
    old = api.microversion
    api.microversion = version
    try:
        yield
    finally:
        api.microversion = old


# --------------------------------------------------------------------------- main loop


def main() -> int:
    _install_gates()
    _Wakeup.install()
    _install_targets()
    cloud = NovaCloud()
    out = _PROTOCOL_OUT
    inp = sys.stdin.buffer
    # Test hooks (tests/test_nova.py): die or hang at the N-th apply, as a
    # crashing or deadlocked Nova would.
    crash_at = int(os.environ.get("MOVECHECK_NOVA_CRASH_AT", "0") or 0)
    hang_at = int(os.environ.get("MOVECHECK_NOVA_HANG_AT", "0") or 0)
    applied = 0
    while True:
        line = inp.readline()
        if not line:
            break
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "close":
                break
            if op == "reset":
                reply = cloud.reset(req["cloud"], req.get("known_capabilities"))
            elif op == "apply":
                applied += 1
                if applied == crash_at:
                    os._exit(70)
                if applied == hang_at:
                    time.sleep(3600)
                reply = cloud.apply(req["step"])
            elif op == "observe":
                reply = cloud.observe()
            elif op == "details":
                reply = cloud.details()
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as e:  # noqa: BLE001 - reported to the adapter as an error reply
            traceback.print_exc()
            reply = {"error": f"{type(e).__name__}: {' '.join(str(e).split())[:500]}"}
        out.write(json.dumps(reply, separators=(",", ":")) + "\n")
        out.flush()
    with contextlib.suppress(Exception):
        cloud.teardown()
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    # Nova leaves greenthreads and executors behind; do not wait for them.
    os._exit(code)
