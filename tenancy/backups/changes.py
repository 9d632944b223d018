"""What changed in a live store while it was being copied: a trigger-fed log.

Before a move takes its snapshot, every table of the store gets three triggers
(after insert, update, delete) that write the table and the row's primary key
to ``_bo_move_log`` in the same transaction as the change. So a change
committed after the snapshot always leaves an entry, and an entry is visible
only once its change is. Catching up reads entries, copies the current source
rows of their keys to the target (delete the target's row, insert the source's
if it still exists) and then deletes exactly the entries it read; a row
changed again meanwhile has a newer entry still waiting. Copying a key twice
does no harm, so nothing depends on the order in which entries commit.

Once no session can write the source any more (the move's freeze), draining
the log leaves the target equal to the source. ``remove`` drops the triggers
and the log (a move that failed; a successful move drops the whole database).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import MetaData, Table, delete, func, select, text, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tenancy.backups.archive import BackupError
from tenancy.backups.dump import CHANGE_LOG, store_tables

BATCH = 2000  # entries per round
KEYS_PER_STATEMENT = 500
LOCK_TRIES = 40
ER_LOCK_WAIT_TIMEOUT = 1205
ER_LOCK_DEADLOCK = 1213

log = logging.getLogger(__name__)

EVENTS = {"i": "INSERT", "u": "UPDATE", "d": "DELETE"}


class ChangeLog:
    def __init__(self, source: Engine):
        self.source = source
        with source.connect() as conn:
            self.tables = {t.name: t for t in store_tables(conn)}
        for table in self.tables.values():
            if not table.primary_key.columns:
                raise BackupError(f"table {table.name} has no primary key: it cannot be moved live")
        self.installed = False
        self._targets: dict[str, Table] = {}

    # -- triggers -----------------------------------------------------------
    def install(self) -> None:
        with self.source.begin() as conn:
            if conn.scalar(
                text(
                    "SELECT COUNT(*) FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"
                ),
                {"t": CHANGE_LOG},
            ):
                raise BackupError("another move of this store is in progress")
        self.installed = True
        with self.source.connect() as conn:
            conn.exec_driver_sql(
                f"CREATE TABLE `{CHANGE_LOG}` (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                "tbl VARCHAR(64) NOT NULL, pk VARCHAR(2000) NOT NULL) ENGINE=InnoDB"
            )
            for table in self.tables.values():
                with self._locked(conn, table):
                    for suffix, event in EVENTS.items():
                        conn.exec_driver_sql(_trigger(table, suffix, event))

    @classmethod
    def remove_left_over(cls, source: Engine) -> None:
        """The triggers and log a dead move left on *source* (a repair): gone.
        The log table is made before the triggers, so without it there are none."""
        with source.connect() as conn:
            if not conn.scalar(
                text(
                    "SELECT COUNT(*) FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"
                ),
                {"t": CHANGE_LOG},
            ):
                return
        log = cls(source)
        log.installed = True
        log.remove()

    def remove(self) -> None:
        if not self.installed:
            return
        with self.source.connect() as conn:
            for table in self.tables.values():
                with self._locked(conn, table):
                    for suffix in EVENTS:
                        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS `{_name(table, suffix)}`")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS `{CHANGE_LOG}`")
        self.installed = False

    @contextlib.contextmanager
    def _locked(self, conn: Connection, table: Table) -> Iterator[None]:
        """*table*, the tables it shares a foreign key with and the log, write-locked
        at once, taken only when no transaction holds any of them (``NOWAIT``,
        retried). Creating a trigger on a table while a transaction that used its
        foreign-key parent goes on to use it would deadlock, and MariaDB would
        make the store's transaction the victim. Writers of these tables wait
        behind the lock for the ~60 ms its three triggers take."""
        related = {fk.referred_table.name for fk in table.foreign_key_constraints}
        related |= {
            other.name
            for other in self.tables.values()
            if any(fk.referred_table.name == table.name for fk in other.foreign_key_constraints)
        }
        names = sorted({table.name, *related, CHANGE_LOG} & {*self.tables, CHANGE_LOG})
        statement = "LOCK TABLES " + ", ".join(f"`{n}` WRITE" for n in names) + " NOWAIT"
        for attempt in range(LOCK_TRIES):
            try:
                conn.exec_driver_sql(statement)
                break
            except DBAPIError as exc:
                conn.rollback()
                if _code(exc) not in {ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK}:
                    raise
            time.sleep(min(0.002 * 2**attempt, 0.1))
        else:
            raise BackupError(
                f"the store's tables were never free of transactions in {LOCK_TRIES} tries"
            )
        try:
            yield
        finally:
            conn.exec_driver_sql("UNLOCK TABLES")

    # -- catching up ----------------------------------------------------------
    def pending(self) -> int:
        with self.source.connect() as conn:
            return conn.scalar(text(f"SELECT COUNT(*) FROM `{CHANGE_LOG}`"))

    def apply(self, target: Engine, limit: int = BATCH) -> int:
        """Copy the rows of up to *limit* entries; returns how many entries were done."""
        with self.source.connect() as src:
            # One REPEATABLE READ transaction: the rows are read as of (at
            # least) the moment their entries were, so they include the change.
            entries = src.execute(
                text(f"SELECT id, tbl, pk FROM `{CHANGE_LOG}` ORDER BY id LIMIT :n"), {"n": limit}
            ).all()
            if not entries:
                return 0
            keys: dict[str, set[tuple]] = defaultdict(set)
            for _id, table, pk in entries:
                keys[table].add(tuple(json.loads(pk)))
            rows = {name: self._read(src, name, sorted(k, key=repr)) for name, k in keys.items()}
            src.rollback()
        with target.connect() as dst:
            dst.exec_driver_sql("SET SESSION foreign_key_checks = 0")
            try:
                for name, found in rows.items():
                    self._write(dst, name, keys[name], found)
                dst.commit()
            finally:
                dst.exec_driver_sql("SET SESSION foreign_key_checks = 1")
        self._forget([entry[0] for entry in entries])
        return len(entries)

    def _forget(self, ids: list[int]) -> None:
        """Delete the entries done. READ COMMITTED: no gap locks, so the store's
        own writes (whose triggers insert entries) never deadlock with this."""
        with self.source.connect().execution_options(isolation_level="READ COMMITTED") as src:
            for start in range(0, len(ids), KEYS_PER_STATEMENT):
                chunk = ", ".join(str(int(i)) for i in ids[start : start + KEYS_PER_STATEMENT])
                src.exec_driver_sql(f"DELETE FROM `{CHANGE_LOG}` WHERE id IN ({chunk})")
                src.commit()

    def drain(self, target: Engine) -> int:
        """Apply entries until none is left; returns how many there were."""
        done = 0
        while n := self.apply(target):
            done += n
        return done

    def _read(self, conn: Connection, name: str, keys: list[tuple]) -> list[dict]:
        table = self.tables[name]
        found = []
        for chunk in _chunks(keys):
            found += [
                dict(r._mapping) for r in conn.execute(select(table).where(_match(table, chunk)))
            ]
        return found

    def _write(self, conn: Connection, name: str, keys: set[tuple], rows: list[dict]) -> None:
        """The target's rows of *keys* become the source's *rows* (foreign key
        checks off: no order between tables, and no cascade on a row that is
        only replaced)."""
        table = self._target_table(conn, name)
        for chunk in _chunks(sorted(keys, key=repr)):
            conn.execute(delete(table).where(_match(table, chunk)))
        if rows:
            columns = set(table.columns.keys())
            conn.execute(
                table.insert(), [{k: v for k, v in row.items() if k in columns} for row in rows]
            )
        pk = [c.name for c in self.tables[name].primary_key.columns]
        gone = keys - {tuple(row[c] for c in pk) for row in rows}
        if gone:
            self._cascade(conn, name, sorted(gone, key=repr))

    def _cascade(self, conn: Connection, name: str, gone: list[tuple]) -> None:
        """What ``ON DELETE CASCADE / SET NULL`` did in the source when these rows
        went: MariaDB fires no trigger for a foreign key's action, so the rows it
        removed or changed left no entry in the log."""
        parent_pk = [c.name for c in self.tables[name].primary_key.columns]
        for child in self.tables.values():
            for fk in child.foreign_key_constraints:
                action = (fk.ondelete or "").upper()
                if fk.referred_table.name != name or action not in {"CASCADE", "SET NULL"}:
                    continue
                if [e.column.name for e in fk.elements] != parent_pk:
                    log.warning("foreign key %s of %s: not on the key, not followed", fk.name, name)
                    continue
                target = self._target_table(conn, child.name)
                columns = [target.c[c.name] for c in fk.columns]
                for chunk in _chunks(gone):
                    match = (
                        columns[0].in_([k[0] for k in chunk])
                        if len(columns) == 1
                        else tuple_(*columns).in_(chunk)
                    )
                    if action == "SET NULL":
                        conn.execute(
                            target.update().where(match).values(dict.fromkeys(fk.column_keys))
                        )
                        continue
                    pk = list(target.primary_key.columns)
                    orphans = [tuple(r) for r in conn.execute(select(*pk).where(match))]
                    conn.execute(delete(target).where(match))
                    if orphans:
                        self._cascade(conn, child.name, orphans)

    def _target_table(self, conn: Connection, name: str) -> Table:
        if name not in self._targets:
            self._targets[name] = Table(name, MetaData(), autoload_with=conn)
        return self._targets[name]

    def counts(self, conn: Connection) -> dict[str, int]:
        return {
            name: conn.scalar(select(func.count()).select_from(table))
            for name, table in self.tables.items()
        }


def _match(table: Table, keys: list[tuple]):
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return columns[0].in_([k[0] for k in keys])
    return tuple_(*columns).in_(keys)


def _chunks(keys: list[tuple]):
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        yield keys[start : start + KEYS_PER_STATEMENT]


def _name(table: Table, suffix: str) -> str:
    return f"_bo_mv_{table.name}"[:60] + f"_{suffix}"


def _trigger(table: Table, suffix: str, event: str) -> str:
    """A row's key into the log; an update that changes the key logs the old one too."""
    pk = [c.name for c in table.primary_key.columns]

    def entry(row: str) -> str:
        key = ", ".join(f"{row}.`{c}`" for c in pk)
        return f"INSERT INTO `{CHANGE_LOG}` (tbl, pk) VALUES ('{table.name}', JSON_ARRAY({key}));"

    body = entry("OLD" if event == "DELETE" else "NEW")
    if event == "UPDATE":
        same = " AND ".join(f"OLD.`{c}` <=> NEW.`{c}`" for c in pk)
        body += f" IF NOT ({same}) THEN {entry('OLD')} END IF;"
    return (
        f"CREATE TRIGGER `{_name(table, suffix)}` AFTER {event} ON `{table.name}` "
        f"FOR EACH ROW BEGIN {body} END"
    )


def _code(exc: DBAPIError) -> int | None:
    return exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
