"""Alembic's upgrade driven without an env.py, on a script directory read once.

Plain path: ``alembic.command.upgrade`` with the connection handed to the
migration environment's ``env.py`` (``config.attributes["connection"]``):
public API, but it reads the script directory (every revision file) and
runs ``env.py`` for every store. The fast path runs the migrations in an
``EnvironmentContext`` of its own, on the script directory cached per
process; the steps come from ``ScriptDirectory._upgrade_revs``, which is
what ``alembic.command.upgrade`` itself calls, and is private.
"""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from tenancy.speedups import Speedup

SPEEDUP = Speedup("upgrade_steps", (("alembic", "1.20", "1.21"),))


def run_upgrade(conn: Connection, config: Config, script: ScriptDirectory, target: str) -> None:
    """Upgrade the database on *conn* to *target* with *script*'s revisions."""

    def steps(rev, _context):
        return script._upgrade_revs(target, rev)

    with EnvironmentContext(config, script, fn=steps, destination_rev=target) as env:
        env.configure(
            connection=conn, target_metadata=None, render_as_batch=conn.dialect.name == "sqlite"
        )
        with env.begin_transaction():
            env.run_migrations()
