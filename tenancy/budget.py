"""The connection budget of each database server, shared by the whole fleet.

Each process caps its own connections per server (``server_connection_cap``,
``tenancy.registry.ServerBudget``); with Redis, every connection also holds a
lease in a sorted set per server (``<prefix>connections:<server>``: lease id
scored by its expiry, on Redis' clock), and no more than
``backoffice.server_connection_budget`` leases may be live at once. A lease is
taken before the connection is opened and given back after the server has
hung up; a thread in each process extends its leases every third of
``backoffice.connection_lease_seconds``, so the leases of a process that died
expire by themselves. If Redis cannot be reached, the local cap still holds
and each store user's ``MAX_USER_CONNECTIONS`` is the backstop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping

import redis

from tenancy.settings import as_int, redis_prefix, redis_url

log = logging.getLogger(__name__)

# Drop expired leases, then take one if fewer than the budget are live.
_ACQUIRE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], t + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2))
return 1
"""

# Push the expiry of this process' leases further; a lease that expired while
# the process stalled comes back: its connection is open, so it counts.
_EXTEND = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], t + tonumber(ARGV[1]), ARGV[i])
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 2))
return #ARGV - 1
"""

WARN_EVERY = 30.0


class FleetBudget:
    """Leases on connections to each server, counted in Redis for every process."""

    def __init__(self, url: str, budget: int, *, lease_seconds: float = 30.0, prefix: str = ""):
        self.url = url
        self.budget = budget
        self.lease_seconds = lease_seconds
        self.prefix = prefix + "connections:"
        self._client: redis.Redis | None = None
        self._scripts: tuple | None = None
        self._held: dict[str, set[str]] = {}  # server -> this process' live lease ids
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._warned_at = 0.0
        self._origin = f"{socket.gethostname()}:{os.getpid()}"

    def key(self, server: str) -> str:
        return self.prefix + server

    def try_acquire(self, server: str) -> str | None:
        """A lease id, or None when the fleet's budget for *server* is spent.
        Without Redis the answer is "" (a lease nobody counts): fail open."""
        self._check_fork()
        lease = f"{self._origin}:{uuid.uuid4().hex[:12]}"
        try:
            acquire, _extend = self._redis()
            taken = acquire(keys=[self.key(server)], args=[self.budget, self.lease_seconds, lease])
        except redis.RedisError as exc:
            self._warn(exc)
            return ""
        if not taken:
            return None
        with self._lock:
            self._held.setdefault(server, set()).add(lease)
            if self._thread is None:  # under the lock: it stops only with nothing held
                self._thread = threading.Thread(
                    target=self._extend_while_held, name="connection-leases", daemon=True
                )
                self._thread.start()
        return lease

    def release(self, server: str, lease: str) -> None:
        if not lease:
            return
        with self._lock:
            self._held.get(server, set()).discard(lease)
        try:
            self._redis()  # the client, made if need be
            self._client.zrem(self.key(server), lease)
        except redis.RedisError as exc:
            self._warn(exc)  # it expires by itself

    def live(self, server: str) -> int:
        """Leases live now on *server* in the whole fleet (for stats and tests)."""
        key = self.key(server)
        now = time.time()
        try:
            self._redis()
            return int(self._client.zcount(key, now, "+inf"))
        except redis.RedisError:
            return -1

    def held(self) -> int:
        with self._lock:
            return sum(len(leases) for leases in self._held.values())

    # -- internals ---------------------------------------------------------
    def _redis(self):
        if self._scripts is None:
            self._client = redis.Redis.from_url(
                self.url, socket_timeout=2.0, socket_connect_timeout=2.0
            )
            self._scripts = (
                self._client.register_script(_ACQUIRE),
                self._client.register_script(_EXTEND),
            )
        return self._scripts

    def _extend_while_held(self) -> None:
        while True:
            time.sleep(self.lease_seconds / 3)
            with self._lock:
                if not any(self._held.values()):
                    self._thread = None
                    return
            self.extend()

    def extend(self) -> None:
        with self._lock:
            held = {server: sorted(leases) for server, leases in self._held.items() if leases}
        try:
            _acquire, extend = self._redis()
            for server, leases in held.items():
                extend(keys=[self.key(server)], args=[self.lease_seconds, *leases])
        except redis.RedisError as exc:
            self._warn(exc)

    def _check_fork(self) -> None:
        """A forked child holds none of its parent's connections, nor its thread."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._origin = f"{socket.gethostname()}:{os.getpid()}"
            self._lock = threading.Lock()
            self._held, self._thread = {}, None
            self._client, self._scripts = None, None

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY:
            self._warned_at = now
            log.warning(
                "connection budget in Redis unavailable (%s): only this process' cap holds", exc
            )


def fleet_budget(settings: Mapping[str, str]) -> FleetBudget | None:
    """The shared budget, if there is Redis and ``server_connection_budget`` > 0."""
    budget = as_int(settings, "backoffice.server_connection_budget", default="0")
    url = redis_url(settings)
    if not budget or url is None:
        return None
    seconds = float(settings.get("backoffice.connection_lease_seconds") or 30)
    return FleetBudget(url, budget, lease_seconds=seconds, prefix=redis_prefix(settings))
