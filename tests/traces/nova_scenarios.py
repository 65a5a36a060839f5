"""Recorded traces of the scenarios of Nova 34's own functional tests.

Each scenario replays one test of ``nova/tests/functional/test_servers.py``
(``ServerMovingTests``) or a helper of ``nova/tests/functional/integrated_helpers.py``
as movecheck steps, and writes an ``observe`` line exactly where the Nova test
asserts something, with what it asserts: Placement's usage per compute node
(``assertFlavorMatchesUsage`` / ``assertRequestMatchesUsage``) and allocations per
consumer (``assertFlavorMatchesAllocation`` for the server and for the migration
uuid), plus the migration status and the server's host where the test or the
code it runs fixes them.  The figures come from the Nova test, not from
movecheck: ``movecheck validate`` must explain every trace, and must reject
each trace's one-unit edit (``EDITS``) at the edited line.

The cloud is the tests' one: two ``fake.MediumFakeDriver`` computes (10 VCPU,
8192 MB, 1028 GB), flavor1 = m1.tiny, flavor2 = m1.small and flavor3 =
``test_flavor3`` (``ServerMovingTests.setUp``; ``DefaultFlavorsFixture`` in
``nova/tests/fixtures/nova.py``).  Nova's API names become movecheck steps:
``resize`` = resize_claim .. finish_resize (VERIFY_RESIZE), ``confirmResize`` =
confirm + confirm_finish, ``_run_periodics`` = audit of host1 then host2, a
stopped and forced-down compute = host_down, its restart = host_up.

``python tests/traces/nova_scenarios.py`` rewrites the ``.jsonl`` files beside it;
``tests/test_nova_traces.py`` checks they are current.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
RCS = ("VCPU", "MEMORY_MB", "DISK_GB")

#: ``DefaultFlavorsFixture`` and ``ServerMovingTests.setUp`` (dots are not allowed in names).
FLAVORS = {
    "m1-tiny": (1, 512, 1),       # flavor1
    "m1-small": (1, 2048, 20),    # flavor2
    "test_flavor3": (1, 1024, 40),  # flavor3: half flavor2's RAM, twice its disk
}

CLOUD = {
    "schema_version": 1,
    "hosts": [
        {"name": h, "inventories": {
            # fake.MediumFakeDriver; ratios 1.0 (the test's oversubscription is not exercised)
            "VCPU": {"total": 10, "reserved": 0, "allocation_ratio": 1.0},
            "MEMORY_MB": {"total": 8192, "reserved": 0, "allocation_ratio": 1.0},
            "DISK_GB": {"total": 1028, "reserved": 0, "allocation_ratio": 1.0}},
         "devices": [], "up": True}
        for h in ("host1", "host2")
    ],
    "flavors": [{"name": n, "vcpus": v, "memory_mb": m, "disk_gb": d, "devices": 0}
                for n, (v, m, d) in FLAVORS.items()],
    "instances": ["server"],
    "max_migrations": 2,
    "options": [],
}

CAPABILITIES = ["allocations", "instances", "migrations", "usage"]


def res(*flavors: str) -> dict[str, int]:
    """The resources of the flavors together (``assertFlavorMatchesUsage(rp, *flavors)``)."""
    return {rc: sum(FLAVORS[f][k] for f in flavors) for k, rc in enumerate(RCS)}


ZERO = dict.fromkeys(RCS, 0)


class Trace:
    def __init__(self, name: str, source: str, cloud: dict | None = None):
        self.name, self.source = name, source
        self.lines: list[dict] = [{"op": "reset", "cloud": cloud or CLOUD,
                                   "reply": {"ok": True, "capabilities": CAPABILITIES}}]

    def step(self, kind: str, result: str = "accepted", **params: str) -> Trace:
        reply = {"result": result}
        if result == "rejected":
            reply["reason"] = params.pop("reason")
        self.lines.append({"op": "apply", "step": {"step": kind, **params}, "reply": reply})
        return self

    def steps(self, migration: str, *kinds: str) -> Trace:
        for k in kinds:
            self.step(k, migration=migration)
        return self

    def periodics(self) -> Trace:
        """``ServerMovingTests._run_periodics``: compute1 then compute2."""
        return self.step("audit", host="host1").step("audit", host="host2")

    def observe(self, usage: dict, allocations: dict, migrations: dict, instances: dict) -> Trace:
        self.lines.append({"op": "observe", "reply": {
            "usage": {h: usage.get(h, ZERO) for h in ("host1", "host2")},
            "allocations": allocations, "migrations": migrations, "instances": instances}})
        return self

    def close(self) -> Trace:
        self.lines.append({"op": "close"})
        return self

    def text(self) -> str:
        return "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in self.lines)


def _boot(t: Trace, flavor: str, host: str = "host1") -> Trace:
    """``_boot_and_check_allocations``: usage and the server's allocation on its host."""
    t.step("boot", instance="server", host=host, flavor=flavor)
    return t.observe({host: res(flavor)}, {"server": {host: res(flavor)}}, {},
                     {"server": host})


