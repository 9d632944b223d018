"""Load canonical rows into a freshly created schema and prove they arrived.

Two checks: the rows read from the stream must hash to the manifest (the
backup is what was written), and the rows read back from the new database
must hash to what was inserted (the database holds what was loaded). The
second hash is usually the first; it differs only where the target keeps
less (a SQLite timestamp with microseconds into a MariaDB ``DATETIME``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable

from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from tenancy.backups.archive import BackupError
from tenancy.backups.codec import encode_lines, kind_of
from tenancy.backups.dump import Dump

Progress = Callable[[int], None]


def _truncate_datetime(fsp: int):
    def adapt(v):
        if v is None:
            return v
        return v[:19] + ".000000" if not fsp else v[:20 + fsp] + "0" * (6 - fsp)

    return adapt


def _adapter(conn: Connection, column) -> Callable | None:
    """What the target keeps of a canonical value (``None``: all of it)."""
    kind = kind_of(column.type)
    if conn.dialect.name == "mysql" and kind == "datetime":
        fsp = getattr(column.type, "fsp", None) or 0
        return _truncate_datetime(fsp) if fsp < 6 else None
    return None


class Loader:
    """Insert the tables of a stream of events; ``expected`` is what to read back."""

    def __init__(self, conn: Connection, *, on_rows: Progress | None = None):
        self.conn = conn
        self.on_rows = on_rows or (lambda n: None)
        metadata = MetaData()
        metadata.reflect(conn)
        self.target = metadata.tables
        self.stream: dict[str, dict] = {}
        self.expected: dict[str, dict] = {}

    def load(self, events: Iterable[tuple[str, object]]) -> None:
        raw = self.conn.connection.dbapi_connection
        cursor = raw.cursor()
        if self.conn.dialect.name == "mysql":
            cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        try:
            table = None
            for kind, payload in events:
                if kind == "table":
                    self._finish(table)
                    table = self._start(payload)
                else:
                    self._rows(cursor, table, payload)
            self._finish(table)
        finally:
            if self.conn.dialect.name == "mysql":
                cursor.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")
            cursor.close()

    def _start(self, header: dict) -> dict:
        name, columns = header["table"], header["columns"]
        target = self.target.get(name)
        if target is None:
            raise BackupError(f"table {name!r} of the backup is not in the new schema")
        missing = [c for c in columns if c not in target.columns]
        if missing:
            raise BackupError(f"columns {missing} of {name!r} are not in the new schema")
        quote = self.conn.dialect.identifier_preparer.quote
        mark = "%s" if self.conn.dialect.paramstyle in {"format", "pyformat"} else "?"
        sql = (f"INSERT INTO {quote(name)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join([mark] * len(columns))})")
        adapters = [(i, a) for i, c in enumerate(columns)
                    if (a := _adapter(self.conn, target.columns[c]))]
        binary = [i for i, k in enumerate(header["kinds"]) if k == "binary"]
        return {"name": name, "sql": sql, "adapters": adapters, "binary": binary,
                "stream": hashlib.sha256(), "expected": hashlib.sha256(), "rows": 0}

    def _rows(self, cursor, table: dict | None, block: bytes) -> None:
        if table is None:
            raise BackupError("backup stream has rows before any table")
        table["stream"].update(block)
        rows = json.loads(b"[" + block[:-1].replace(b"\n", b",") + b"]")
        changed = False
        for i, adapt in table["adapters"]:
            for row in rows:
                value = adapt(row[i])
                if value != row[i]:
                    row[i], changed = value, True
        table["expected"].update(encode_lines(rows).encode("utf-8") if changed else block)
        params = rows
        if table["binary"]:
            params = [list(r) for r in rows]
            for row in params:
                for i in table["binary"]:
                    row[i] = None if row[i] is None else base64.b64decode(row[i])
        cursor.executemany(table["sql"], params)
        table["rows"] += len(rows)
        self.on_rows(len(rows))

    def _finish(self, table: dict | None) -> None:
        if table is None:
            return
        self.conn.connection.dbapi_connection.commit()
        name, rows = table["name"], table["rows"]
        self.stream[name] = {"rows": rows, "sha256": table["stream"].hexdigest()}
        self.expected[name] = {"rows": rows, "sha256": table["expected"].hexdigest()}


def check_manifest(stream: dict[str, dict], manifest: dict) -> None:
    """The rows read from the backup are exactly the rows the manifest describes."""
    tables = manifest.get("tables", {})
    if set(tables) != set(stream):
        raise BackupError(f"backup tables {sorted(stream)} differ from its manifest "
                          f"{sorted(tables)}")
    for name, stats in tables.items():
        if stream[name]["rows"] != stats["rows"]:
            raise BackupError(f"table {name}: {stream[name]['rows']} rows in the backup, "
                              f"manifest says {stats['rows']}")
        if stream[name]["sha256"] != stats["sha256"]:
            raise BackupError(f"table {name}: checksum differs from the manifest")


def check_target(conn: Connection, expected: dict[str, dict]) -> None:
    """Read the new database back and compare counts and SHA-256 per table."""
    dump = Dump(conn)
    for _event in dump.events():
        pass
    for name, stats in expected.items():
        got = dump.tables.get(name)
        if got is None or got["rows"] != stats["rows"]:
            raise BackupError(f"table {name}: {got and got['rows']} rows restored, "
                              f"expected {stats['rows']}")
        if got["sha256"] != stats["sha256"]:
            raise BackupError(f"table {name}: restored rows differ from the backup")
