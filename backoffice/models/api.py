"""Store-side records of the store API: keys, idempotency, outgoing webhooks.

The control DB's ``api_key_index`` maps a key to its store; the store's own
``api_keys`` row carries what the owner sees (name, who created it, last use)
and is checked on every API request, so a revoke is effective at once.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.models.base import Id, TenantBase, Token, utcnow


class ApiKey(TenantBase):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    prefix: Mapped[str] = mapped_column(Token(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(64), default="read")
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split() if s)


class IdempotencyRecord(TenantBase):
    """A claimed ``Idempotency-Key`` (or external reference) and the response it got.

    The unique constraint is the lock: a second identical request waits on the
    first one's uncommitted row and then replays its stored response.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    scope: Mapped[str] = mapped_column(Token(40))  # the API key prefix, or "reference"
    key: Mapped[str] = mapped_column(Token(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class WebhookEndpoint(TenantBase):
    """A reseller site's URL that receives order events, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[str] = mapped_column(String(200), default="*")
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True
    )

    def wants(self, event_type: str) -> bool:
        events = self.events.split()
        return "*" in events or event_type in events


class WebhookDelivery(TenantBase):
    """One event for one endpoint: the exact body sent, attempts and the last outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(Token(40))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    history: Mapped[list | None] = mapped_column(JSON)  # every attempt: when, status, error
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")
