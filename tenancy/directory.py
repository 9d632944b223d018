"""Finding a store by host name, slug or API key, with a short-lived cache.

Lookups return ``TenantRef``: an immutable snapshot that is safe to share
between threads. Entries live ``backoffice.tenant_cache_ttl`` seconds (a store
that is busy, e.g. ``moving``, at most ``BUSY_TTL``: its 503s end soon after
the operation does); a change made by any process (suspend, rotate, move)
reaches ``store_changed`` through ``tenancy.events`` at once (with Redis; else
only in the same process, and other processes see it within the TTL); the
engine registry additionally keys
engines on the snapshot's version, so a new version never reuses an old engine.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, fields

from sqlalchemy import bindparam, select

from tenancy.control import ControlPlane
from tenancy.events import StoreChange
from tenancy.models import BUSY_STATUSES, ApiKeyIndex, DatabaseServer, Domain, Tenant

API_KEY_PREFIXES = ("bo_live_", "bo_test_")
BUSY_TTL = 0.25


@dataclass(frozen=True)
class TenantRef:
    id: int
    slug: str
    name: str
    status: str
    version: int
    database_name: str
    db_user: str
    db_password_encrypted: str
    server_id: int
    server_kind: str
    server_admin_url_encrypted: str
    server_name: str
    server_user_host: str
    default_locale: str

    @property
    def password_context(self) -> str:
        return f"tenant:{self.id}:db_password"


def hash_api_key(key: str) -> str:
    """API keys are 256-bit random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_prefix(key: str) -> str | None:
    """``bo_live_<8 chars>_<secret>`` -> ``bo_live_<8 chars>``; None if malformed."""
    for start in API_KEY_PREFIXES:
        if key.startswith(start):
            public, sep, secret = key[len(start) :].partition("_")
            if sep and len(public) == 8 and public.isalnum() and len(secret) >= 32:
                return start + public
    return None


