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
import logging
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pymysql.cursors
from sqlalchemy import Integer, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tenancy.backups.codec import encode_lines, kind_of, row_encoder
from tenancy.backups.pipeline import Prefetch

BATCH_ROWS = 5000
FAST_BATCH_ROWS = 20000
# The server builds whole batches of canonical lines (``GROUP_CONCAT``); a
# batch longer than this is halved until it fits.
CHUNK_BYTES = 64 * 1024 * 1024
# A live move's change log (``tenancy.backups.changes``) is not store data.
CHANGE_LOG = "_bo_move_log"
SKIPPED_TABLES = {"alembic_version", CHANGE_LOG}
# Connections reading a MariaDB store at once, in one shared snapshot: MariaDB
# builds each batch on one core, and the batches are most of a backup's time.
READERS = 2
LOCK_TRIES = 5
ER_LOCK_WAIT_TIMEOUT = 1205

log = logging.getLogger(__name__)


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


@contextlib.contextmanager
def shared_snapshot(conn: Connection, readers: int = READERS) -> Iterator[list[Connection]]:
    """``snapshot`` on *conn* and on ``readers - 1`` more connections of its
    engine, all seeing the same data: the list of connections to read with.

    MariaDB cannot hand one snapshot to another session, so the snapshots are
    started while another session holds ``LOCK TABLES ... READ`` on every
    table of the database: no write to them can be in progress or begin in
    that moment (a millisecond or two). The lock is asked for with
    ``NOWAIT``, so writers never queue behind it; when it cannot be had after
    a few tries (a long write transaction, no LOCK TABLES privilege) or on
    SQLite, the list is just *conn* and the backup reads on one connection.
    """
    if conn.dialect.name != "mysql" or readers < 2:
        with snapshot(conn):
            yield [conn]
        return
    with contextlib.ExitStack() as stack:
        helpers = _connect(stack, conn.engine, readers - 1)
        with tables_locked(conn.engine) if helpers else contextlib.nullcontext(False) as locked:
            conns = [conn, *helpers] if locked else [conn]
            for each in conns:
                stack.enter_context(snapshot(each))
        yield conns


def _connect(stack: contextlib.ExitStack, engine: Engine, n: int) -> list[Connection]:
    """*n* more connections, or none (the server's connection limit, say)."""
    try:
        return [stack.enter_context(engine.connect()) for _ in range(n)]
    except DBAPIError as exc:
        _one_reader(engine, exc)
        return []


def _one_reader(engine: Engine, exc: DBAPIError) -> None:
    log.info(
        "backup of %s reads on one connection (%s)",
        engine.url.database,
        str(exc.orig).splitlines()[0],
    )


@contextlib.contextmanager
def tables_locked(engine: Engine) -> Iterator[bool]:
    """Every table of the engine's database read-locked (``True``) by a
    connection of its own, or ``False`` when that is not to be had now."""
    with contextlib.ExitStack() as stack:
        locker = _connect(stack, engine, 1)
        locked = bool(locker) and _lock_tables(locker[0])
        try:
            yield locked
        finally:
            if locked:
                locker[0].exec_driver_sql("UNLOCK TABLES")