def _resize_to_verify(t: Trace, old: str, new: str, source: str, dest: str) -> Trace:
    """``_move_and_check_allocations``: at VERIFY_RESIZE, and again after the
    periodics, source usage = old, dest usage = new, the server holds new on
    dest, the migration holds old on source."""
    t.step("resize_claim", migration="m1", instance="server", dest=dest, flavor=new)
    t.steps("m1", "resize_migrate", "resize_migrated", "finish_resize")
    at_verify = ({source: res(old), dest: res(new)},
                 {"server": {dest: res(new)}, "m1": {source: res(old)}},
                 {"m1": "finished"}, {"server": dest})
    t.observe(*at_verify)
    t.periodics()
    return t.observe(*at_verify)


def _delete(t: Trace, migrations: dict) -> Trace:
    """``_delete_and_check_allocations``: nothing left anywhere."""
    t.step("delete", instance="server")
    return t.observe({}, {}, migrations, {})


def _resize_confirm(name: str, test: str, dest: str) -> Trace:
    source = "host1" if dest == "host2" else "host2"
    t = Trace(name, f"test_servers.py ServerMovingTests.{test} "
              "(_test_resize_confirm, _resize_and_check_allocations)")
    _boot(t, "m1-tiny", source)
    _resize_to_verify(t, "m1-tiny", "m1-small", source, dest)
    t.steps("m1", "confirm", "confirm_finish")
    after = ({dest: res("m1-small")}, {"server": {dest: res("m1-small")}},
             {"m1": "confirmed"}, {"server": dest})
    t.observe(*after)
    t.periodics()
    t.observe(*after)
    return _delete(t, {"m1": "confirmed"}).close()


def resize_confirm() -> Trace:
    return _resize_confirm("resize_confirm", "test_resize_confirm", "host2")


def resize_confirm_reverse() -> Trace:
    """The periodics run on the destination first (``_run_periodics`` order)."""
    return _resize_confirm("resize_confirm_reverse", "test_resize_confirm_reverse", "host1")


def _resize_revert(name: str, test: str, dest: str) -> Trace:
    source = "host1" if dest == "host2" else "host2"
    t = Trace(name, f"test_servers.py ServerMovingTests.{test} "
              "(_test_resize_revert, _resize_and_check_allocations)")
    _boot(t, "m1-tiny", source)
    _resize_to_verify(t, "m1-tiny", "m1-small", source, dest)
    t.steps("m1", "revert", "revert_finish")
    t.periodics()
    t.observe({source: res("m1-tiny")}, {"server": {source: res("m1-tiny")}},
              {"m1": "reverted"}, {"server": source})
    return _delete(t, {"m1": "reverted"}).close()


def resize_revert() -> Trace:
    return _resize_revert("resize_revert", "test_resize_revert", "host2")


def resize_revert_reverse() -> Trace:
    return _resize_revert("resize_revert_reverse", "test_resize_revert_reverse", "host1")


