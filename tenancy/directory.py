"""Finding a store by host name, slug or API key, with a short-lived cache.

Lookups return ``TenantRef``: an immutable snapshot that is safe to share
between threads. Entries live ``backoffice.tenant_cache_ttl`` seconds; a change
made in this process (suspend, rotate, move) calls ``invalidate`` at once, and
other processes see it within the TTL; the engine registry additionally keys
engines on the snapshot's version, so a new version never reuses an old engine.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select

from tenancy.control import ControlPlane
from tenancy.models import ApiKeyIndex, DatabaseServer, Domain, Tenant

API_KEY_PREFIXES = ("bo_live_", "bo_test_")


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


def snapshot(tenant: Tenant) -> TenantRef:
    server = tenant.server
    return TenantRef(
        id=tenant.id, slug=tenant.slug, name=tenant.name, status=tenant.status,
        version=tenant.version, database_name=tenant.database_name, db_user=tenant.db_user,
        db_password_encrypted=tenant.db_password_encrypted, server_id=server.id,
        server_kind=server.kind, server_admin_url_encrypted=server.admin_url_encrypted,
        server_name=server.name, server_user_host=server.user_host,
        default_locale=tenant.default_locale or "en")


def hash_api_key(key: str) -> str:
    """API keys are 256-bit random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_prefix(key: str) -> str | None:
    """``bo_live_<8 chars>_<secret>`` -> ``bo_live_<8 chars>``; None if malformed."""
    for start in API_KEY_PREFIXES:
        if key.startswith(start):
            public, sep, secret = key[len(start):].partition("_")
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
        self._cache: OrderedDict[tuple[str, str], tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by invalidate(): a load started before it is not kept
        self.hits = 0
        self.misses = 0

    def by_slug(self, slug: str) -> TenantRef | None:
        return self._cached(("slug", slug), lambda s: _ref(s.scalar(
            select(Tenant).join(DatabaseServer).where(Tenant.slug == slug))))

    def by_host(self, hostname: str) -> TenantRef | None:
        return self._cached(("host", hostname), lambda s: _ref(s.scalar(
            select(Tenant).join(Domain, Domain.tenant_id == Tenant.id)
            .where(Domain.hostname == hostname))))

    def by_id(self, tenant_id: int) -> TenantRef | None:
        return self._cached(("id", str(tenant_id)), lambda s: _ref(s.get(Tenant, tenant_id)))

    def by_api_key(self, key: str) -> TenantRef | None:
        """The store the key belongs to, if the key is real and not revoked."""
        prefix = api_key_prefix(key)
        if prefix is None:
            return None
        entry = self._cached(("key", prefix), lambda s: _key_entry(s, prefix))
        if entry is None:
            return None
        key_hash, tenant_id = entry
        if not hmac.compare_digest(key_hash, hash_api_key(key)):
            return None
        return self.by_id(tenant_id)

    def invalidate(self, tenant: TenantRef | None = None) -> None:
        with self._lock:
            self._generation += 1
            if tenant is None:
                self._cache.clear()
                return
            for cache_key, (_at, value) in list(self._cache.items()):
                if _belongs_to(value, tenant.id):
                    del self._cache[cache_key]

    def _cached(self, cache_key: tuple[str, str], load):
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None and now - hit[0] < self.ttl:
                self.hits += 1
                return hit[1]
            self.misses += 1
            generation = self._generation
        with self.control.session() as session:
            value = load(session)
        with self._lock:
            # A load that raced an invalidate() may have read the old row: serve it
            # to this caller only, never cache it for the next TTL.
            if generation == self._generation:
                self._cache[cache_key] = (now, value)
                self._cache.move_to_end(cache_key)
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        return value


def _belongs_to(value: object, tenant_id: int) -> bool:
    if isinstance(value, TenantRef):
        return value.id == tenant_id
    return isinstance(value, tuple) and value[1] == tenant_id  # an API key entry


def _ref(tenant: Tenant | None) -> TenantRef | None:
    return snapshot(tenant) if tenant is not None else None


def _key_entry(session, prefix: str) -> tuple[str, int] | None:
    row = session.scalar(select(ApiKeyIndex).where(
        ApiKeyIndex.prefix == prefix, ApiKeyIndex.revoked_at.is_(None)))
    return (row.key_hash, row.tenant_id) if row is not None else None
