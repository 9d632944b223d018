"""Store-DB tables of the payments feature: gateway settings and raw notifications.

Imported by ``backoffice.models`` so the store ``metadata`` is complete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import Id, TenantBase, utcnow

# Up to 16 MiB on MariaDB (a plain BLOB stops at 64 KiB); the endpoint caps
# bodies well below that.
Body = LargeBinary().with_variant(MEDIUMBLOB(), "mysql")


class GatewayConfig(TenantBase):
    """One payment gateway as this store set it up.

    ``secrets`` maps a secret field's name to a key-ring token whose context is
    ``tenant:<store id>:gateway:<name>:<field>``, so a token copied to another
    store, gateway or field does not decrypt.
    """

    __tablename__ = "gateway_configs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secrets: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class PaymentNotification(TenantBase):
    """A provider's HTTP request exactly as received, stored before it is trusted.

    ``status``: received -> accepted | duplicate | flagged | rejected.
    """

    __tablename__ = "payment_notifications"
    __table_args__ = (
        Index("ix_payment_notifications_gateway_received_at", "gateway", "received_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    query_string: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[bytes] = mapped_column(Body)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
