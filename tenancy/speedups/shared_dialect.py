"""One SQLAlchemy dialect and compiled-statement cache for all the store engines of a server.

Plain path: ``create_engine(url, pool=pool)`` per store: a dialect of its
own, initialised by the engine's first connection (server version, SQL mode,
...), and a statement cache of its own, so a new store engine compiles every
statement again (~1 ms each). The fast path builds ``Engine`` itself on the
first engine's dialect and sets the pool's ``_dialect`` as ``create_engine``
does with a given pool: neither is public SQLAlchemy API.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, Engine
from sqlalchemy.pool import QueuePool

from tenancy.speedups import Speedup

SPEEDUP = Speedup("shared_dialect", (("sqlalchemy", "2.1", "2.2"),))


@dataclass(frozen=True)
class SharedDialect:
    """One server's SQLAlchemy dialect, initialised once, and one compiled-statement
    cache, shared by the engines of all its stores.

    Engines built here differ from ``create_engine``'s only in reusing both;
    each still has its own pool, credentials and database, and runs the
    dialect's per-connection setup.
    """

    dialect: Dialect
    cache: MutableMapping

    CACHE_SIZE = 2000  # statements, for all the server's stores together

    def engine(self, url: URL, pool: QueuePool) -> Engine:
        """What ``create_engine(url, pool=pool)`` makes, on this dialect and cache."""
        pool._dialect = self.dialect  # as create_engine does with a given pool
        on_connect = self.dialect.on_connect_url(url)  # MySQL: SET NAMES
        if on_connect is not None:
            event.listen(
                pool, "connect", lambda dbapi_connection, _record: on_connect(dbapi_connection)
            )
        return Engine(pool, self.dialect, url, execution_options={"compiled_cache": self.cache})
