"""A shopper's cart on the hosted checkout pages, kept until it becomes an order.

The shopper's session holds a random token; the row holds only its SHA-256,
so a leaked database does not let anyone resume someone else's checkout. Once
placed, ``order_id`` is set (unique: one checkout makes at most one order) and
the row stays as the link from the order to the payment method chosen.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import Id, TenantBase, Token, utcnow


class Checkout(TenantBase):
    __tablename__ = "checkouts"
    __table_args__ = (Index("ix_checkouts_state_updated_at", "state", "updated_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(Token(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    source: Mapped[str] = mapped_column(String(16), default="link")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # [{"sku": ..., "quantity": ...}], in the order the shopper added them.
    lines: Mapped[list] = mapped_column(JSON, default=list)
    # Contact and delivery fields as last entered (valid or not: nothing typed is lost).
    details: Mapped[dict | None] = mapped_column(JSON)
    payment_method: Mapped[str | None] = mapped_column(String(64))
    payment_instructions: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
