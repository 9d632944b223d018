"""Engines for the control database and the helpers every entry point shares."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping

from pymysql.connections import Connection as PyMySQLConnection
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


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


def _connect_pymysql(_dialect, _record, cargs, cparams) -> PyMySQLConnection:
    return SharedContextConnection(*cargs, **cparams)


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
    engine = create_engine(url, **options)
    if url.get_driver_name() == "pymysql":
        event.listen(engine, "do_connect", _connect_pymysql)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
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
