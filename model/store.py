"""The reference tracker's records in SQLite: instances, migrations, compute nodes.

One small interface over the standard library's ``sqlite3`` (a file or
``:memory:``), standing in for Nova's database (``nova/db/main/api.py``):

- ``instances``: one row per instance (``instances`` + ``instance_extra``);
- ``migrations``: one row per migration, ``id`` autoincrement (newest wins);
- ``compute_nodes``: per host the service state (``up``) and the usage the
  host's ResourceTracker last saved (``ComputeNode.save()`` from ``_update``),
  with the PCI pool as JSON (``ComputeNode.pci_device_pools``);
- ``movecheck_meta``: a schema marker and the cloud, so that a restarted
  process can resume from the file (:meth:`Store.open_existing`).

Every step runs in one transaction (:meth:`Store.transaction`, re-entrant);
the store's lock is the database: it serialises record access between
threads, as row locks and transactions do for Nova.  A file that is not a
movecheck model database is refused with one sentence and never written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

from movecheck.model.records import FINISHED_STATUSES, InstanceRecord, MigrationRecord
from movecheck.spec.errors import InputError
from movecheck.spec.vocab import Cloud, MigrationContext

#: Written into ``movecheck_meta`` so that a foreign database is recognised.
SCHEMA_MARKER = "movecheck-model-3"

_SEP = "\x1f"  # device names are joined with the ASCII unit separator

_SCHEMA = """
CREATE TABLE movecheck_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE compute_nodes (
    host TEXT PRIMARY KEY, up INTEGER NOT NULL,
    vcpus_used INTEGER NOT NULL, memory_mb_used INTEGER NOT NULL, local_gb_used INTEGER NOT NULL,
    pci_devices TEXT NOT NULL);
CREATE TABLE instances (
    uuid TEXT PRIMARY KEY, vm_state TEXT NOT NULL, host TEXT NOT NULL, flavor TEXT NOT NULL,
    old_flavor TEXT, new_flavor TEXT, pci_devices TEXT NOT NULL,
    mc_migration TEXT, mc_old_devices TEXT, mc_new_devices TEXT);
CREATE INDEX instances_host ON instances (host);
CREATE TABLE instance_system_metadata (
    instance_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (instance_uuid, key));
CREATE TABLE migrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE NOT NULL,
    instance_uuid TEXT NOT NULL, migration_type TEXT NOT NULL,
    source_compute TEXT NOT NULL, dest_compute TEXT NOT NULL,
    old_flavor TEXT NOT NULL, new_flavor TEXT NOT NULL, status TEXT NOT NULL,
    source_cleaned INTEGER NOT NULL DEFAULT 0);
