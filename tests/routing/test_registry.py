"""The engine registry under threads: never A's engine for B, a hard connection cap.

Traffic round-robins over more stores than the engine cap and the connection
cap; every request asks MariaDB which database and user it is connected as.
A side thread samples the server's PROCESSLIST for this run's store users.
"""

import gc
import itertools
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, literal_column, select, text, update
from sqlalchemy.exc import OperationalError
from webtest import TestApp

from tenancy import operations
from tenancy.control import ControlPlane
from tenancy.directory import TenantDirectory
from tenancy.models import Tenant
from tenancy.registry import EngineRegistry
from tests.conftest import RUN_PREFIX
from tests.routing.conftest import build_app, provision_shops

N_STORES = 20
CAPS = {
    "backoffice.engine_cap": "5",
    "backoffice.server_connection_cap": "6",
    "backoffice.engine_pool_size": "2",
    "backoffice.tenant_cache_ttl": "0.5",
    "backoffice.connection_wait": "20",
}


@pytest.fixture(scope="module")
def stores(mysql_control):
    return provision_shops(mysql_control, N_STORES, customers=False)


@pytest.fixture
def admin(mysql_admin_url):
    engine = create_engine(mysql_admin_url, pool_size=1)
    yield engine
    engine.dispose()


class Sampler(threading.Thread):
    """Samples the server's count of these stores' connections until stopped.

    Only this module's store users (all named ``<run prefix>_...``) are counted:
    other test modules' apps may still hold pooled connections of their own.
    Sessions the server is tearing down (it has already closed their socket, see
    ``BudgetedConnection.close``) are not open connections; on a loaded 2-core
    machine MariaDB lists them as Killed/Busy/Quit for up to ~15 ms.
    """

    def __init__(self, admin, stores):
        super().__init__(daemon=True)
        self.admin, self.peak, self.samples = admin, 0, 0
        self.users = {s.db_user for s in stores}
        self.stop = threading.Event()

    def run(self):
        with self.admin.connect() as conn:
            while not self.stop.is_set():
                users = conn.scalars(
                    text(
                        "SELECT USER FROM information_schema.PROCESSLIST WHERE USER LIKE :p "
                        "AND COMMAND NOT IN ('Killed', 'Busy', 'Quit')"
                    ),
                    {"p": RUN_PREFIX + r"\_%"},
                ).all()
                count = sum(1 for user in users if user in self.users)
                self.peak, self.samples = max(self.peak, count), self.samples + 1
                time.sleep(0.002)


def hammer(wsgi, stores, threads=8, per_thread=60, check=None):
    """Round-robin whoami requests; returns Counter of outcomes and the wrong answers."""
    outcomes, wrong = Counter(), []
    lock = threading.Lock()
    counter = itertools.count()

    def worker():
        app = TestApp(wsgi)
        for _ in range(per_thread):
            store = stores[next(counter) % len(stores)]
            res = app.get(f"/s/{store.slug}/probe/whoami", expect_errors=True)
            with lock:
                outcomes[(store.slug, res.status_int)] += 1
                if res.status_int == 200 and (
                    res.json["database"] != store.database_name or res.json["user"] != store.db_user
                ):
                    wrong.append((store.slug, res.json))
                if res.status_int not in (200, 503):
                    wrong.append((store.slug, res.status, res.text[:200]))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return outcomes, wrong


def test_threads_over_more_stores_than_the_caps(mysql_settings, mysql_control, stores, admin):
    wsgi = build_app(mysql_settings, mysql_control, **CAPS)
    engines = wsgi.registry.engines
    sampler = Sampler(admin, stores)
    sampler.start()
    try:
        outcomes, wrong = hammer(wsgi, stores)
    finally:
        sampler.stop.set()
        sampler.join()
    assert wrong == []
    assert sum(outcomes.values()) == 8 * 60
    assert all(status == 200 for (_slug, status) in outcomes), outcomes
    stats = engines.stats()
    assert stats["engines_created"] > N_STORES  # evictions really happened
    assert stats["engines_evicted"] >= stats["engines_created"] - 5
    assert stats["engines"] <= 5
    assert sampler.samples > 20
    assert 0 < sampler.peak <= 6, sampler.peak
    assert 0 < stats["connections_peak"]["maria"] <= 6
    engines.dispose()
    assert engines.stats()["connections"]["maria"] == 0
    ref = wsgi.registry.directory.by_slug(stores[0].slug)
    assert engines.budget(ref.server_id).underflows == 0


