"""One engine per store, a bounded number of them, and a connection budget per server.

* Engines are kept in LRU order, at most ``backoffice.engine_cap`` of them; an
  evicted engine is disposed (its pooled connections closed).
* Every open connection to a server counts against that server's budget
  (``backoffice.server_connection_cap``). The count follows the socket itself
  (``BudgetedConnection``), not pool events: a connection closed by any path —
  pool dispose, invalidation, a failed connect event, garbage collection —
  gives its slot back exactly once. A store that needs a new connection
  when the budget is spent first closes idle connections of the least recently
  used stores on that server, and otherwise waits (then fails with
  ``CapacityError``, which the web layer turns into a 503).
* An engine is keyed on the store's id *and* version: suspend, password
  rotation, move and restore bump the version, so the old engine is retired
  and never handed out again; a request still holding an older snapshot gets
  the newer engine (same store, newer credentials) instead of rebuilding the
  old one.
* Engines are only disposed while nobody holds a lease on them, so a request
  never has its connection pulled from under it. A lease is returned by engine
  (``release(engine)``), so a lease on a retired engine can never be credited
  to its successor.
"""

from __future__ import annotations

import contextlib
import ssl
import struct
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from pymysql.constants import CLIENT, COMMAND
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import LRUCache

from tenancy.budget import FleetBudget, fleet_budget
from tenancy.db import (
    SharedContextConnection,
    make_engine,
    reset_only_open_transactions,
    shared_ssl_context,
    strip_ssl_query,
)
from tenancy.directory import TenantRef
from tenancy.events import StoreChange
from tenancy.keyring import KeyRing
from tenancy.servers import backend_for
from tenancy.settings import as_int
from tenancy.speedups import pymysql_datetime, shared_dialect
from tenancy.speedups.shared_dialect import SharedDialect

QUIT_WAIT_SECONDS = 1.0


class CapacityError(RuntimeError):
    """A server's connection budget stayed spent for the whole wait."""


class BudgetedConnection(SharedContextConnection):
    """A PyMySQL connection that holds one slot of its server's budget.

    The slot is given back when the socket closes, whichever path closes it
    (``close``, a network error, a failed connect, or garbage collection), and
    only once: the count can neither leak nor go negative.
    """

    def __init__(self, *, budget: ServerBudget, **kwargs):
        self._slot = weakref.finalize(self, budget.release)
        try:
            super().__init__(**kwargs)
        except BaseException:
            self._slot()
            raise

    def close(self):
        """QUIT, then wait (briefly) for the server to hang up before freeing the slot.

        Without the wait the server may still list the session for a few ms after
        the slot is reused, and its ``Threads_connected`` would overshoot the cap.
        """
        if self._sock is not None and not self._closed:
            with contextlib.suppress(Exception):
                self._write_bytes(struct.pack("<iB", 1, COMMAND.COM_QUIT))
                self._sock.settimeout(QUIT_WAIT_SECONDS)
                while self._sock.recv(64):
                    pass
        self._closed = True
        self._force_close()

    def _force_close(self):
        try:
            super()._force_close()
        finally:
            self._slot()


class ServerBudget:
    """How many connections to one server are open, and room for how many more:
    this process' cap first, then (with Redis) the fleet's (``tenancy.budget``)."""

    def __init__(self, cap: int, name: str = "", fleet: FleetBudget | None = None):
        self.cap = cap
        self.name = name
        self.fleet = fleet
        self.open = 0
        self.underflows = 0
        self.peak = 0
        self._leases: list[str] = []  # fleet leases of open connections (interchangeable)
        self._cond = threading.Condition()

    def try_acquire(self) -> bool:
        with self._cond:
            if self.open >= self.cap:
                return False
            self.open += 1
            if self.fleet is None:
                self.peak = max(self.peak, self.open)
                return True
        lease = self.fleet.try_acquire(self.name)
        with self._cond:
            if lease is None:  # the fleet's budget is spent: give the local slot back
                self.open -= 1
                self._cond.notify()
                return False
            self._leases.append(lease)
            self.peak = max(self.peak, self.open)
            return True

    def wait(self, seconds: float) -> None:
        """Until a local slot frees, or *seconds* (the fleet's slots free elsewhere)."""
        with self._cond:
            if self.open >= self.cap or self.fleet is not None:
                self._cond.wait(seconds)

    def release(self) -> None:
        with self._cond:
            if self.open <= 0:  # cannot happen with BudgetedConnection; count it if it does
                self.underflows += 1
                return
            self.open -= 1
            lease = self._leases.pop() if self._leases else None
            self._cond.notify()
        if lease is not None:
            self.fleet.release(self.name, lease)


@dataclass(eq=False)
class _Entry:
    ref: TenantRef
    engine: Engine
    leases: int = 0
    retired: bool = False
    last_used: float = field(default_factory=time.monotonic)