def _lock_tables(locker: Connection) -> bool:
    quote = locker.dialect.identifier_preparer.quote
    names = [
        name for name, kind in locker.exec_driver_sql("SHOW FULL TABLES") if kind == "BASE TABLE"
    ]
    if not names:
        return False
    statement = "LOCK TABLES " + ", ".join(f"{quote(n)} READ" for n in names) + " NOWAIT"
    for attempt in range(LOCK_TRIES):
        try:
            locker.exec_driver_sql(statement)
            return True
        except DBAPIError as exc:
            locker.rollback()
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if code != ER_LOCK_WAIT_TIMEOUT or attempt == LOCK_TRIES - 1:
                _one_reader(locker.engine, exc)
                return False
        time.sleep(0.01 * 2**attempt)  # a write transaction is finishing
    return False


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
        for c in table.columns
    )
    plain = select_sql(conn, table)
    return f"SELECT JSON_ARRAY({columns}) " + plain[plain.index(" FROM ") :]


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
    text through ``JSON_QUOTE``, timestamps, dates and fixed-scale decimals
    formatted as their canonical strings and put in double quotes (digits and
    ``-: .`` need no escaping), NULL as ``null``. ``JSON_QUOTE`` escapes like
    ``codec`` except for the case of ``\\u00XX`` escapes, which
    ``canonical_blocks`` re-encodes in Python. The statement is a template:
    ``{low}`` and ``{high}`` bound the batch's key range.
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
        # A formatted value may be NULL even in a NOT NULL column: always IFNULL.
        formatted = True
        if kind == "datetime":
            value = f"""CONCAT('"', DATE_FORMAT({name}, '%Y-%m-%d %H:%i:%s.%f'), '"')"""
        elif kind == "date":
            value = f"""CONCAT('"', DATE_FORMAT({name}, '%Y-%m-%d'), '"')"""
        elif kind.startswith("numeric:"):
            value = f"""CONCAT('"', CAST({name} AS CHAR), '"')"""
        elif kind == "plain" and isinstance(column.type, String):
            value, formatted = f"JSON_QUOTE({name})", False  # JSON columns too: as text
        elif kind == "plain" and isinstance(column.type, Integer):
            value, formatted = name, False
        else:
            return None
        # IFNULL per value is a measurable part of the server's work: only where needed.
        nullable = column.nullable and not column.primary_key
        values.append(f"IFNULL({value}, 'null')" if nullable or formatted else value)
    key = quote(keys[0].name)
    row = "CONCAT('[', " + ", ',', ".join(values) + ", ']\\n')"
    # A key range, not ORDER BY ... LIMIT in a derived table: no materialisation.
    # BINARY: PyMySQL hands over the UTF-8 bytes as they came, no decode and
    # re-encode of every block.
    return (
        f"SELECT CAST(GROUP_CONCAT({row} ORDER BY {key} SEPARATOR '') AS BINARY), "
        f"COUNT(*) FROM {quote(table.name)} WHERE {key} > {{low}} AND {key} <= {{high}}"
    )


def canonical_blocks(
    conn: Connection,
    table: Table,
    template: str,
    batch: int = BATCH_ROWS,
    helpers: Sequence[Connection] = (),
    rows: int | None = None,
) -> Iterator[tuple[bytes, int]]:
    """Blocks of canonical lines (and their row counts) in key order, walking
    the key in ranges of about *batch* rows.

    With *helpers* (connections in the same snapshot, see ``shared_snapshot``)
    the key space is cut into ranges of about *batch* rows by the keys'
    density, dealt out in turn to one reading thread per connection, and
    taken back in the same turn: MariaDB builds several batches at once.
    *rows*, the table's row count in this snapshot if known, saves counting.
    """
    cursors = [c.connection.dbapi_connection.cursor() for c in (conn, *helpers)]
    try:
        for cursor in cursors:
            cursor.execute(f"SET SESSION group_concat_max_len = {CHUNK_BYTES}")
        walk = KeyWalk(conn, table, template, batch)
        span = walk.span(cursors[0])
        if span is None:
            return
        low, top = span
        if len(cursors) == 1:
            yield from walk.blocks(cursors[0], low, top)
            return
        if rows is None:
            cursors[0].execute(f"SELECT COUNT(*) FROM {walk.name}")
            (rows,) = cursors[0].fetchone()
        yield from walk.in_turns(cursors, split_range(low, top, max(int(rows), 1), batch))
    finally:
        for cursor in cursors:
            cursor.close()


