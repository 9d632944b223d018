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

from sqlalchemy import MetaData, String
from sqlalchemy.engine import Connection

from tenancy.backups.archive import BackupError
from tenancy.backups.codec import encode_lines, kind_of
from tenancy.backups.dump import Dump, shared_snapshot

Progress = Callable[[int], None]
# One INSERT ... SELECT FROM JSON_TABLE statement carries at most this much JSON.
STATEMENT_BYTES = 4 * 1024 * 1024


def _truncate_datetime(fsp: int):
    def adapt(v):
        if v is None:
            return v
        return v[:19] + ".000000" if not fsp else v[: 20 + fsp] + "0" * (6 - fsp)

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
        sql = (
            f"INSERT INTO {quote(name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        adapters = [
            (i, a) for i, c in enumerate(columns) if (a := _adapter(self.conn, target.columns[c]))
        ]
        binary = [i for i, k in enumerate(header["kinds"]) if k == "binary"]
        bulk = None if binary else self._json_table_sql(name, columns)
        return {
            "name": name,
            "sql": sql,
            "bulk": bulk,
            "adapters": adapters,
            "binary": binary,
            "stream": hashlib.sha256(),
            "expected": hashlib.sha256(),
            "rows": 0,
        }

    def _json_table_sql(self, name: str, columns: list[str]) -> str | None:
        """``INSERT ... SELECT FROM JSON_TABLE(%s ...)``: MariaDB parses a whole
        block of canonical lines itself, instead of PyMySQL escaping every value.
        Text arrives as LONGTEXT so that only the real column's rules apply."""
        if self.conn.dialect.name != "mysql":
            return None
        quote = self.conn.dialect.identifier_preparer.quote
        table = self.target[name]
        fields = []
        for i, column_name in enumerate(columns):
            column_type = table.columns[column_name].type
            if isinstance(column_type, String):
                sql_type = "LONGTEXT"
            else:
                sql_type = column_type.compile(dialect=self.conn.dialect)
            fields.append(f"c{i} {sql_type} PATH '$[{i}]'")
        return (
            f"INSERT INTO {quote(name)} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {', '.join(f'c{i}' for i in range(len(columns)))} "
            f"FROM JSON_TABLE(%s, '$[*]' COLUMNS ({', '.join(fields)})) AS batch"
        )

    def _rows(self, cursor, table: dict | None, block: bytes) -> None:
        if table is None:
            raise BackupError("backup stream has rows before any table")
        table["stream"].update(block)
        if table["bulk"] is not None:
            self._bulk_rows(cursor, table, block)
            return
        rows = _parse(block)
        _expect(table, block, rows)
        params = rows
        if table["binary"]:
            params = [list(r) for r in rows]
            for row in params:
                for i in table["binary"]:
                    row[i] = None if row[i] is None else base64.b64decode(row[i])
        cursor.executemany(table["sql"], params)
        table["rows"] += len(rows)
        self.on_rows(len(rows))

    def _bulk_rows(self, cursor, table: dict, block: bytes) -> None:
        count = block.count(b"\n")
        if table["adapters"]:
            _expect(table, block, _parse(block))
        else:
            table["expected"].update(block)
        for piece in _pieces(block, STATEMENT_BYTES):
            cursor.execute(
                table["bulk"], ("[" + piece[:-1].replace(b"\n", b",").decode("utf-8") + "]",)
            )
            if cursor.warning_count:
                cursor.execute("SHOW WARNINGS LIMIT 1")
                level, code, message = cursor.fetchone()
                raise BackupError(
                    f"table {table['name']}: the database refused a value "
                    f"({level} {code}: {message})"
                )
        table["rows"] += count
        self.on_rows(count)

    def _finish(self, table: dict | None) -> None:
        if table is None:
            return
        self.conn.connection.dbapi_connection.commit()
        name, rows = table["name"], table["rows"]
        self.stream[name] = {"rows": rows, "sha256": table["stream"].hexdigest()}
        self.expected[name] = {"rows": rows, "sha256": table["expected"].hexdigest()}


def _pieces(block: bytes, limit: int) -> Iterable[bytes]:
    """The block in runs of whole lines of at most *limit* bytes (or one line)."""
    if len(block) <= limit:
        yield block
        return
    start = 0
    while start < len(block):
        end = block.rfind(b"\n", start, start + limit)
        if end < start:
            end = block.index(b"\n", start)
        yield block[start : end + 1]
        start = end + 1


def check_manifest(stream: dict[str, dict], manifest: dict) -> None:
    """The rows read from the backup are exactly the rows the manifest describes."""
    tables = manifest.get("tables", {})
    if set(tables) != set(stream):
        raise BackupError(
            f"backup tables {sorted(stream)} differ from its manifest {sorted(tables)}"
        )
    for name, stats in tables.items():
        if stream[name]["rows"] != stats["rows"]:
            raise BackupError(
                f"table {name}: {stream[name]['rows']} rows in the backup, "
                f"manifest says {stats['rows']}"
            )
        if stream[name]["sha256"] != stats["sha256"]:
            raise BackupError(f"table {name}: checksum differs from the manifest")


def check_target(conn: Connection, expected: dict[str, dict]) -> None:
    """Read the new database back and compare counts and SHA-256 per table
    (on two connections where the server allows, as a backup reads)."""
    with shared_snapshot(conn) as readers:
        dump = Dump(conn, helpers=readers[1:])
        for _event in dump.events():
            pass
    for name, stats in expected.items():
        got = dump.tables.get(name)
        if got is None or got["rows"] != stats["rows"]:
            raise BackupError(
                f"table {name}: {got and got['rows']} rows restored, expected {stats['rows']}"
            )
        if got["sha256"] != stats["sha256"]:
            raise BackupError(f"table {name}: restored rows differ from the backup")


def _parse(block: bytes) -> list[list]:
    """The rows of a block of canonical lines."""
    return json.loads(b"[" + block[:-1].replace(b"\n", b",") + b"]")


def _expect(table: dict, block: bytes, rows: list[list]) -> None:
    """Hash what the target must hold: the block, or its rows as the adapters change them."""
    changed = False
    for i, adapt in table["adapters"]:
        for row in rows:
            value = adapt(row[i])
            if value != row[i]:
                row[i], changed = value, True
    table["expected"].update(encode_lines(rows).encode("utf-8") if changed else block)
