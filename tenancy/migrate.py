"""Schema migrations: the control DB, and the fan-out over every store.

Stores are upgraded with Alembic driven directly (no env.py per store): the
script directory is read once and each store costs one DDL connection plus
its own revisions. A failing store is reported and the others go on.

Tenancy does not know the stores' scripts: the store schema it is handed
(``provisioning.StoreSchema``) names them and runs them through this module.
The control database's scripts are named here, as an Alembic package resource:
``migrations.control`` imports ``tenancy.models``, never the other way round.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import inspect, or_, select, update
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.models import Base, Tenant, TenantStatus, utcnow
from tenancy.names import validate_name
from tenancy.provisioning import StoreSchema
from tenancy.speedups import alembic_upgrade

CONTROL_SCRIPTS = "migrations:control"


def script_directory(location: str) -> ScriptDirectory:
    """The scripts at *location*: a directory, or a package resource ("pkg:dir")."""
    return _script_directory(str(location))


@functools.cache
def _script_directory(location: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(location))


def alembic_config(location: str) -> Config:
    config = Config()
    config.set_main_option("script_location", location)
    return config


def head(location: str) -> str:
    return script_directory(location).get_current_head()


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def stamp(conn: Connection, location: str, revision: str = "head") -> str:
    MigrationContext.configure(conn).stamp(script_directory(location), revision)
    return head(location) if revision == "head" else revision


def upgrade(conn: Connection, location: str, target: str = "head") -> str | None:
    script = script_directory(location)
    config = alembic_config(script.dir)
    if alembic_upgrade.SPEEDUP.on():
        alembic_upgrade.run_upgrade(conn, config, script, target)
    else:  # the plain path: the environment's env.py, on this connection
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    # The version table now holds the target: naming it saves two queries per store.
    return _resolved(script, target) or current_revision(conn)


def _resolved(script: ScriptDirectory, target: str) -> str | None:
    """The revision id *target* names, when it names exactly one (else ``None``)."""
    try:
        if target == "head":
            return script.get_current_head()
        revision = script.get_revision(target)
    except (CommandError, RevisionError):  # "-1", "base", several heads: ask the database
        return None
    return revision.revision if revision is not None else None


def init_control(engine: Engine) -> str:
    """Create the control schema on an empty database, or upgrade an existing one."""
    with engine.begin() as conn:
        if "tenants" not in inspect(conn).get_table_names():
            Base.metadata.create_all(conn)
            return stamp(conn, CONTROL_SCRIPTS)
    with engine.begin() as conn:
        return upgrade(conn, CONTROL_SCRIPTS)


@dataclass
class StoreResult:
    slug: str
    ok: bool
    revision: str | None = None
    error: str | None = None
    seconds: float = 0.0


def migrate_store(
    control: ControlPlane, schema: StoreSchema, tenant: Tenant, target: str = "head"
) -> str | None:
    """Upgrade one store's database with *schema*'s scripts."""
    url = control.backend(tenant.server).ddl_url(tenant.database_name)
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            return schema.upgrade(conn, target)
    finally:
        engine.dispose()


def select_stores(
    control: ControlPlane, slugs: Iterable[str] | None
) -> tuple[list[Tenant], list[str]]:
    """The stores to migrate (all active/suspended if *slugs* is None) and unknown slugs."""
    with control.session() as session:
        query = select(Tenant).order_by(Tenant.id)
        if slugs is None:
            query = query.where(Tenant.status.in_([TenantStatus.ACTIVE, TenantStatus.SUSPENDED]))
        else:
            slugs = list(slugs)
            query = query.where(Tenant.slug.in_(slugs))
        tenants = list(session.scalars(query))
        session.expunge_all()
    missing = sorted(set(slugs) - {t.slug for t in tenants}) if slugs is not None else []
    return tenants, missing


def migrate_stores(
    control: ControlPlane,
    schema: StoreSchema,
    tenants: list[Tenant],
    *,
    concurrency: int = 4,
    target: str = "head",
    on_result: Callable[[StoreResult], None] | None = None,
) -> list[StoreResult]:
    """Upgrade *tenants*, *concurrency* at a time; each gets a result, failures included.

    Alembic's ``op`` and ``context`` are process-wide proxies: two migrations in
    threads of one process would send each other's DDL down the wrong store's
    connection. So stores run in worker processes, one migration at a time in
    each; this process only hands out the stores and records the results.
    """
    jobs = [
        (tenant.slug, control.backend(tenant.server).ddl_url(tenant.database_name))
        for tenant in tenants
    ]
    ids = {tenant.slug: tenant.id for tenant in tenants}
    results: dict[str, StoreResult] = {}
    recorder = _Recorder(control)
    try:
        for result in _run(jobs, min(concurrency, len(jobs)), target, schema):
            results[result.slug] = result
            if result.ok:
                recorder.add(ids[result.slug], result.revision)
            if on_result:
                on_result(result)
    finally:
        recorder.flush()
    return [results[slug] for slug, _url in jobs]


def _run(
    jobs: list[tuple[str, URL]], workers: int, target: str, schema: StoreSchema
) -> Iterator[StoreResult]:
    """Results as stores finish: in this process for one worker, else in a pool."""
    if workers <= 1:
        for chunk in _chunks(jobs, CHUNK):
            yield from _migrate_chunk(chunk, target, schema)
        return
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has imported the migration code (and the
    # main module, which multiprocessing would otherwise import in every worker).
    context.set_forkserver_preload(["__main__", __name__])
    # Small chunks keep the workers evenly loaded and the progress live.
    size = max(1, min(CHUNK, len(jobs) // (workers * 4)))
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {
            pool.submit(_migrate_chunk, chunk, target, schema): chunk
            for chunk in _chunks(jobs, size)
        }
        for future in as_completed(futures):
            try:
                yield from future.result()
            except Exception as exc:  # noqa: BLE001 -- the worker itself died (killed, out of memory)
                yield from (
                    StoreResult(slug, False, error=_reason(exc)) for slug, _url in futures[future]
                )


CHUNK = 25


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _migrate_chunk(
    jobs: list[tuple[str, URL]], target: str, schema: StoreSchema
) -> list[StoreResult]:
    """Migrate a few stores, one after the other, reusing a connection per server."""
    engines: dict[URL, Engine] = {}
    try:
        return [_migrate_one(engines, slug, url, target, schema) for slug, url in jobs]
    finally:
        for engine in engines.values():
            engine.dispose()


def _migrate_one(
    engines: dict[URL, Engine], slug: str, url: URL, target: str, schema: StoreSchema
) -> StoreResult:
    started = time.perf_counter()
    try:
        with _store_connection(engines, url) as conn, conn.begin():
            result = StoreResult(slug, True, schema.upgrade(conn, target))
    except Exception as exc:  # noqa: BLE001 -- one store's failure must not stop the others
        result = StoreResult(slug, False, error=_reason(exc))
    result.seconds = time.perf_counter() - started
    return result


def _store_connection(engines: dict[URL, Engine], url: URL) -> Connection:
    """A DDL connection to the store at *url*.

    Stores of one MySQL server share one connection, switched with ``USE``: a
    new engine per store costs a connect and the dialect's start-up queries,
    more than a one-column migration. The engine is private to one chunk and
    serves one store at a time, so its dialect's default schema (what
    reflection such as ``has_table`` falls back to) can follow the ``USE``.
    """
    if url.get_backend_name() != "mysql":
        engine = engines.get(url) or engines.setdefault(url, make_engine(url, poolclass=NullPool))
        return engine.connect()
    key = url.set(database="")
    engine = engines.get(key) or engines.setdefault(
        key, make_engine(key, pool_size=1, max_overflow=0)
    )
    conn = engine.connect()
    database = validate_name(url.database)
    conn.exec_driver_sql(f"USE `{database}`")
    conn.commit()  # ends the autobegun transaction; the migration begins its own
    conn.dialect.default_schema_name = database
    return conn


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


class _Recorder:
    """Writes the stores' new revisions to the control DB in batches.

    The store's own ``alembic_version`` is the truth; the control copy is for
    listings and may lag by one batch if this process dies (a re-run fixes it).
    """

    def __init__(self, control: ControlPlane, batch: int = 200):
        self.control = control
        self.batch = batch
        self.pending: dict[int, str | None] = {}

    def add(self, tenant_id: int, revision: str | None) -> None:
        self.pending[tenant_id] = revision
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        by_revision: dict[str | None, list[int]] = {}
        for tenant_id, revision in self.pending.items():
            by_revision.setdefault(revision, []).append(tenant_id)
        if by_revision:
            with self.control.session() as session:
                for revision, ids in by_revision.items():
                    session.execute(
                        update(Tenant)
                        .where(
                            Tenant.id.in_(ids),
                            or_(
                                Tenant.schema_revision.is_(None), Tenant.schema_revision != revision
                            ),
                        )
                        .values(schema_revision=revision, updated_at=utcnow())
                    )
                session.commit()
        self.pending.clear()