CREATE INDEX migrations_instance ON migrations (instance_uuid);
CREATE INDEX migrations_source ON migrations (source_compute);
CREATE INDEX migrations_dest ON migrations (dest_compute);
"""

_INSTANCE_COLS = ("uuid, vm_state, host, flavor, old_flavor, new_flavor, pci_devices, "
                  "mc_migration, mc_old_devices, mc_new_devices")
_MIGRATION_COLS = ("uuid, instance_uuid, migration_type, source_compute, dest_compute, "
                   "old_flavor, new_flavor, status, id, source_cleaned")


def _devs(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(_SEP)) if text else ()


def _instance(row) -> InstanceRecord:
    mc = None if row[7] is None else MigrationContext(row[7], _devs(row[8]), _devs(row[9]))
    return InstanceRecord(row[0], row[1], row[2], row[3], row[4], row[5], _devs(row[6]), mc)


def _instance_row(r: InstanceRecord) -> tuple:
    mc = r.migration_context
    return (r.uuid, r.vm_state, r.host, r.flavor, r.old_flavor, r.new_flavor,
            _SEP.join(r.pci_devices),
            None if mc is None else mc.migration_id,
            None if mc is None else _SEP.join(mc.old_devices),
            None if mc is None else _SEP.join(mc.new_devices))


def _migration(row) -> MigrationRecord:
    return MigrationRecord(*row[:9], bool(row[9]))


class Store:
    """The database of one scenario.  Build with :meth:`create` or :meth:`open_existing`."""

    #: Statuses ``migration_get_in_progress_by_instance`` treats as over.
    NOT_IN_PROGRESS: frozenset[str] = FINISHED_STATUSES

    def __init__(self, conn: sqlite3.Connection, path: str):
        self.conn = conn
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self._x = conn.execute  # the hot path calls this a lot
        self._transaction = _Transaction(self)
        done = ", ".join(f"'{s}'" for s in sorted(self.NOT_IN_PROGRESS))
        self._sql_in_progress = (
            f"SELECT {_MIGRATION_COLS} FROM migrations WHERE instance_uuid = ? "
            f"AND status NOT IN ({done}) ORDER BY id DESC LIMIT 1")

    # ------------------------------------------------------------ opening

    @classmethod
    def create(cls, cloud: Cloud, path: str | os.PathLike = ":memory:") -> Store:
        """A fresh database for ``cloud``.

        An existing file is reused only if it is a movecheck model database (its
        records are then wiped); anything else raises :class:`InputError` and
        the file is left as it was.
        """
        path = str(path)
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise InputError(f"cannot create database {path}: the directory "
                             f"{Path(path).parent} does not exist")
        conn = _connect(path)
        if path != ":memory:" and _tables(conn, path):
            _check_ours(conn, path)
            conn.executescript(
                "DROP TABLE movecheck_meta; DROP TABLE compute_nodes; DROP TABLE instances; "
                "DROP TABLE instance_system_metadata; "
                "DROP TABLE migrations;")
        _tune(conn, path)
        conn.executescript(_SCHEMA)
        store = cls(conn, path)
        with store.transaction():
            store._x("INSERT INTO movecheck_meta VALUES ('schema', ?)", (SCHEMA_MARKER,))
            store._x("INSERT INTO movecheck_meta VALUES ('cloud', ?)", (json.dumps(cloud.to_json()),))
            for h in cloud.hosts:
                store._x("INSERT INTO compute_nodes VALUES (?, ?, 0, 0, 0, ?)",
                         (h.name, int(h.up), json.dumps({d: None for d in h.devices})))
        return store

    @classmethod
    def open_existing(cls, path: str | os.PathLike) -> tuple[Store, Cloud]:
        """Open a database written by :meth:`create` (a restart) and return it with its cloud."""
        path = str(path)
        if path == ":memory:" or not Path(path).is_file():
            raise InputError(f"no movecheck model database at {path}")
        conn = _connect(path)
        _check_ours(conn, path)
        _tune(conn, path)
        store = cls(conn, path)
        (text,) = store._x("SELECT value FROM movecheck_meta WHERE key = 'cloud'").fetchone()
        return store, Cloud.from_json(json.loads(text))

    @staticmethod
    def check_file(path: str | os.PathLike) -> None:
        """Raise InputError unless ``path`` is a movecheck model database (read only)."""
        conn = _connect(str(path))
        _check_ours(conn, str(path))
        conn.close()

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> _Transaction:
        """One database transaction (a context manager); nested uses join the outer one."""
        return self._transaction

    # ------------------------------------------------------------ instances

    def instance(self, uuid: str) -> InstanceRecord | None:
        row = self._x(f"SELECT {_INSTANCE_COLS} FROM instances WHERE uuid = ?", (uuid,)).fetchone()
        return None if row is None else _instance(row)

    def create_instance(self, r: InstanceRecord) -> None:
        self._x("INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _instance_row(r))

    def delete_instance(self, uuid: str) -> None:
        """Remove an instance that was never built (an aborted build claim)."""
        self._x("DELETE FROM instances WHERE uuid = ?", (uuid,))

    def save_instance(self, r: InstanceRecord) -> None:
        row = _instance_row(r)
        self._x("UPDATE instances SET vm_state = ?, host = ?, flavor = ?, old_flavor = ?, "
                "new_flavor = ?, pci_devices = ?, mc_migration = ?, mc_old_devices = ?, "
                "mc_new_devices = ? WHERE uuid = ?", row[1:] + row[:1])

    def set_system_metadata(self, uuid: str, key: str, value: str) -> None:
        """``instance_system_metadata``: one key of an instance (Nova keeps the boot
        image's properties there, ``image_min_disk`` among them)."""
        self._x("INSERT OR REPLACE INTO instance_system_metadata VALUES (?, ?, ?)",
                (uuid, key, value))

    def system_metadata(self, uuid: str, key: str) -> str | None:
        row = self._x("SELECT value FROM instance_system_metadata WHERE instance_uuid = ? "
                      "AND key = ?", (uuid, key)).fetchone()
        return None if row is None else row[0]

    def instances_on_host(self, host: str) -> list[InstanceRecord]:
        """``InstanceList.get_by_host_and_node``: the host's instances that are not deleted."""
        return [_instance(r) for r in self._x(
            f"SELECT {_INSTANCE_COLS} FROM instances WHERE host = ? AND vm_state != 'deleted'",
            (host,))]

    def instance_hosts(self) -> dict[str, str]:
        """{uuid: host} of every instance that is not deleted."""
        return dict(self._x("SELECT uuid, host FROM instances WHERE vm_state != 'deleted'"))

    # ------------------------------------------------------------ migrations

    def migration(self, uuid: str) -> MigrationRecord | None:
        row = self._x(f"SELECT {_MIGRATION_COLS} FROM migrations WHERE uuid = ?", (uuid,)).fetchone()
        return None if row is None else _migration(row)

    def create_migration(self, m: MigrationRecord) -> None:
        cur = self._x(
            "INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute, "
            "dest_compute, old_flavor, new_flavor, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (m.uuid, m.instance_uuid, m.migration_type, m.source_compute, m.dest_compute,
             m.old_flavor, m.new_flavor, m.status))
        m.id = cur.lastrowid

    def save_migration_status(self, m: MigrationRecord) -> None:
        """``Migration.save()`` of the one field steps change (no compare-and-swap, as in Nova)."""
        self._x("UPDATE migrations SET status = ? WHERE uuid = ?", (m.status, m.uuid))

    def save_source_cleaned(self, m: MigrationRecord) -> None:
        """The source's clean-up of an evacuation ran (:attr:`MigrationRecord.source_cleaned`)."""
        self._x("UPDATE migrations SET source_cleaned = ? WHERE uuid = ?",
                (int(m.source_cleaned), m.uuid))

    def migration_count(self) -> int:
        return self._x("SELECT count(*) FROM migrations").fetchone()[0]

    def in_progress_by_instance(self, instance_uuid: str) -> MigrationRecord | None:
        """``migration_get_in_progress_by_instance``: the newest migration not over."""
        row = self._x(self._sql_in_progress, (instance_uuid,)).fetchone()
        return None if row is None else _migration(row)

    def migrations_by_host(self, host: str, excluded: frozenset[str]) -> list[MigrationRecord]:
        """``migration_get_in_progress_by_host_and_node``: migrations from or to ``host``
        whose status is not in ``excluded``, oldest first."""
        marks = ", ".join("?" * len(excluded))
        return [_migration(r) for r in self._x(
            f"SELECT {_MIGRATION_COLS} FROM migrations WHERE (source_compute = ? OR "
            f"dest_compute = ?) AND status NOT IN ({marks}) ORDER BY id",
            (host, host, *excluded))]

    def evacuations_from(self, host: str) -> list[MigrationRecord]:
        """Evacuations whose source is ``host``, oldest first (``_destroy_evacuated_instances``)."""
        return [_migration(r) for r in self._x(
            f"SELECT {_MIGRATION_COLS} FROM migrations WHERE source_compute = ? AND "
            "migration_type = 'evacuation' ORDER BY id", (host,))]

    def newest_migration(self, instance_uuid: str) -> MigrationRecord | None:
        """The instance's newest migration record, whatever its status."""
        row = self._x(f"SELECT {_MIGRATION_COLS} FROM migrations WHERE instance_uuid = ? "
                      "ORDER BY id DESC LIMIT 1", (instance_uuid,)).fetchone()
        return None if row is None else _migration(row)

    def evacuations_of(self, instance_uuid: str) -> list[MigrationRecord]:
        """The instance's evacuations, oldest first."""
        return [_migration(r) for r in self._x(
            f"SELECT {_MIGRATION_COLS} FROM migrations WHERE instance_uuid = ? AND "
            "migration_type = 'evacuation' ORDER BY id", (instance_uuid,))]

    def cleaned_evacuations(self, host: str) -> list[MigrationRecord]:
        """Evacuations from or to ``host`` that are their instance's newest migration and
        whose source has cleaned up, oldest first: the source's clean-up may come
        before the rebuild finishes (``_destroy_evacuated_instances``, bug 1764883)."""
        return [_migration(r) for r in self._x(
            f"SELECT {_MIGRATION_COLS} FROM migrations AS m WHERE (source_compute = ? OR "
            "dest_compute = ?) AND migration_type = 'evacuation' AND source_cleaned = 1 AND "
            "id = (SELECT max(id) FROM migrations WHERE instance_uuid = m.instance_uuid) "
            "ORDER BY id", (host, host))]

    def migration_statuses(self) -> dict[str, str]:
        return dict(self._x("SELECT uuid, status FROM migrations ORDER BY id"))

    # ------------------------------------------------------------ compute nodes

    def host_up(self, host: str) -> bool:
        return bool(self._x("SELECT up FROM compute_nodes WHERE host = ?", (host,)).fetchone()[0])

    def set_host_up(self, host: str, up: bool) -> None:
        self._x("UPDATE compute_nodes SET up = ? WHERE host = ?", (int(up), host))

    def compute_node(self, host: str) -> tuple[list[int], dict[str, str | None]]:
        """The usage vector and PCI pool the host's tracker last saved."""
        row = self._x("SELECT vcpus_used, memory_mb_used, local_gb_used, pci_devices FROM "
                      "compute_nodes WHERE host = ?", (host,)).fetchone()
        return [row[0], row[1], row[2]], json.loads(row[3])

    def save_compute_node(self, host: str, usage: list[int], pci: dict[str, str | None] | None) -> None:
        """``ComputeNode.save()``; ``pci`` None leaves the pool as it is."""
        if pci is None:
            self._x("UPDATE compute_nodes SET vcpus_used = ?, memory_mb_used = ?, "
                    "local_gb_used = ? WHERE host = ?", (usage[0], usage[1], usage[2], host))
        else:
            self._x("UPDATE compute_nodes SET vcpus_used = ?, memory_mb_used = ?, "
                    "local_gb_used = ?, pci_devices = ? WHERE host = ?",
                    (usage[0], usage[1], usage[2], json.dumps(pci), host))