def split_range(low: int, top: int, count: int, batch: int) -> list[tuple[int, int]]:
    """``(low, top]`` cut into ranges holding about *batch* of *count* keys each
    if the keys were evenly spread (a range that is not is walked finer)."""
    width = max(1, -(-batch * (top - low) // count))
    return [(start, min(start + width, top)) for start in range(low, top, width)]


class KeyWalk:
    """The batches of one table's ``canonical_sql`` template over key ranges."""

    def __init__(self, conn: Connection, table: Table, template: str, batch: int):
        quote = conn.dialect.identifier_preparer.quote
        self.key = quote(next(iter(table.primary_key.columns)).name)
        self.name, self.table = quote(table.name), table.name
        self.template, self.batch = template, batch

    def span(self, cursor) -> tuple[int, int] | None:
        """``(lowest key - 1, highest key)``, or ``None`` for no rows."""
        cursor.execute(f"SELECT MIN({self.key}), MAX({self.key}) FROM {self.name}")
        low, top = cursor.fetchone()
        return None if low is None else (int(low) - 1, int(top))

    def blocks(self, cursor, low: int, top: int) -> Iterator[tuple[bytes, int]]:
        """The rows with keys in ``(low, top]``: wider steps where keys are
        sparse, narrower where a batch would pass ``CHUNK_BYTES``."""
        width, batch = self.batch, self.batch
        while low < top:
            high = min(low + width, top)
            cursor.execute(self.template.format(low=low, high=high))
            lines, count = cursor.fetchone()
            if not count:
                cursor.execute(f"SELECT MIN({self.key}) FROM {self.name} WHERE {self.key} > {high}")
                (following,) = cursor.fetchone()
                if following is None:
                    return
                low = int(following) - 1
                continue
            if lines is None or lines.count(b"\n") != count or not lines.endswith(b"]\n"):
                # Cut at group_concat_max_len: a narrower range.
                if high - low == 1:
                    raise ValueError(f"a row of {self.table!r} is larger than {CHUNK_BYTES} bytes")
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

    def in_turns(self, cursors: list, ranges: list[tuple[int, int]]) -> Iterator[tuple[bytes, int]]:
        """*ranges* dealt out to one reading thread per cursor, in turn, and
        their blocks taken back in the same order (each thread at most
        ``pipeline.DEPTH`` blocks ahead)."""
        turns = len(cursors)
        with contextlib.ExitStack() as stack:
            readers = [
                stack.enter_context(Prefetch(self._ranges(c, ranges[i::turns])))
                for i, c in enumerate(cursors)
            ]
            for i in range(len(ranges)):
                reader = readers[i % turns]
                while (item := reader.get()) is not END_OF_RANGE:
                    yield item

    def _ranges(self, cursor, ranges: list[tuple[int, int]]) -> Iterator[object]:
        for low, top in ranges:
            yield from self.blocks(cursor, low, top)
            yield END_OF_RANGE


END_OF_RANGE = object()


def recode(lines: bytes) -> bytes:
    """Server-built lines rewritten by ``codec`` (the rare block with a ``\\u00XX``)."""
    rows = json.loads(b"[" + lines[:-1].replace(b"\n", b",") + b"]")
    return encode_lines(rows).encode("utf-8")


class Dump:
    """The events of one database: a header per table, then its rows as lines.

    After ``events()`` is exhausted, ``tables`` holds each table's row count and
    SHA-256 of its canonical lines; ``rows_read`` counts the rows yielded so far.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        batch: int = BATCH_ROWS,
        fast_batch: int = FAST_BATCH_ROWS,
        helpers: Sequence[Connection] = (),
    ):
        self.conn, self.batch, self.fast_batch = conn, batch, fast_batch
        self.helpers = helpers  # more connections in conn's snapshot (shared_snapshot)
        self.schema = store_tables(conn)
        self.revision = schema_revision(conn)
        self.dialect = conn.dialect.name
        self.tables: dict[str, dict] = {}
        self.rows_read = 0
        self.counts: dict[str, int] = {}

    def count_rows(self) -> int:
        """All rows of the snapshot (kept per table: the readers split by them)."""
        quote = self.conn.dialect.identifier_preparer.quote
        self.counts = {
            t.name: self.conn.scalar(text(f"SELECT COUNT(*) FROM {quote(t.name)}"))
            for t in self.schema
        }
        return sum(self.counts.values())

    def events(self) -> Iterator[tuple[str, object]]:
        for table in self.schema:
            kinds = [kind_of(c.type) for c in table.columns]
            yield (
                "table",
                {"table": table.name, "columns": [c.name for c in table.columns], "kinds": kinds},
            )
            digest, count = hashlib.sha256(), 0
            template = canonical_sql(self.conn, table, kinds)
            if template is not None:
                for block, rows in canonical_blocks(
                    self.conn,
                    table,
                    template,
                    self.fast_batch,
                    self.helpers,
                    self.counts.get(table.name),
                ):
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