def test_password_rotation_by_another_process(mysql_settings, mysql_control, stores, admin):
    """Within the TTL a request may meet a killed connection: 503, never 500 or B's data."""
    wsgi = build_app(mysql_settings, mysql_control, **{**CAPS, "backoffice.tenant_cache_ttl": "60"})
    app = TestApp(wsgi)
    target, others = stores[0], stores[1:4]
    for store in [target, *others]:
        assert app.get(f"/s/{store.slug}/probe/whoami").json["database"] == store.database_name
    # "Another process" without Redis: a control plane of its own, whose "store
    # changed" reaches no other process (tests/routing/test_store_events.py: with).
    other = ControlPlane(mysql_settings)
    with other.session() as session:
        operations.rotate_password(other, session, target.slug)
    other.dispose()
    res = app.get(f"/s/{target.slug}/probe/whoami", expect_errors=True)
    assert res.status_int == 503, res.text
    assert res.headers["Retry-After"]
    assert "Traceback" not in res.text and target.database_name not in res.text
    # The 503 invalidated the cached lookup and engine: the next request works.
    res = app.get(f"/s/{target.slug}/probe/whoami")
    assert (res.json["database"], res.json["user"]) == (target.database_name, target.db_user)
    for store in others:
        assert app.get(f"/s/{store.slug}/probe/whoami").json["database"] == store.database_name
    ref = wsgi.registry.directory.by_slug(target.slug)
    assert wsgi.registry.engines.budget(ref.server_id).underflows == 0


def test_rotation_and_move_under_concurrent_traffic(
    mysql_settings, mysql_control, mysql_admin_url, stores, admin
):
    wsgi = build_app(mysql_settings, mysql_control, **CAPS)
    engines = wsgi.registry.engines
    rotated, moved = stores[5], stores[6]
    server_name = f"maria-{RUN_PREFIX}-{time.monotonic_ns() % 100000}"
    done = threading.Event()

    def operator():
        time.sleep(0.3)
        with mysql_control.session() as session:
            operations.rotate_password(mysql_control, session, rotated.slug)
        time.sleep(0.3)
        with mysql_control.session() as session:
            # A move to another registered server (the same MariaDB under another name).
            server = mysql_control.add_server(session, server_name, mysql_admin_url)
            tenant = session.get(Tenant, moved.id)
            session.execute(
                update(Tenant)
                .where(Tenant.id == moved.id)
                .values(server_id=server.id, version=tenant.version + 1)
            )
            session.commit()
            mysql_control.backend(tenant.server).kill_sessions(moved.db_user)
        done.set()

    op = threading.Thread(target=operator)
    op.start()
    outcomes, wrong = hammer(wsgi, stores[4:12], threads=8, per_thread=80)
    op.join()
    assert done.is_set()
    assert wrong == []  # every 200 was the store's own database and user; only 200 or 503
    unavailable = {slug for (slug, status) in outcomes if status == 503}
    assert unavailable <= {rotated.slug, moved.slug}, outcomes
    # After the TTL every store answers, the moved one through its new server's budget.
    time.sleep(0.6)
    app = TestApp(wsgi)
    for store in stores[4:12]:
        res = app.get(f"/s/{store.slug}/probe/whoami")
        assert (res.json["database"], res.json["user"]) == (store.database_name, store.db_user)
    stats = engines.stats()
    assert stats["connections_peak"].get(server_name, 0) >= 1
    assert max(stats["connections_peak"].values()) <= 6


