"""Read a store's database as one consistent snapshot, table by table.

The tables come from reflection (``tenancy`` does not know the store's
models), in foreign-key order, rows in primary-key order, streamed through a
server-side cursor in batches: no table is ever held in memory whole.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal

import pymysql.cursors
from sqlalchemy import MetaData, String, Table, inspect, text
from sqlalchemy.engine import Connection

from tenancy.backups.codec import kind_of, row_encoder

BATCH_ROWS = 5000
SKIPPED_TABLES = {"alembic_version"}


@contextlib.contextmanager
def snapshot(conn: Connection) -> Iterator[Connection]:
    """One REPEATABLE READ transaction with a consistent snapshot (a BEGIN on SQLite)."""
    if conn.dialect.name == "mysql":
        conn.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    else:
        conn.exec_driver_sql("BEGIN")
    try:
        yield conn
    finally:
        conn.rollback()


def store_tables(conn: Connection) -> list[Table]:
    metadata = MetaData()
    names = [n for n in inspect(conn).get_table_names() if n not in SKIPPED_TABLES]
    metadata.reflect(conn, only=names)
    return list(metadata.sorted_tables)


def schema_revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.scalar(text("SELECT version_num FROM alembic_version"))


def select_sql(conn: Connection, table: Table) -> str:
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    order = list(table.primary_key.columns) or list(table.columns)
    keys = []
    for column in order:
        key = quote(column.name)
        # Same order on every dialect: code points, not the server's collation.
        if conn.dialect.name == "mysql" and isinstance(column.type, String):
            key += " COLLATE utf8mb4_bin"
        keys.append(key)
    return f"SELECT {columns} FROM {quote(table.name)} ORDER BY {', '.join(keys)}"


def select_json_sql(conn: Connection, table: Table) -> str:
    """The same rows, each encoded by MariaDB as one JSON array.

    One field per row instead of one per column: PyMySQL's per-field parsing
    in Python is most of the cost of a backup. Text columns are cast so that a
    JSON column stays a string instead of becoming a nested value.
    """
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(
        f"CAST({quote(c.name)} AS CHAR)" if isinstance(c.type, String) else quote(c.name)
        for c in table.columns)
    plain = select_sql(conn, table)
    return f"SELECT JSON_ARRAY({columns}) " + plain[plain.index(" FROM "):]


def stream_rows(conn: Connection, sql: str, batch: int = BATCH_ROWS) -> Iterator[list]:
    """Driver rows in batches from an unbuffered (server-side) cursor."""
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "mysql":
        cursor = raw.cursor(pymysql.cursors.SSCursor)
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


class Dump:
    """The events of one database: a header per table, then its rows as lines.

    After ``events()`` is exhausted, ``tables`` holds each table's row count and
    SHA-256 of its canonical lines.
    """

    def __init__(self, conn: Connection, *, batch: int = BATCH_ROWS):
        self.conn, self.batch = conn, batch
        self.schema = store_tables(conn)
        self.revision = schema_revision(conn)
        self.dialect = conn.dialect.name
        self.tables: dict[str, dict] = {}

    def count_rows(self) -> int:
        quote = self.conn.dialect.identifier_preparer.quote
        return sum(self.conn.scalar(text(f"SELECT COUNT(*) FROM {quote(t.name)}"))
                   for t in self.schema)

    def events(self) -> Iterator[tuple[str, object]]:
        for table in self.schema:
            kinds = [kind_of(c.type) for c in table.columns]
            yield "table", {"table": table.name, "columns": [c.name for c in table.columns],
                            "kinds": kinds}
            encode = row_encoder(kinds)
            digest, count = hashlib.sha256(), 0
            for rows in self._batches(table, kinds):
                block = encode(rows).encode("utf-8")
                digest.update(block)
                count += len(rows)
                yield "rows", block
            self.tables[table.name] = {"rows": count, "sha256": digest.hexdigest()}

    def _batches(self, table: Table, kinds: list[str]) -> Iterator[list]:
        if self.dialect != "mysql" or "binary" in kinds:
            yield from stream_rows(self.conn, select_sql(self.conn, table), self.batch)
            return
        # Exact decimals: a DECIMAL(12,2) arrives as the JSON number 12.50.
        exact = any(k.startswith("numeric") or k == "float" for k in kinds)
        loads = functools.partial(json.loads, parse_float=Decimal) if exact else json.loads
        for rows in stream_rows(self.conn, select_json_sql(self.conn, table), self.batch):
            yield loads("[" + ",".join([r[0] for r in rows]) + "]")
