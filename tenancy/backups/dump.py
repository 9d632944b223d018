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
from sqlalchemy import Integer, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Connection

from tenancy.backups.codec import encode_lines, kind_of, row_encoder

BATCH_ROWS = 5000
FAST_BATCH_ROWS = 20000
# The server builds whole batches of canonical lines (``GROUP_CONCAT``); a
# batch longer than this is halved until it fits.
CHUNK_BYTES = 64 * 1024 * 1024
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
    except BaseException:
        # On a dead connection the rollback fails too; the first error says why.
        with contextlib.suppress(Exception):
            conn.rollback()
        raise
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


def canonical_sql(conn: Connection, table: Table, kinds: list[str]) -> str | None:
    """One batch of canonical lines built by MariaDB itself, or ``None`` when the
    table does not qualify (not MariaDB, no single integer key, or a column kind
    whose canonical text the server does not produce exactly).

    Each row is ``CONCAT('[', ..., ']')`` of its values: integers as digits,
    everything else through ``JSON_QUOTE`` (timestamps, dates and fixed-scale
    decimals first formatted as their canonical strings), NULL as ``null``.
    ``JSON_QUOTE`` escapes like ``codec`` except for the case of ``\\u00XX``
    escapes, which ``canonical_blocks`` re-encodes in Python. The statement is
    a template: ``{low}`` and ``{high}`` bound the batch's key range.
    """
    if conn.dialect.name != "mysql":
        return None
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return None
    quote = conn.dialect.identifier_preparer.quote
    values = []
    for column, kind in zip(table.columns, kinds, strict=True):
        name = quote(column.name)
        if kind == "datetime":
            value = f"JSON_QUOTE(DATE_FORMAT({name}, '%Y-%m-%d %H:%i:%s.%f'))"
        elif kind == "date":
            value = f"JSON_QUOTE(DATE_FORMAT({name}, '%Y-%m-%d'))"
        elif kind.startswith("numeric:"):
            value = f"JSON_QUOTE(CAST({name} AS CHAR))"
        elif kind == "plain" and isinstance(column.type, String):
            value = f"JSON_QUOTE({name})"  # a JSON column is LONGTEXT: quoted as text
        elif kind == "plain" and isinstance(column.type, Integer):
            value = name
        else:
            return None
        values.append(value if column.primary_key else f"IFNULL({value}, 'null')")
    key = quote(keys[0].name)
    row = "CONCAT('[', " + ", ',', ".join(values) + ", ']\\n')"
    # A key range, not ORDER BY ... LIMIT in a derived table: no materialisation.
    # BINARY: PyMySQL hands over the UTF-8 bytes as they came, no decode and
    # re-encode of every block.
    return (f"SELECT CAST(GROUP_CONCAT({row} ORDER BY {key} SEPARATOR '') AS BINARY), "
            f"COUNT(*) FROM {quote(table.name)} WHERE {key} > {{low}} AND {key} <= {{high}}")


def canonical_blocks(conn: Connection, table: Table, template: str,
                     batch: int = BATCH_ROWS) -> Iterator[tuple[bytes, int]]:
    """Blocks of canonical lines (and their row counts), walking the key in
    ranges of about *batch* rows: wider where keys are sparse, narrower where
    a batch would pass ``CHUNK_BYTES``."""
    key = conn.dialect.identifier_preparer.quote(list(table.primary_key.columns)[0].name)
    name = conn.dialect.identifier_preparer.quote(table.name)
    raw = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(f"SET SESSION group_concat_max_len = {CHUNK_BYTES}")
        cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM {name}")
        low, top = cursor.fetchone()
        if low is None:
            return
        low, top, width = int(low) - 1, int(top), batch
        while low < top:
            high = min(low + width, top)
            cursor.execute(template.format(low=low, high=high))
            lines, count = cursor.fetchone()
            if not count:
                cursor.execute(f"SELECT MIN({key}) FROM {name} WHERE {key} > {high}")
                (following,) = cursor.fetchone()
                if following is None:
                    return
                low = int(following) - 1
                continue
            if lines is None or lines.count(b"\n") != count or not lines.endswith(b"]\n"):
                # Cut at group_concat_max_len: a narrower range.
                if high - low == 1:
                    raise ValueError(f"a row of {table.name!r} is larger than "
                                     f"{CHUNK_BYTES} bytes")
                width = max(1, (high - low) // 2)
                continue
            if b"\\u00" in lines:  # MariaDB writes \u001F where codec writes \u001f
                lines = recode(lines)
            yield lines, count
            low = high
            if count < batch // 4:
                width = min(width * 2, batch * 64)
            elif count > batch:
                width = max(1, width // 2)
    finally:
        cursor.close()


def recode(lines: bytes) -> bytes:
    """Server-built lines rewritten by ``codec`` (the rare block with a ``\\u00XX``)."""
    rows = json.loads(b"[" + lines[:-1].replace(b"\n", b",") + b"]")
    return encode_lines(rows).encode("utf-8")


class Dump:
    """The events of one database: a header per table, then its rows as lines.

    After ``events()`` is exhausted, ``tables`` holds each table's row count and
    SHA-256 of its canonical lines; ``rows_read`` counts the rows yielded so far.
    """

    def __init__(self, conn: Connection, *, batch: int = BATCH_ROWS,
                 fast_batch: int = FAST_BATCH_ROWS):
        self.conn, self.batch, self.fast_batch = conn, batch, fast_batch
        self.schema = store_tables(conn)
        self.revision = schema_revision(conn)
        self.dialect = conn.dialect.name
        self.tables: dict[str, dict] = {}
        self.rows_read = 0

    def count_rows(self) -> int:
        quote = self.conn.dialect.identifier_preparer.quote
        return sum(self.conn.scalar(text(f"SELECT COUNT(*) FROM {quote(t.name)}"))
                   for t in self.schema)

    def events(self) -> Iterator[tuple[str, object]]:
        for table in self.schema:
            kinds = [kind_of(c.type) for c in table.columns]
            yield "table", {"table": table.name, "columns": [c.name for c in table.columns],
                            "kinds": kinds}
            digest, count = hashlib.sha256(), 0
            template = canonical_sql(self.conn, table, kinds)
            if template is not None:
                for block, rows in canonical_blocks(self.conn, table, template,
                                                    self.fast_batch):
                    digest.update(block)
                    count += rows
                    self.rows_read += rows
                    yield "rows", block
                self.tables[table.name] = {"rows": count, "sha256": digest.hexdigest()}
                continue
            encode = row_encoder(kinds)
            for rows in self._batches(table, kinds):
                block = encode(rows).encode("utf-8")
                digest.update(block)
                count += len(rows)
                self.rows_read += len(rows)
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
