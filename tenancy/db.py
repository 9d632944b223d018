"""Engines for the control database and the helpers every entry point shares."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping

from pymysql.connections import Connection as PyMySQLConnection
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool.base import ResetStyle

from tenancy.speedups.pymysql_datetime import conversions


def engine_options(url: URL) -> dict:
    """Options that make an engine for *url* behave the same everywhere."""
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    options: dict = {"pool_pre_ping": True, "pool_recycle": 3600}
    if url.get_backend_name() == "mysql":
        options["connect_args"] = {"charset": "utf8mb4"}
    return options


def shared_ssl_context(url: URL) -> ssl.SSLContext | None:
    """One TLS context per server: PyMySQL builds a new one per connect (~30 ms)."""
    query = dict(url.query)
    if query.get("ssl", "").lower() not in {"1", "true", "required", "verify"}:
        return None
    context = ssl.create_default_context(cafile=query.get("ssl_ca") or None)
    if query.get("ssl") == "required":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@functools.cache
def preferred_tls_context() -> ssl.SSLContext:
    """The context of PyMySQL's default "preferred" TLS (unverified), built once."""
    context = ssl.create_default_context()
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class SharedContextConnection(PyMySQLConnection):
    """PyMySQL's connection, minus a fresh TLS context (~30 ms) on every connect.

    Without TLS options PyMySQL tries TLS when the server offers it, with a
    new unverified context each time; this shares one such context. Explicit
    TLS options (``?ssl=...``, ``ssl_ca``) take PyMySQL's own path unchanged.
    """

    def _create_ssl_ctx(self, sslp):
        if isinstance(sslp, dict) and not sslp:
            return preferred_tls_context()
        return super()._create_ssl_ctx(sslp)


def _pymysql_connector(options: dict):
    """The engine's ``do_connect``: our connection class, with *options* under the URL's."""

    def connect(_dialect, _record, cargs, cparams) -> PyMySQLConnection:
        return SharedContextConnection(*cargs, **{**options, **cparams})

    return connect


def strip_ssl_query(url: URL) -> URL:
    return url.difference_update_query(["ssl", "ssl_ca"])


def make_engine(url: str | URL, **kw) -> Engine:
    url = make_url(url)
    options = engine_options(url)
    context = shared_ssl_context(url)
    if context is not None:
        options.setdefault("connect_args", {})["ssl"] = context
        url = strip_ssl_query(url)
    options.update(kw)
    engine = reset_only_open_transactions(
        create_engine(url, **{"pool_reset_on_return": None, **options})
    )
    if url.get_driver_name() == "pymysql":
        event.listen(engine, "do_connect", _pymysql_connector(conversions()))
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# On the pool record of a DBAPI connection: whether a transaction may be open.
_MAY_BE_OPEN = "tenancy.transaction_may_be_open"


def reset_only_open_transactions(engine: Engine) -> Engine:
    """The pool's rollback-on-return, skipped when the transaction already ended.

    A Session's close rolls back its transaction, then returns the connection,
    and the pool rolls back again: one more round trip to the server for
    every request (SQLAlchemy only knows to skip it when the Connection
    itself ended the transaction). For an engine made with
    ``pool_reset_on_return=None``, this tracks, per pooled connection, whether
    a transaction may be open: yes on checkout (raw DBAPI use is not seen),
    yes when a Connection begins, no once it committed or rolled back; the
    pool's ``reset`` rolls back only when it may be open.
    """
    if engine.pool._reset_on_return is not ResetStyle.reset_none:
        raise ValueError("reset_only_open_transactions needs pool_reset_on_return=None")

    def checked_out(_dbapi_connection, record, _proxy) -> None:
        record.info[_MAY_BE_OPEN] = True

    def begun(conn) -> None:
        conn.info[_MAY_BE_OPEN] = True  # Connection.info is the pool record's

    def ended(conn) -> None:
        if not conn.invalidated:  # an invalidated connection is never reused
            conn.info[_MAY_BE_OPEN] = False

    def reset(dbapi_connection, record, state) -> None:
        if state.transaction_was_reset or not record.info.get(_MAY_BE_OPEN, True):
            return
        dbapi_connection.rollback()

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "begin", begun)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    event.listen(engine, "reset", reset)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def control_engine(settings: Mapping[str, str]) -> Engine:
    return make_engine(settings["backoffice.control_url"])


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