def migration_confirm_resize_error() -> Trace:
    """The driver's ``confirm_migration`` raises: ``errors_out_migration`` writes
    ``error``, the server goes to ERROR, and ``_delete_allocation_after_move``
    (in ``confirm_resize``'s finally) has removed the source: the allocation is
    only on the destination, before and after the periodics."""
    t = Trace("migration_confirm_resize_error",
              "test_servers.py ServerMovingTests.test_migration_confirm_resize_error")
    _boot(t, "m1-tiny")
    _resize_to_verify(t, "m1-tiny", "m1-tiny", "host1", "host2")
    t.step("confirm", migration="m1").step("fail", migration="m1")
    after = ({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
             {"m1": "error"}, {"server": "host2"})
    t.observe(*after)
    t.periodics()
    t.observe(*after)
    return _delete(t, {"m1": "error"}).close()


def migrate_confirm() -> Trace:
    t = Trace("migrate_confirm", "test_servers.py ServerMovingTests.test_migrate_confirm "
              "(_migrate_and_check_allocations)")
    _boot(t, "m1-tiny")
    _resize_to_verify(t, "m1-tiny", "m1-tiny", "host1", "host2")
    t.steps("m1", "confirm", "confirm_finish")
    after = ({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
             {"m1": "confirmed"}, {"server": "host2"})
    t.observe(*after)
    t.periodics()
    t.observe(*after)
    return _delete(t, {"m1": "confirmed"}).close()


def _same_host(t: Trace) -> Trace:
    """``_resize_to_same_host_and_check_allocations``: old + new on the one host, the
    server holding new and the migration old, before and after the periodics."""
    t.step("resize_claim", migration="m1", instance="server", dest="host1",
           flavor="test_flavor3")
    t.steps("m1", "resize_migrate", "resize_migrated", "finish_resize")
    at_verify = ({"host1": res("m1-small", "test_flavor3")},
                 {"server": {"host1": res("test_flavor3")}, "m1": {"host1": res("m1-small")}},
                 {"m1": "finished"}, {"server": "host1"})
    t.observe(*at_verify)
    t.periodics()
    return t.observe(*at_verify)


def resize_confirm_same_host() -> Trace:
    t = Trace("resize_confirm_same_host",
              "test_servers.py ServerMovingTests.test_resize_confirm_same_host "
              "(_resize_to_same_host_and_check_allocations)")
    _boot(t, "m1-small")
    _same_host(t)
    t.steps("m1", "confirm", "confirm_finish")
    t.periodics()
    t.observe({"host1": res("test_flavor3")}, {"server": {"host1": res("test_flavor3")}},
              {"m1": "confirmed"}, {"server": "host1"})
    return _delete(t, {"m1": "confirmed"}).close()


def resize_revert_same_host() -> Trace:
    t = Trace("resize_revert_same_host",
              "test_servers.py ServerMovingTests.test_resize_revert_same_host "
              "(_resize_to_same_host_and_check_allocations)")
    _boot(t, "m1-small")
    _same_host(t)
    t.steps("m1", "revert", "revert_finish")
    t.periodics()
    t.observe({"host1": res("m1-small")}, {"server": {"host1": res("m1-small")}},
              {"m1": "reverted"}, {"server": "host1"})
    return _delete(t, {"m1": "reverted"}).close()


def evacuate() -> Trace:
    t = Trace("evacuate", "test_servers.py ServerMovingTests.test_evacuate_clean_hypervisor "
              "(_test_evacuate, _check_allocation_during_evacuate)")
    _boot(t, "m1-tiny")
    t.step("host_down", host="host1")
    t.step("evacuate_start", migration="m1", instance="server", dest="host2")
    t.steps("m1", "rebuild_claim", "finish_evacuation")
    # the source is still down: usage and the server's allocation on both computes
    t.observe({"host1": res("m1-tiny"), "host2": res("m1-tiny")},
              {"server": {"host1": res("m1-tiny"), "host2": res("m1-tiny")}},
              {"m1": "done"}, {"server": "host2"})
    t.step("host_up", host="host1")  # restart_compute_service: _destroy_evacuated_instances
    t.observe({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
              {"m1": "completed"}, {"server": "host2"})
    return _delete(t, {"m1": "completed"}).close()


def live_migrate() -> Trace:
    t = Trace("live_migrate", "test_servers.py ServerMovingTests.test_live_migrate")
    _boot(t, "m1-tiny")
    t.step("live_claim", migration="m1", instance="server", dest="host2")
    t.steps("m1", "live_queue", "live_prepare", "live_run", "live_complete")
    t.periodics()
    t.observe({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
              {"m1": "completed"}, {"server": "host2"})
    return _delete(t, {"m1": "completed"}).close()


def live_migrate_rollback() -> Trace:
    t = Trace("live_migrate_rollback",
              "test_servers.py ServerMovingTests."
              "test_live_migrate_rollback_cleans_dest_node_allocations")
    _boot(t, "m1-tiny")
    t.step("live_claim", migration="m1", instance="server", dest="host2")
    t.steps("m1", "live_queue", "live_prepare")
    # stub_pre_live_migration: the migration holds the source, the server the dest
    t.observe({"host1": res("m1-tiny"), "host2": res("m1-tiny")},
              {"m1": {"host1": res("m1-tiny")}, "server": {"host2": res("m1-tiny")}},
              {"m1": "preparing"}, {"server": "host1"})
    # pre_live_migration raises: _cleanup_pre_live_migration, then
    # _rollback_live_migration (migration_status 'failed')
    t.step("fail", migration="m1")
    t.observe({"host1": res("m1-tiny")}, {"server": {"host1": res("m1-tiny")}},
              {"m1": "failed"}, {"server": "host1"})
    return _delete(t, {"m1": "failed"}).close()


def live_migrate_abort() -> Trace:
    """``DELETE /servers/{id}/migrations/{id}`` while running: the driver aborts and
    ``_rollback_live_migration(migration_status='cancelled')`` gives the
    destination's allocation back (``ServerLiveMigrateForceAndAbort`` runs on
    ``fake.FakeLiveMigrateDriver``; the flavor fits on this cloud's hosts alike)."""
    t = Trace("live_migrate_abort",
              "test_servers.py ServerLiveMigrateForceAndAbort.test_live_migrate_delete")
    _boot(t, "m1-tiny")
    t.step("live_claim", migration="m1", instance="server", dest="host2")
    t.steps("m1", "live_queue", "live_prepare", "live_run", "live_abort")
    t.periodics()
    t.observe({"host1": res("m1-tiny")}, {"server": {"host1": res("m1-tiny")}},
              {"m1": "cancelled"}, {"server": "host1"})
    return _delete(t, {"m1": "cancelled"}).close()


def resize_delete_while_verify() -> Trace:
    """Deleting a server in VERIFY_RESIZE confirms the resize first
    (``API._confirm_resize_on_deleting``): the migration ends ``confirmed``."""
    t = Trace("resize_delete_while_verify",
              "test_servers.py ServerMovingTests.test_resize_delete_while_verify")
    _boot(t, "m1-tiny")
    _resize_to_verify(t, "m1-tiny", "m1-small", "host1", "host2")
    return _delete(t, {"m1": "confirmed"}).close()


def evacuate_source_returns_during_rebuild() -> Trace:
    """The source restarts while the evacuation is pre-migrating (regression test of
    bug 1764883): ``_destroy_evacuated_instances`` removes the source from the
    server's allocation and writes ``completed``; the destination keeps its claim,
    finishes the rebuild and writes ``done`` over it (the test asserts ``done``)."""
    t = Trace("evacuate_source_returns_during_rebuild",
              "regressions/test_bug_1764883.py TestEvacuationWithSourceReturningDuringRebuild")
    _boot(t, "m1-tiny")
    t.step("host_down", host="host1")
    t.step("evacuate_start", migration="m1", instance="server", dest="host2")
    t.step("rebuild_claim", migration="m1")
    t.step("host_up", host="host1")
    t.observe({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
              {"m1": "completed"}, {"server": "host1"})
    t.step("finish_evacuation", migration="m1")
    t.observe({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
              {"m1": "done"}, {"server": "host2"})
    return t.close()


def evacuate_source_returns_before_rebuild_finishes() -> Trace:
    """The same race stopped before the destination finishes: the record ends
    ``completed`` (``_destroy_evacuated_instances``), the source holds nothing, the
    destination keeps its claim across its periodic, and deleting the server frees
    it (the record stays ``completed``: ``API._delete`` leaves evacuations alone)."""
    t = Trace("evacuate_source_returns_before_rebuild_finishes",
              "regressions/test_bug_1764883.py TestEvacuationWithSourceReturningDuringRebuild "
              "(before the rebuild finishes); compute/manager.py _destroy_evacuated_instances")
    _boot(t, "m1-tiny")
    t.step("host_down", host="host1")
    t.step("evacuate_start", migration="m1", instance="server", dest="host2")
    t.step("rebuild_claim", migration="m1")
    t.step("host_up", host="host1")
    during = ({"host2": res("m1-tiny")}, {"server": {"host2": res("m1-tiny")}},
              {"m1": "completed"}, {"server": "host1"})
    t.observe(*during)
    t.step("audit", host="host2")
    t.observe(*during)
    return _delete(t, {"m1": "completed"}).close()


def evacuate_claim_on_dest_fails() -> Trace:
    """The destination's MoveClaim is refused after the scheduler's claim:
    ``rebuild_instance`` writes ``failed`` (the test's expected_migration_status),
    removes the destination from the allocation; the server stays ACTIVE on the
    source, which keeps it after its restart (``failed`` is not cleaned up)."""
    t = Trace("evacuate_claim_on_dest_fails",
              "test_servers.py ServerMovingTests."
              "test_evacuate_claim_on_dest_fails_clean_hypervisor")
    _boot(t, "m1-tiny")
    t.step("host_down", host="host1")
    t.step("evacuate_start", migration="m1", instance="server", dest="host2")
    t.step("rebuild_claim", migration="m1")
    t.step("fail", migration="m1")
    t.periodics = lambda: t.step("audit", host="host2")  # compute1 is down
    t.periodics()
    after = ({"host1": res("m1-tiny")}, {"server": {"host1": res("m1-tiny")}},
             {"m1": "failed"}, {"server": "host1"})
    t.observe(*after)
    t.step("host_up", host="host1")
    t.step("audit", host="host1").step("audit", host="host2")
    t.observe(*after)
    return t.close()


def resize_not_enough_resource() -> Trace:
    """The scheduler finds no host: the API answers 400 "No valid host was found",
    the conductor had created the migration ``pre-migrating`` before scheduling and
    its rollback writes ``error`` (``MigrationTask.rollback``); the server stays
    ACTIVE with its allocation (docs/spec.md, "Refused claims")."""
    # The test's flavor asks MediumFakeDriver.vcpus + 1 VCPU, which Placement refuses
    # by max_unit (= total).  The spec has no max_unit and refuses a cloud flavor
    # that fits on no host, so here host1 has 12 VCPU and the claim on host2 is
    # refused by capacity, as Placement refuses it.
    cloud = json.loads(json.dumps(CLOUD))
    cloud["hosts"][0]["inventories"]["VCPU"]["total"] = 12
    cloud["flavors"].append({"name": "test_too_big_flavor", "vcpus": 11, "memory_mb": 1024,
                             "disk_gb": 20, "devices": 0})
    t = Trace("resize_not_enough_resource",
              "test_servers.py ServerMovingTests.test_resize_not_enough_resource", cloud)
    _boot(t, "m1-tiny")
    t.step("resize_claim", "rejected", migration="m1", instance="server", dest="host2",
           flavor="test_too_big_flavor", reason="No valid host was found")
    after = ({"host1": res("m1-tiny")}, {"server": {"host1": res("m1-tiny")}},
             {"m1": "error"}, {"server": "host1"})
    t.observe(*after)
    t.periodics()  # the refused move's record holds nothing: the audits agree
    t.observe(*after)
    return _delete(t, {"m1": "error"}).close()


#: Scenarios on paths where the spec already follows Nova 34.
SCENARIOS = (resize_confirm, resize_confirm_reverse, resize_revert, resize_revert_reverse,
             migrate_confirm, migration_confirm_resize_error, resize_confirm_same_host,
             resize_revert_same_host, evacuate, live_migrate, live_migrate_rollback,
             live_migrate_abort, resize_delete_while_verify, evacuate_source_returns_during_rebuild,
             evacuate_source_returns_before_rebuild_finishes, evacuate_claim_on_dest_fails,
             resize_not_enough_resource)


# ---------------------------------------------------------------------------
# Scenarios on the paths where the spec does not follow Nova 34 yet
# (docs/spec.md, "The blueprint, Nova 34 and movecheck"): today's spec must
# reject each at the line where Nova 34 differs (PENDING); when the spec follows
# Nova there they move to SCENARIOS.  None is left.


#: Changed-path scenarios, with the n-th observe line at which today's spec parts
#: from Nova 34.
PENDING: dict = {}


def _nth_observe(t: Trace, n: int) -> int:
    """The 1-based line number of the n-th observe line (1-based) of the trace."""
    seen = 0
    for i, line in enumerate(t.lines, 1):
        if line["op"] == "observe":
            seen += 1
            if seen == n:
                return i
    raise IndexError(n)


#: One-unit edit per scenario: (n-th observe line, path in its reply, delta).
#: Each changes one number by one, where the Nova test asserts it.
EDITS = {
    "resize_confirm": (2, ("allocations", "m1", "host1", "MEMORY_MB"), +1),
    "resize_revert": (4, ("usage", "host2", "VCPU"), +1),
    "resize_confirm_reverse": (5, ("usage", "host2", "MEMORY_MB"), +1),
    "resize_revert_reverse": (3, ("allocations", "server", "host1", "VCPU"), -1),
    "migration_confirm_resize_error": (4, ("usage", "host1", "DISK_GB"), +1),
    "migrate_confirm": (3, ("usage", "host1", "DISK_GB"), -1),
    "resize_confirm_same_host": (3, ("usage", "host1", "MEMORY_MB"), -1),
    "resize_revert_same_host": (2, ("allocations", "server", "host1", "DISK_GB"), +1),
    "evacuate": (2, ("allocations", "server", "host1", "VCPU"), -1),
    "live_migrate": (2, ("usage", "host1", "VCPU"), +1),
    "live_migrate_rollback": (2, ("allocations", "m1", "host1", "MEMORY_MB"), -1),
    "live_migrate_abort": (2, ("allocations", "server", "host1", "MEMORY_MB"), +1),
    "resize_delete_while_verify": (4, ("usage", "host1", "VCPU"), +1),
    "evacuate_claim_on_dest_fails": (3, ("usage", "host1", "VCPU"), -1),
    "evacuate_source_returns_during_rebuild": (2, ("usage", "host1", "VCPU"), +1),
    "evacuate_source_returns_before_rebuild_finishes": (3, ("allocations", "server", "host2",
                                                            "VCPU"), -1),
    "resize_not_enough_resource": (2, ("usage", "host2", "VCPU"), +1),
}


def edited_lines(t: Trace) -> tuple[int, list[str]]:
    """(edited line number, the trace's lines with the one-unit edit applied)."""
    n, path, delta = EDITS[t.name]
    lineno = _nth_observe(t, n)
    lines = json.loads(json.dumps(t.lines))
    node = lines[lineno - 1]["reply"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = node.get(path[-1], 0) + delta
    return lineno, [json.dumps(x, separators=(",", ":")) for x in lines]


def write_all() -> list[Path]:
    out = []
    for make in SCENARIOS:
        t = make()
        p = HERE / f"nova_{t.name}.jsonl"
        p.write_text(t.text(), encoding="utf-8")
        out.append(p)
    pending = HERE / "pending"
    for old in pending.glob("*.jsonl") if pending.exists() else ():
        old.unlink()  # a scenario that left PENDING leaves no stale copy behind
    if PENDING:
        pending.mkdir(exist_ok=True)
    elif pending.exists():
        pending.rmdir()
    for make in PENDING:
        t = make()
        p = HERE / "pending" / f"nova_{t.name}.jsonl"
        p.write_text(t.text(), encoding="utf-8")
        out.append(p)
    return out


if __name__ == "__main__":  # pragma: no cover
    for p in write_all():
        print(p)
