"""The store's transactional outbox: every change of an order, written in the
transaction that made it, read by consumers (webhooks today; e-mail and SMS
later) that each keep their own cursor. See docs/architecture.md, "Outbox"."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import Id, TenantBase, utcnow


class OutboxEvent(TenantBase):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Public and random: a receiver of several stores' events can dedupe on it.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxCursor(TenantBase):
    """How far one consumer has read: advanced in the consumer's own transaction,
    together with what it did with the events."""

    __tablename__ = "outbox_cursors"

    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