# ---------------------------------------------------------------- helpers


class _Transaction:
    """The store's re-entrant transaction: the outermost use takes the store's lock
    and runs BEGIN ... COMMIT (ROLLBACK if the body raises).  A class rather than
    a generator-based context manager: every step enters it several times."""

    __slots__ = ("store",)

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        store.lock.acquire()
        if store._depth == 0:
            try:
                store._x("BEGIN")
            except BaseException:
                store.lock.release()
                raise
        store._depth += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        store = self.store
        try:
            store._depth -= 1
            if store._depth == 0:
                store._x("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            store.lock.release()


def _connect(path: str) -> sqlite3.Connection:
    try:
        # isolation_level=None: transactions are explicit (Store.transaction);
        # check_same_thread=False: the store's lock serialises the threads.
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        raise InputError(f"cannot open database {path}: {e}") from None


def _tables(conn: sqlite3.Connection, path: str) -> set[str]:
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        conn.close()
        raise InputError(f"{path} is not a movecheck model database ({e}); it was left untouched") \
            from None


def _check_ours(conn: sqlite3.Connection, path: str) -> None:
    tables = _tables(conn, path)
    marker = None
    if "movecheck_meta" in tables:
        row = conn.execute("SELECT value FROM movecheck_meta WHERE key = 'schema'").fetchone()
        marker = row and row[0]
    if marker != SCHEMA_MARKER:
        conn.close()
        raise InputError(f"{path} is a database but not a movecheck model database "
                         f"(schema {marker or 'unknown'}); it was left untouched")


def _tune(conn: sqlite3.Connection, path: str) -> None:
    if path != ":memory:":
        # WAL + synchronous=NORMAL: every committed step survives a killed
        # process (the fault test), without an fsync per step.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
