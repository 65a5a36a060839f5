"""The real OpenStack Placement service, in-process: WSGI app, fresh database, REST calls.

This is the set-up Placement's own test fixtures use
(``placement/tests/functional/fixtures/placement.py`` ``PlacementFixture`` and
``placement/tests/fixtures.py`` ``Database``): an oslo.config ``ConfigOpts``
with ``[placement_database] connection`` (in-memory SQLite by default) and
``[api] auth_strategy = noauth2``, tables from ``migration.create_schema``
(``create_all``), and ``placement.deploy.loadapp(conf)``, documented as the
public way to build the app "from fixtures or arbitrary WSGI frameworks".
Requests are plain WSGI calls (``webob.Request.blank(...).get_response``): no
socket, no HTTP server, no keystone.

``placement.db_api.configure`` runs once per process, so there is one
:class:`PlacementService` per process and database URL; :meth:`reset` swaps
in a brand-new empty database in 10-20 ms (what the ``Database`` fixture does
through oslo.db: new engine, ``create_all``, ``patch_engine``, re-sync of the
standard traits and resource classes).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from movecheck.spec.errors import InputError

#: Environment variable naming the database URL (default: in-memory SQLite).
DB_URL_ENV = "MOVECHECK_PLACEMENT_DB"
DEFAULT_DB_URL = "sqlite://"

#: Placement logs a WARNING for every refused allocation
#: (``placement/objects/allocation.py`` ``_check_capacity_exceeded``) and for
#: every over-capacity inventory; refusals are ordinary outcomes here, so
#: these loggers are raised to ERROR to keep command output clean.
_QUIET_LOGGERS = ("placement", "oslo_db", "oslo_policy", "oslo.policy", "oslo_config",
                  "keystonemiddleware", "stevedore", "alembic")


def quiet_placement_logging() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _import_placement():
    """Import Placement lazily; a clear sentence if the extra is not installed."""
    try:
        import webob
        from oslo_config import cfg
        from placement import conf as placement_conf
        from placement import db_api, deploy
        from placement.db.sqlalchemy import migration, models
        from placement.objects import resource_class as rc_obj
        from placement.objects import trait as trait_obj
    except ImportError as e:
        raise InputError(
            f"the placement tracker needs the real OpenStack Placement ({e.name} is missing): "
            "install it with pip install 'movecheck[placement]'"
        ) from None
    return webob, cfg, placement_conf, db_api, deploy, migration, models, rc_obj, trait_obj


class PlacementError(Exception):
    """An unexpected answer from Placement (not a capacity refusal or a conflict)."""


class PlacementService:
    """One in-process Placement: ``call(method, path, body)`` -> (status, json body).

    ``calls`` counts requests and ``seconds`` sums the time spent inside
    Placement's WSGI app (the benchmark's "Placement's own time").
    """

    _instance: PlacementService | None = None

    def __init__(self, db_url: str):
        (self._webob, cfg, placement_conf, self._db_api, self._deploy, self._migration,
         self._models, self._rc_obj, self._trait_obj) = _import_placement()
        quiet_placement_logging()
        self.db_url = db_url
        conf = cfg.ConfigOpts()
        placement_conf.register_opts(conf)
        conf.set_override("connection", db_url, group="placement_database")
        conf.set_override("auth_strategy", "noauth2", group="api")
        conf([], default_config_files=[])  # no command line, no config files
        self.conf = conf
        try:
            self._db_api.configure(conf)
            self._fresh_schema(None)
            self.app = self._deploy.loadapp(conf)
        except Exception as e:  # a bad URL surfaces as any of oslo.db's/SQLAlchemy's errors
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise InputError(f"cannot open the Placement database {db_url!r}: {first_line}") from None
        self.calls = 0
        self.seconds = 0.0
        self._unpatch = None  # undoes the previous reset's patch_engine
        self._engine = None
        #: Every request since the last reset: (method, path, body, status, reply).
        self.log: list[tuple[str, str, Any, int, Any]] = []

    @classmethod
    def get(cls, db_url: str | None = None) -> PlacementService:
        """The process's Placement (``db_api.configure`` is run-once per process)."""
        url = db_url or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL
        if cls._instance is None:
            cls._instance = cls(url)
        elif cls._instance.db_url != url:
            raise InputError(
                f"Placement is already running on {cls._instance.db_url!r} in this process; "
                f"it cannot also use {url!r}"
            )
        return cls._instance

    def _fresh_schema(self, engine) -> None:
        # An in-memory URL gives a new empty database per engine; any other
        # URL keeps its rows, so drop the tables first.
        if engine is not None and self.db_url != "sqlite://":
            self._models.BASE.metadata.drop_all(engine)
        self._migration.create_schema(engine)

    def reset(self) -> None:
        """A brand-new empty database (standard traits and resource classes re-synced)."""
        from oslo_db.sqlalchemy import engines

        if self._unpatch is not None:
            # patch_engine only works on the root factory: undo the last one first.
            self._unpatch()
            self._engine.dispose()
        engine = engines.create_engine(self.db_url)
        self._fresh_schema(engine)
        self._unpatch = self._db_api.placement_context_manager.patch_engine(engine)
        self._engine = engine
        # deploy.update_database syncs os-traits / os-resource-classes once per
        # process unless these flags are cleared.
        self._trait_obj._TRAITS_SYNCED = False
        self._rc_obj._RESOURCE_CLASSES_SYNCED = False
        self._deploy.update_database(self.conf)
        self.log = []

    def call(self, method: str, path: str, body: Any = None,
             microversion: str = "1.28") -> tuple[int, Any]:
        """One REST request; returns (HTTP status, decoded JSON body or None)."""
        req = self._webob.Request.blank(path, method=method)
        req.headers["X-Auth-Token"] = "admin"  # noauth2: user "admin" has the admin role
        req.headers["OpenStack-API-Version"] = f"placement {microversion}"
        req.headers["Accept"] = "application/json"
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = "application/json"
        t0 = time.perf_counter()
        resp = req.get_response(self.app)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        data = resp.json if resp.body else None
        self.log.append((method, path, body, resp.status_int, data))
        return resp.status_int, data

    def expect(self, status: int, method: str, path: str, body: Any = None,
               microversion: str = "1.28") -> Any:
        """A request that must answer ``status``; anything else is a PlacementError."""
        got, data = self.call(method, path, body, microversion)
        if got != status:
            raise PlacementError(f"{method} {path} answered {got} (expected {status}): {data}")
        return data