class TenantDirectory:
    """Cached lookups. The cache is bounded (``max_entries``, oldest dropped first)
    because negative answers are cached too and hosts come from the client."""

    def __init__(self, control: ControlPlane, ttl: float = 5.0, max_entries: int = 50_000):
        self.control = control
        self.ttl = ttl
        self.max_entries = max_entries
        # cache key -> (expires at, value)
        self._cache: OrderedDict[tuple[str, str], tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by invalidate(): a load started before it is not kept
        self.hits = 0
        self.misses = 0

    def by_slug(self, slug: str) -> TenantRef | None:
        return self._cached(("slug", slug), lambda c, _: _ref(c, _BY_SLUG, {"slug": slug}))

    def by_host(self, hostname: str) -> TenantRef | None:
        return self._cached(
            ("host", hostname), lambda c, _: _ref(c, _BY_HOST, {"hostname": hostname})
        )

    def by_id(self, tenant_id: int) -> TenantRef | None:
        return self._cached(
            ("id", str(tenant_id)), lambda c, _: _ref(c, _BY_ID, {"tenant_id": tenant_id})
        )

    def by_api_key(self, key: str) -> TenantRef | None:
        """The store the key belongs to, if the key is real and not revoked."""
        prefix = api_key_prefix(key)
        if prefix is None:
            return None
        entry = self._cached(("key", prefix), lambda c, also: _key_entry(c, prefix, also))
        if entry is None:
            return None
        key_hash, tenant_id = entry
        if not hmac.compare_digest(key_hash, hash_api_key(key)):
            return None
        return self.by_id(tenant_id)  # cached by the key's own lookup

    def invalidate(self, tenant: TenantRef | None = None) -> None:
        if tenant is None:
            with self._lock:
                self._generation += 1
                self._cache.clear()
            return
        self.forget(tenant.id, tenant.slug)

    def forget(self, tenant_id: int, slug: str | None = None) -> None:
        """Drop every entry of the store (and a cached "no such slug", which a
        newly created store makes wrong)."""
        with self._lock:
            self._generation += 1
            for cache_key, (_at, value) in list(self._cache.items()):
                if _belongs_to(value, tenant_id) or cache_key == ("slug", slug):
                    del self._cache[cache_key]

    def store_changed(self, change: StoreChange | None) -> None:
        """A ``tenancy.events`` subscriber: None means anything may have changed."""
        if change is None:
            self.invalidate()
        else:
            self.forget(change.tenant_id, change.slug)

    def _cached(self, cache_key: tuple[str, str], load):
        """The cached answer, or ``load(connection, also)``'s; a load may add
        further (cache key, value) pairs it read on the way to ``also``."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None and now < hit[0]:
                self.hits += 1
                return hit[1]
            self.misses += 1
            generation = self._generation
        also: list[tuple[tuple[str, str], object]] = []
        # One Core statement on a connection of its own: no ORM session or
        # entities to build for a row that becomes a frozen TenantRef.
        with self.control.engine.connect() as connection:
            value = load(connection, also)
        with self._lock:
            # A load that raced an invalidate() may have read the old row: serve it
            # to this caller only, never cache it for the next TTL.
            if generation == self._generation:
                for key, item in [*also, (cache_key, value)]:
                    self._cache[key] = (now + self._ttl_of(item), item)
                    self._cache.move_to_end(key)
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        return value

    def _ttl_of(self, value: object) -> float:
        if isinstance(value, TenantRef) and value.status in BUSY_STATUSES:
            return min(self.ttl, BUSY_TTL)
        return self.ttl


def _belongs_to(value: object, tenant_id: int) -> bool:
    if isinstance(value, TenantRef):
        return value.id == tenant_id
    return isinstance(value, tuple) and value[1] == tenant_id  # an API key entry


# What a TenantRef holds, in one row: the store and its server. The statements
# are built once (building one and its cache key costs more than running it).
_REF = select(
    Tenant.id,
    Tenant.slug,
    Tenant.name,
    Tenant.status,
    Tenant.version,
    Tenant.database_name,
    Tenant.db_user,
    Tenant.db_password_encrypted,
    DatabaseServer.id.label("server_id"),
    DatabaseServer.kind.label("server_kind"),
    DatabaseServer.admin_url_encrypted.label("server_admin_url_encrypted"),
    DatabaseServer.name.label("server_name"),
    DatabaseServer.user_host.label("server_user_host"),
    Tenant.default_locale,
).join(DatabaseServer, DatabaseServer.id == Tenant.server_id)
_BY_SLUG = _REF.where(Tenant.slug == bindparam("slug"))
_BY_ID = _REF.where(Tenant.id == bindparam("tenant_id"))
_BY_HOST = _REF.join(Domain, Domain.tenant_id == Tenant.id).where(
    Domain.hostname == bindparam("hostname")
)
_BY_KEY = (
    _REF.add_columns(ApiKeyIndex.key_hash)
    .join(ApiKeyIndex, ApiKeyIndex.tenant_id == Tenant.id)
    .where(ApiKeyIndex.prefix == bindparam("prefix"), ApiKeyIndex.revoked_at.is_(None))
)
_REF_FIELDS = tuple(field.name for field in fields(TenantRef))


def _row_ref(row) -> TenantRef:
    values = {name: row._mapping[name] for name in _REF_FIELDS}
    values["default_locale"] = values["default_locale"] or "en"
    return TenantRef(**values)


def _ref(connection, statement, params: dict) -> TenantRef | None:
    row = connection.execute(statement, params).first()
    return _row_ref(row) if row is not None else None


def _key_entry(connection, prefix: str, also: list) -> tuple[str, int] | None:
    """The key's hash and store; the store's TenantRef, read in the same row, is
    cached as ``by_id``'s answer."""
    row = connection.execute(_BY_KEY, {"prefix": prefix}).first()
    if row is None:
        return None
    also.append((("id", str(row.id)), _row_ref(row)))
    return (row.key_hash, row.id)