def test_budget_follows_the_socket(mysql_settings, mysql_control, stores, admin):
    """dispose, invalidate, a server-side kill, a failed connect and GC all give the slot back."""
    registry = EngineRegistry(mysql_control.keyring, {**mysql_settings, **CAPS})
    directory = TenantDirectory(mysql_control, ttl=60)
    refs = [directory.by_slug(s.slug) for s in stores[12:15]]
    budget = registry.budget(refs[0].server_id, refs[0].server_name)
    users = [s.db_user for s in stores[12:15]]

    def on_server():
        with admin.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER IN (:a, :b, :c)"
                ),
                dict(zip("abc", users, strict=True)),
            )

    with registry.lease(refs[0]) as engine, engine.connect() as c1, engine.connect() as c2:
        c1.execute(text("SELECT 1")), c2.execute(text("SELECT 1"))
        assert budget.open == 2 == on_server()
        c2.invalidate()  # a hard invalidation closes the socket
        assert budget.open == 1 == on_server()
    assert budget.open == 1  # one pooled connection stays open, still counted
    registry.invalidate(refs[0].id)  # retire + dispose
    assert budget.open == 0 == on_server()

    # Server-side kill: the count drops when the client notices, never below 0.
    with registry.lease(refs[1]) as engine:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with mysql_control.session() as session:
            backend = mysql_control.backend(mysql_control.server(session, "maria"))
        backend.kill_sessions(refs[1].db_user)
        with pytest.raises(OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert budget.open == 0

    # A failed connect (wrong password) takes and gives back its slot.
    bad = type(refs[2])(
        **{
            **refs[2].__dict__,
            "version": refs[2].version + 1,
            "db_password_encrypted": mysql_control.keyring.encrypt_text(
                "wrong", context=refs[2].password_context
            ),
        }
    )
    with registry.lease(bad) as engine, pytest.raises(OperationalError):
        engine.connect()
    assert budget.open == 0
    registry.invalidate(refs[2].id)  # forget the bad engine (it is the newer version)

    # A connection dropped without close (leaked by a careless caller) is released by GC.
    with registry.lease(refs[2]) as engine:
        raw = engine.raw_connection()
        dbapi = raw.dbapi_connection
        raw.detach()
        del raw
    assert budget.open == 1
    del dbapi
    gc.collect()
    assert budget.open == 0 == on_server()
    registry.dispose()
    assert budget.underflows == 0


def test_capacity_error_is_a_503(mysql_settings, mysql_control, stores, caplog):
    wsgi = build_app(
        mysql_settings,
        mysql_control,
        **{
            **CAPS,
            "backoffice.server_connection_cap": "1",
            "backoffice.engine_pool_size": "1",
            "backoffice.connection_wait": "0.3",
        },
    )
    app, engines = TestApp(wsgi), wsgi.registry.engines
    holder = wsgi.registry.directory.by_slug(stores[16].slug)
    with engines.lease(holder) as engine, engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # the one slot, checked out and busy
        for path in (
            f"/s/{stores[17].slug}/probe/whoami",
            f"/s/{stores[17].slug}/api/probe/customer/1",
        ):
            res = app.get(path, expect_errors=True)
            assert res.status_int == 503 and res.headers["Retry-After"]
            assert "Traceback" not in res.text
    # The log says where the slots are: the holder's, and the one this request opens.
    assert "1 of 1 open, 2 checked out (in use or being opened), 0 idle in pools" in caplog.text
    # The slot is free again: the same request now works.
    assert app.get(f"/s/{stores[17].slug}/probe/whoami").json["database"] == (
        stores[17].database_name
    )
    assert engines.stats()["connections_peak"]["maria"] == 1


def test_release_is_by_engine_not_by_version(mysql_settings, mysql_control, stores):
    """An old request's release must not be credited to the engine that replaced it."""
    registry = EngineRegistry(mysql_control.keyring, {**mysql_settings, **CAPS})
    ref = TenantDirectory(mysql_control).by_slug(stores[18].slug)
    old = registry.acquire(ref)
    registry.invalidate(ref.id)  # e.g. a 503 after a killed connection
    new = registry.acquire(ref)  # same version, a fresh engine
    assert new is not old
    registry.release(old)  # the first request ends
    entry = registry._entries[ref.id]
    assert entry.engine is new and entry.leases == 1
    registry.release(new)
    assert entry.leases == 0
    # An older snapshot gets the newer engine rather than rebuilding the old one.
    newer = type(ref)(**{**ref.__dict__, "version": ref.version + 1})
    engine = registry.acquire(newer)
    assert registry.acquire(ref) is engine
    registry.release(engine), registry.release(engine)
    with pytest.raises(TypeError):
        registry.release(ref)
    registry.dispose()


def test_a_servers_engines_share_one_dialect_and_statement_cache(
    mysql_settings, mysql_control, stores
):
    """The first engine of a server initialises the dialect; the next stores'
    engines reuse it and its compiled statements, yet each connects as its own
    user to its own database with the same connection settings (SET NAMES)."""
    registry = EngineRegistry(mysql_control.keyring, {**mysql_settings, **CAPS})
    directory = TenantDirectory(mysql_control)
    refs = [directory.by_slug(s.slug) for s in stores[:3]]
    query = text(
        "SELECT CURRENT_USER(), DATABASE(), @@character_set_connection, @@collation_connection"
    )
    seen, engines = [], []
    for ref in refs:
        engine = registry.acquire(ref)
        engines.append(engine)
        with engine.connect() as conn:
            seen.append(conn.execute(query).one())
    first, *others = engines
    assert all(e.dialect is first.dialect for e in others)
    assert first.dialect.server_version_info is not None
    cache = first.get_execution_options()["compiled_cache"]
    assert all(e.get_execution_options()["compiled_cache"] is cache for e in others)
    assert len({id(e.pool) for e in engines}) == 3
    for ref, (user, database, charset, collation) in zip(refs, seen, strict=True):
        assert (user.split("@")[0], database) == (ref.db_user, ref.database_name)
        assert (charset, collation) == seen[0][2:]
    assert seen[0][2] == "utf8mb4"
    # A statement compiled for one store is not compiled again for the next.
    before = len(cache)
    with engines[1].connect() as conn:
        conn.execute(select(literal_column("7").label("x"))).all()
    grown = len(cache)
    with engines[2].connect() as conn:
        assert conn.execute(select(literal_column("7").label("x"))).scalar() == 7
    assert grown == before + 1 and len(cache) == grown
    for engine in engines:
        registry.release(engine)
    registry.dispose()
