"""Database server backends: where a store's database and user are created.

``MySQLBackend`` speaks to a registered MySQL/MariaDB server through its admin
URL (the DDL identity); ``SQLiteBackend`` keeps each store in a file (the
embedded default). Both offer the same operations, each idempotent, so the
provisioning saga can repeat any step after a crash.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tenancy.db import make_engine
from tenancy.names import grant_pattern, validate_name

RUNTIME_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
UNKNOWN_THREAD = 1094
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
STATS_MAX_AGE = 30.0

log = logging.getLogger(__name__)


class ServerError(RuntimeError):
    """The database server refused or failed an operation."""


@dataclass(frozen=True)
class ServerStats:
    """How busy a server is, for placement: bytes of data, open connections."""

    size_bytes: int = 0
    connections: int = 0
    max_connections: int = 0


class DatabaseBackend:
    kind = "abstract"

    def create_database(self, name: str) -> None: ...
    def drop_database(self, name: str) -> None: ...
    def database_exists(self, name: str) -> bool: ...
    def create_user(self, user: str, password: str) -> None: ...
    def drop_user(self, user: str) -> None: ...
    def user_exists(self, user: str) -> bool: ...
    def grant(self, user: str, database: str) -> None: ...
    def set_password(self, user: str, password: str) -> None: ...
    def limit_connections(self, user: str) -> bool: ...
    def runtime_url(self, database: str, user: str, password: str) -> URL: ...
    def ddl_url(self, database: str) -> URL: ...

    def stats(self, max_age: float = 0.0) -> ServerStats:
        return ServerStats()

    def ddl_engine(self, database: str) -> Engine:
        """A short-lived engine under the DDL identity, bound to one store database."""
        return make_engine(self.ddl_url(database), poolclass=NullPool)

    def dispose(self) -> None:
        pass


class MySQLBackend(DatabaseBackend):
    kind = "mysql"

    def __init__(self, admin_url: str | URL, user_host: str = "%", max_user_connections: int = 0):
        self.admin_url = make_url(admin_url)
        if self.admin_url.get_backend_name() != "mysql":
            raise ServerError("a MySQL server needs a mysql+pymysql:// admin URL")
        self.user_host = user_host
        # The server's own cap on each store user (0: the server's default),
        # the backstop behind the connection budget (tenancy/budget.py).
        self.max_user_connections = max_user_connections
        self._engine = make_engine(self.admin_url, pool_size=2, max_overflow=4)
        self._stats: tuple[float, ServerStats] | None = None

    def _run(self, sql: str, params: dict | None = None) -> None:
        with self._engine.begin() as conn:
            conn.execute(text(sql), params or {})

    def _rows(self, sql: str, params: dict | None = None) -> list:
        with self._engine.connect() as conn:
            return conn.execute(text(sql), params or {}).fetchall()

    def create_database(self, name):
        self._run(
            f"CREATE DATABASE IF NOT EXISTS `{validate_name(name)}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )

    def drop_database(self, name):
        self._run(f"DROP DATABASE IF EXISTS `{validate_name(name)}`")

    def database_exists(self, name):
        rows = self._rows(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n", {"n": name}
        )
        return bool(rows)

    def create_user(self, user, password):
        params = {"u": validate_name(user), "h": self.user_host, "p": password}
        # IF NOT EXISTS keeps a retry idempotent; ALTER makes the password match.
        self._run("CREATE USER IF NOT EXISTS :u@:h IDENTIFIED BY :p", params)
        self._run("ALTER USER :u@:h IDENTIFIED BY :p" + self._limits(), params)

    def drop_user(self, user):
        self._run("DROP USER IF EXISTS :u@:h", {"u": validate_name(user), "h": self.user_host})

    def user_exists(self, user):
        rows = self._rows(
            "SELECT 1 FROM mysql.user WHERE User = :u AND Host = :h",
            {"u": user, "h": self.user_host},
        )
        return bool(rows)

    def grant(self, user, database):
        self._run(
            f"GRANT {RUNTIME_PRIVILEGES} ON `{grant_pattern(database)}`.* TO :u@:h",
            {"u": validate_name(user), "h": self.user_host},
        )

    def set_password(self, user, password):
        self._run(
            "ALTER USER :u@:h IDENTIFIED BY :p" + self._limits(),
            {"u": validate_name(user), "h": self.user_host, "p": password},
        )

    def limit_connections(self, user: str) -> bool:
        """Apply ``max_user_connections`` to an existing user; False if it is 0 (off)."""
        if not self.max_user_connections:
            return False
        self._run(
            "ALTER USER :u@:h" + self._limits(), {"u": validate_name(user), "h": self.user_host}
        )
        return True

    def user_connection_limit(self, user: str) -> int | None:
        rows = self._rows(
            "SELECT max_user_connections FROM mysql.user WHERE User = :u AND Host = :h",
            {"u": user, "h": self.user_host},
        )
        return int(rows[0][0]) if rows else None

    def _limits(self) -> str:
        n = int(self.max_user_connections)
        return f" WITH MAX_USER_CONNECTIONS {n}" if n > 0 else ""

    def kill_sessions(self, user: str) -> int:
        """End the user's open connections (after a password change or a move)."""
        rows = self._rows(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = :u", {"u": user}
        )
        killed = 0
        for (thread_id,) in rows:
            try:
                self._run(f"KILL CONNECTION {int(thread_id)}")
                killed += 1
            except DBAPIError as exc:
                # 1094: the session ended by itself. Anything else (no CONNECTION
                # ADMIN) leaves a session with the old password open: say so.
                if exc.orig is None or exc.orig.args[0] != UNKNOWN_THREAD:
                    log.warning(
                        "could not end session %s of %s: %s", thread_id, user, exc.orig or exc
                    )
        return killed

    def lock_user(self, user: str) -> None:
        """No new connection as *user* (open ones stay: ``end_sessions``)."""
        self._run("ALTER USER :u@:h ACCOUNT LOCK", {"u": validate_name(user), "h": self.user_host})

    def unlock_user(self, user: str) -> None:
        self._run(
            "ALTER USER IF EXISTS :u@:h ACCOUNT UNLOCK",
            {"u": validate_name(user), "h": self.user_host},
        )

    def missing_session_privileges(self) -> list[str]:
        """What the admin identity lacks to see (PROCESS) and end (CONNECTION
        ADMIN, or SUPER) other users' sessions."""
        rows = self._rows(
            "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = "
            "CONCAT(QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', 1)), '@', "
            "QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)))"
        )
        granted = {row[0] for row in rows}
        missing = [] if "PROCESS" in granted else ["PROCESS"]
        if not granted & {"CONNECTION ADMIN", "SUPER"}:
            missing.append("CONNECTION ADMIN")
        return missing

    def end_sessions(self, user: str, timeout: float = 10.0) -> None:
        """Kill the user's connections and wait until the server has ended them:
        a killed session may still be committing or rolling back for a moment."""
        deadline = time.monotonic() + timeout
        while True:
            self.kill_sessions(user)
            left = self._rows(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = :u", {"u": user}
            )[0][0]
            if not left:
                return
            if time.monotonic() > deadline:
                raise ServerError(f"{left} sessions of {user} did not end in {timeout:.0f} s")
            time.sleep(0.01)

    def stats(self, max_age: float = STATS_MAX_AGE) -> ServerStats:
        """Data size and connections, at most *max_age* seconds old (placement
        asks at every create; the size query grows with the server's tables)."""
        cached = self._stats
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        status = dict(self._rows("SHOW GLOBAL STATUS LIKE 'Threads_connected'"))
        limit = self._rows("SELECT @@max_connections")[0][0]
        stats = ServerStats(self._data_size(), int(status.get("Threads_connected", 0)), int(limit))
        self._stats = (time.monotonic(), stats)
        return stats

    def _data_size(self) -> int:
        # InnoDB's own list of file-per-table tablespaces: no table is opened
        # (information_schema.TABLES opens every table: ~0.1 ms each).
        try:
            return int(
                self._rows(
                    "SELECT COALESCE(SUM(ALLOCATED_SIZE), 0) "
                    "FROM information_schema.INNODB_SYS_TABLESPACES "
                    "WHERE NAME LIKE '%/%' AND NAME NOT LIKE 'mysql/%'"
                )[0][0]
            )
        except DBAPIError:  # MySQL 8 names it differently; no PROCESS privilege
            schemas = ", ".join(f"'{name}'" for name in SYSTEM_SCHEMAS)
            return int(
                self._rows(
                    "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) "
                    f"FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ({schemas})"
                )[0][0]
            )

    def runtime_url(self, database, user, password):
        return self.admin_url.set(database=database, username=user, password=password)

    def ddl_url(self, database):
        return self.admin_url.set(database=validate_name(database))

    def dispose(self):
        self._engine.dispose()


