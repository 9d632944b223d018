"""Creating, listing and revoking a store's API keys.

A key is ``bo_live_<8 public chars>_<43 secret chars>``: the public part is the
prefix both databases index; only the SHA-256 of the whole key is stored (in the
control DB, where the router looks it up). The full key is returned once, by
``create``, and can never be shown again.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backoffice.i18n import _
from backoffice.models import ApiKey
from backoffice.models.base import utcnow
from tenancy.directory import api_key_prefix, hash_api_key
from tenancy.models import ApiKeyIndex

SCOPES = ("read", "write")
KEY_PREFIX = "bo_live_"
_PUBLIC_ALPHABET = string.ascii_lowercase + string.digits


class ApiKeyError(ValueError):
    """The owner asked for something impossible (no scope, unknown scope, no name)."""


@dataclass(frozen=True)
class CreatedKey:
    record: ApiKey
    secret: str  # the full key: show it once, never store it


def generate_key() -> str:
    public = "".join(secrets.choice(_PUBLIC_ALPHABET) for _ in range(8))
    return f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"


def normalise_scopes(scopes) -> str:
    chosen = [s for s in SCOPES if s in set(scopes)]
    unknown = set(scopes) - set(SCOPES)
    if unknown or not chosen:
        raise ApiKeyError(_("Choose the scopes read and/or write."))
    return " ".join(chosen)


class ApiKeyService:
    """One store's keys: the store-side row and the control DB index move together."""

    def __init__(self, control: Session, db: Session, tenant_id: int):
        self.control = control
        self.db = db
        self.tenant_id = tenant_id

    def create(self, name: str, scopes, created_by: str = "") -> CreatedKey:
        name = (name or "").strip()[:100]
        if not name:
            raise ApiKeyError(_("Give the key a name."))
        scope_text = normalise_scopes(scopes)
        secret = generate_key()
        prefix = api_key_prefix(secret)
        self.control.add(
            ApiKeyIndex(
                prefix=prefix,
                key_hash=hash_api_key(secret),
                tenant_id=self.tenant_id,
                scopes=scope_text,
            )
        )
        record = ApiKey(prefix=prefix, name=name, scopes=scope_text, created_by=created_by)
        self.db.add(record)
        self.db.flush()
        self.control.flush()
        return CreatedKey(record, secret)

    def list(self) -> list[ApiKey]:
        return list(self.db.scalars(select(ApiKey).order_by(ApiKey.id.desc())))

    def get(self, key_id: int) -> ApiKey | None:
        return self.db.get(ApiKey, key_id)

    def revoke(self, record: ApiKey) -> str:
        """Revoke in both databases; returns the prefix so callers can drop caches."""
        now = utcnow()
        if record.revoked_at is None:
            record.revoked_at = now
        self.control.execute(
            update(ApiKeyIndex)
            .where(
                ApiKeyIndex.prefix == record.prefix,
                ApiKeyIndex.tenant_id == self.tenant_id,
                ApiKeyIndex.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        self.db.flush()
        return record.prefix


def active_key(db: Session, prefix: str) -> ApiKey | None:
    """The store-side row of a key the router accepted, unless revoked here."""
    return db.scalar(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)))