class EngineRegistry:
    def __init__(self, keyring: KeyRing, settings: Mapping[str, str]):
        self.keyring = keyring
        self.engine_cap = as_int(settings, "backoffice.engine_cap", minimum=1)
        self.connection_cap = as_int(settings, "backoffice.server_connection_cap", minimum=1)
        self.pool_size = as_int(settings, "backoffice.engine_pool_size", minimum=1)
        self.wait_seconds = float(settings.get("backoffice.connection_wait", "10"))
        self.fleet = fleet_budget(settings)  # None: no Redis, or no fleet-wide budget
        self.share_dialects = shared_dialect.SPEEDUP.on(settings)
        self.conversions = pymysql_datetime.conversions(settings)
        self._entries: OrderedDict[int, _Entry] = OrderedDict()  # tenant id -> current
        self._leased: dict[Engine, _Entry] = {}  # every engine with leases, current or retired
        self._budgets: dict[int, ServerBudget] = {}
        self._server_urls: dict[tuple[int, str], tuple[URL, ssl.SSLContext | None]] = {}
        self._dialects: dict[tuple[int, str], SharedDialect] = {}
        self._lock = threading.RLock()
        self.created = 0
        self.evicted = 0

    # -- leases ----------------------------------------------------------
    @contextmanager
    def lease(self, ref: TenantRef):
        engine = self.acquire(ref)
        try:
            yield engine
        finally:
            self.release(engine)

    def acquire(self, ref: TenantRef) -> Engine:
        """The store's engine, leased: give it back with ``release(engine)``."""
        doomed: list[Engine] = []
        with self._lock:
            entry = self._entries.get(ref.id)
            if entry is not None and ref.version > entry.ref.version:
                doomed += self._retire(ref.id, entry)
                entry = None
            if entry is None:
                entry = _Entry(ref, self._create_engine(ref))
                self._entries[ref.id] = entry
                self.created += 1
            self._entries.move_to_end(ref.id)
            entry.leases += 1
            entry.last_used = time.monotonic()
            self._leased[entry.engine] = entry
            # Only after the lease: with every older engine leased, eviction
            # must not pick the engine it was just asked for.
            doomed += self._evict_over_cap()
        _dispose(doomed)
        return entry.engine

    def release(self, engine: Engine) -> None:
        if not isinstance(engine, Engine):  # the old release(ref) would credit the wrong engine
            raise TypeError("release() takes the engine acquire() returned")
        with self._lock:
            entry = self._leased.get(engine)
            if entry is None:
                return
            entry.leases -= 1
            if entry.leases > 0:
                return
            del self._leased[engine]
            if not entry.retired:
                return
        entry.engine.dispose()  # retired, and its last request is over

    # Closing connections waits for the server's hang-up (``BudgetedConnection``),
    # so engines are disposed after the registry lock is released: one store's
    # clean-up must not stall every other request of the process.
    def _retire(self, tenant_id: int, entry: _Entry) -> list[Engine]:
        """Take the entry out; returns its engine to dispose if nobody leases it."""
        del self._entries[tenant_id]
        entry.retired = True
        self.evicted += 1
        # A leased engine is disposed by release() when its last lease ends.
        return [entry.engine] if entry.leases == 0 else []

    def _evict_over_cap(self) -> list[Engine]:
        doomed: list[Engine] = []
        if len(self._entries) <= self.engine_cap:
            return doomed  # the common case, without copying a thousand entries
        for tenant_id, entry in list(self._entries.items()):
            if len(self._entries) <= self.engine_cap:
                break
            if entry.leases == 0:
                doomed += self._retire(tenant_id, entry)
        return doomed

    def _free_idle(self, server_id: int, needed_by: int) -> bool:
        """Close the idle connections of the least recently used store on a server.

        Leased engines count too: ``pool.dispose()`` closes only connections
        idle in the pool, never one a request has checked out. Skipping them
        deadlocked a busy server: every slot held by idle connections of
        stores whose requests were themselves waiting for a slot.
        """
        with self._lock:
            victim = next(
                (
                    entry.engine
                    for tenant_id, entry in self._entries.items()
                    if entry.ref.server_id == server_id
                    and tenant_id != needed_by
                    and entry.engine.pool.checkedin() > 0
                ),
                None,
            )
        if victim is None:
            return False
        victim.pool.dispose()  # outside the lock; a racing twin finds nothing to close
        return True

    # -- engines ---------------------------------------------------------
    def budget(self, server_id: int, name: str = "") -> ServerBudget:
        with self._lock:
            budget = self._budgets.get(server_id)
            if budget is None:
                budget = ServerBudget(self.connection_cap, name, self.fleet)
                self._budgets[server_id] = budget
            return budget

    def _server_url(self, ref: TenantRef) -> tuple[URL, ssl.SSLContext | None]:
        """Decrypted admin URL and the server's one shared TLS context."""
        key = (ref.server_id, ref.server_admin_url_encrypted)
        cached = self._server_urls.get(key)
        if cached is None:
            url = make_url(
                self.keyring.decrypt_text(
                    ref.server_admin_url_encrypted, context=f"server:{ref.server_name}:admin_url"
                )
            )
            cached = (strip_ssl_query(url), shared_ssl_context(url))
            self._server_urls[key] = cached
        return cached

    def _create_engine(self, ref: TenantRef) -> Engine:
        password = self.keyring.decrypt_text(
            ref.db_password_encrypted, context=ref.password_context
        )
        if ref.server_kind == "sqlite":
            backend = backend_for(
                "sqlite",
                self.keyring.decrypt_text(
                    ref.server_admin_url_encrypted, context=f"server:{ref.server_name}:admin_url"
                ),
            )
            # make_engine: SQLite's pragmas on every connection (foreign keys, WAL,
            # busy timeout), as the provisioner's and the CLI's engines have them.
            return make_engine(backend.runtime_url(ref.database_name, ref.db_user, password))
        admin_url, context = self._server_url(ref)
        budget = self.budget(ref.server_id, ref.server_name)
        connect_args = {
            "host": admin_url.host or "127.0.0.1",
            "port": admin_url.port or 3306,
            "user": ref.db_user,
            "password": password,
            "database": ref.database_name,
            "charset": "utf8mb4",
            "connect_timeout": 10,
            "budget": budget,
            # What SQLAlchemy's dialect would set: UPDATE counts matched rows, not
            # changed ones; without it an UPDATE to the same value (a second sign-in
            # within one second) reads as a lost row (StaleDataError, a 500).
            "client_flag": CLIENT.FOUND_ROWS,
            **self.conversions,
        }
        if context is not None:
            connect_args["ssl"] = context

        def connect():
            self._take_slot(budget, ref)
            return BudgetedConnection(**connect_args)

        url = admin_url.set(username=ref.db_user, password=None, database=ref.database_name)
        pool = QueuePool(
            connect,
            pool_size=self.pool_size,
            max_overflow=0,
            timeout=self.wait_seconds,
            recycle=3600,
            pre_ping=False,
            reset_on_return=None,
        )
        if not self.share_dialects:  # the plain path: a dialect and a cache per engine
            return reset_only_open_transactions(create_engine(url, pool=pool))
        key = (ref.server_id, ref.server_admin_url_encrypted)
        shared = self._dialects.get(key)
        if shared is not None and shared.dialect.server_version_info is not None:
            return reset_only_open_transactions(shared.engine(url, pool))
        cache = LRUCache(SharedDialect.CACHE_SIZE)
        engine = create_engine(url, pool=pool, execution_options={"compiled_cache": cache})
        # Its first connection initialises the dialect (server version, SQL
        # mode, ...); from then on this server's engines share it and its cache.
        self._dialects[key] = SharedDialect(engine.dialect, cache)
        return reset_only_open_transactions(engine)

    def _take_slot(self, budget: ServerBudget, ref: TenantRef) -> None:
        deadline = time.monotonic() + self.wait_seconds
        while not budget.try_acquire():
            if self._free_idle(ref.server_id, ref.id):
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._capacity_error(budget, ref)
            budget.wait(min(remaining, 0.05))

    def _capacity_error(self, budget: ServerBudget, ref: TenantRef) -> CapacityError:
        """The error, saying where the server's slots are: checked out of the
        pools (requests using them, and this one being opened), idle in pools,
        or neither (connections nobody has closed yet: a leak to look for)."""
        with self._lock:
            entries = {
                id(e.engine): e
                for e in (*self._entries.values(), *self._leased.values())
                if e.ref.server_id == ref.server_id
            }.values()
            in_use = sum(e.engine.pool.checkedout() for e in entries)
            idle = sum(e.engine.pool.checkedin() for e in entries)
            retired = sum(e.retired for e in entries)
        return CapacityError(
            f"no free connection to server {ref.server_name}: {budget.open} of {budget.cap} "
            f"open, {in_use} checked out (in use or being opened), {idle} idle in pools, "
            f"{retired} retired engines still leased"
        )

    # -- reporting and shutdown -----------------------------------------
    def stats(self) -> dict:
        with self._lock:
            return {
                "engines": len(self._entries),
                "retired_engines": sum(1 for e in self._leased.values() if e.retired),
                "engines_created": self.created,
                "engines_evicted": self.evicted,
                "connections": {b.name: b.open for b in self._budgets.values()},
                "connections_peak": {b.name: b.peak for b in self._budgets.values()},
                "connection_cap": self.connection_cap,
                "connection_budget": self.fleet.budget if self.fleet else None,
            }

    def store_changed(self, change: StoreChange | None) -> None:
        """A ``tenancy.events`` subscriber: retire the store's engine. After lost
        messages (None) nothing is retired: engines are keyed on the version, so
        the directory's fresh answers replace them."""
        if change is not None:
            self.invalidate(change.tenant_id)

    def invalidate(self, tenant_id: int) -> None:
        doomed: list[Engine] = []
        with self._lock:
            entry = self._entries.get(tenant_id)
            if entry is not None:
                doomed = self._retire(tenant_id, entry)
        _dispose(doomed)

    def dispose(self) -> None:
        doomed: list[Engine] = []
        with self._lock:
            for tenant_id, entry in list(self._entries.items()):
                doomed += self._retire(tenant_id, entry)
        _dispose(doomed)


def _dispose(engines: list[Engine]) -> None:
    for engine in engines:
        engine.dispose()