class SQLiteBackend(DatabaseBackend):
    """Embedded default: one file per store; users and grants do not exist."""

    kind = "sqlite"

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, name: str) -> Path:
        return self.directory / f"{validate_name(name)}.sqlite"

    def create_database(self, name):
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path(name).touch(exist_ok=True)

    def drop_database(self, name):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def database_exists(self, name):
        return self.path(name).exists()

    def create_user(self, user, password):
        validate_name(user)

    def drop_user(self, user):
        pass

    def user_exists(self, user):
        return False

    def grant(self, user, database):
        pass

    def set_password(self, user, password):
        pass

    def limit_connections(self, user: str) -> bool:
        return False

    def stats(self, max_age: float = 0.0) -> ServerStats:
        files = self.directory.glob("*.sqlite*") if self.directory.is_dir() else ()
        return ServerStats(size_bytes=sum(path.stat().st_size for path in files))

    def runtime_url(self, database, user, password):
        return URL.create("sqlite", database=str(self.path(database)))

    def ddl_url(self, database):
        return self.runtime_url(database, "", "")


def backend_for(
    kind: str, admin_url: str, user_host: str = "%", max_user_connections: int = 0
) -> DatabaseBackend:
    if kind == "mysql":
        return MySQLBackend(admin_url, user_host, max_user_connections)
    if kind == "sqlite":
        url = make_url(admin_url)
        return SQLiteBackend(url.database or ".")
    raise ServerError(f"unknown server kind {kind!r}")


def kind_of(url: str) -> str:
    try:
        backend = make_url(url).get_backend_name()
    except Exception:  # noqa: BLE001 -- make_url raises several kinds for a bad URL
        raise ServerError(f"not a database URL: {url.split('@')[-1]!r}") from None
    if backend in {"mysql", "mariadb"}:
        return "mysql"
    if backend == "sqlite":
        return "sqlite"
    raise ServerError(f"unsupported server type {backend!r}: use mysql+pymysql:// or sqlite:///")
