"""The pool's rollback-on-return happens once, and only when a transaction may be open.

Counted by MariaDB itself (``Com_rollback`` / ``Com_commit`` of the pooled
connection's own session), on one pooled connection (``pool_size=1``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tenancy.db import make_engine, reset_only_open_transactions
from tests.conftest import unique_slug


@pytest.fixture
def database(mysql_admin_url):
    name = unique_slug("pool").replace("-", "_")
    admin = create_engine(mysql_admin_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}`"))
        conn.execute(text(f"CREATE TABLE `{name}`.items (id INT PRIMARY KEY) ENGINE=InnoDB"))
    yield f"{mysql_admin_url.rstrip('/')}/{name}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE `{name}`"))
    admin.dispose()


@pytest.fixture
def engine(database):
    engine = make_engine(database, pool_size=1, max_overflow=0, pool_pre_ping=False)
    yield engine
    engine.dispose()


def counters(engine) -> dict[str, int]:
    """This pooled connection's own statement counters, read without a transaction."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Com_rollback', 'Com_commit')")
        return {name: int(value) for name, value in cursor.fetchall()}
    finally:
        raw.close()  # a raw checkout: the pool rolls back (one more Com_rollback)


def spent(engine, work) -> dict[str, int]:
    before = counters(engine)
    work()
    after = counters(engine)
    # The second counters() is on the same connection; its own checkin is not in it.
    return {
        "rollback": after["Com_rollback"] - before["Com_rollback"] - 1,
        "commit": after["Com_commit"] - before["Com_commit"],
    }


def test_a_read_only_session_rolls_back_once(engine):
    def read():
        with Session(engine) as session:
            session.execute(text("SELECT COUNT(*) FROM items")).scalar()

    assert spent(engine, read) == {"rollback": 1, "commit": 0}


def test_a_committed_session_is_not_rolled_back_after(engine):
    def write():
        with Session(engine) as session:
            session.execute(text("INSERT INTO items VALUES (1)"))
            session.commit()

    assert spent(engine, write) == {"rollback": 0, "commit": 1}


def test_a_connection_returned_in_a_transaction_is_rolled_back(engine, database):
    def abandon():
        conn = engine.connect()
        conn.execute(text("INSERT INTO items VALUES (2)"))
        conn.close()

    assert spent(engine, abandon) == {"rollback": 1, "commit": 0}
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM items WHERE id = 2")) == 0


def test_raw_dbapi_use_is_rolled_back_and_leaves_no_snapshot(engine, database):
    """The pool cannot see raw DBAPI statements: a raw checkout is always reset,
    so the next user does not read through the previous user's snapshot."""
    raw = engine.raw_connection()
    raw.cursor().execute("SELECT COUNT(*) FROM items")  # starts a REPEATABLE READ snapshot
    raw.close()
    other = create_engine(database)
    with other.begin() as conn:
        conn.execute(text("INSERT INTO items VALUES (3)"))
    other.dispose()
    with Session(engine) as session:
        assert session.execute(text("SELECT COUNT(*) FROM items")).scalar() == 1


def test_the_next_session_sees_commits_made_after_the_last_one_read(engine, database):
    with Session(engine) as session:
        assert session.execute(text("SELECT COUNT(*) FROM items")).scalar() == 0
    other = create_engine(database)
    with other.begin() as conn:
        conn.execute(text("INSERT INTO items VALUES (4)"))
    other.dispose()
    with Session(engine) as session:  # same connection, its snapshot ended
        assert session.execute(text("SELECT COUNT(*) FROM items")).scalar() == 1


def test_an_engine_that_resets_by_itself_is_refused(database):
    engine = create_engine(database)
    with pytest.raises(ValueError, match="pool_reset_on_return=None"):
        reset_only_open_transactions(engine)
    engine.dispose()
