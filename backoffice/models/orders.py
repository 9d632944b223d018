from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.models.base import Id, Minor, TenantBase, Token, utcnow


class Order(TenantBase):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # Fulfilment status (the store's flow) and payment status (from the ledger):
    # backoffice.orders.enums; the models import no feature package, hence the texts.
    status: Mapped[str] = mapped_column(String(32), default="new")
    payment_status: Mapped[str] = mapped_column(String(20), default="unpaid", index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    customer_phone: Mapped[str] = mapped_column(String(40), default="")
    shipping_address: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(Minor, default=0)
    shipping_minor: Mapped[int] = mapped_column(Minor, default=0)
    total_minor: Mapped[int] = mapped_column(Minor, default=0)
    source: Mapped[str] = mapped_column(String(16), default="backoffice")
    external_reference: Mapped[str | None] = mapped_column(Token(100), unique=True)
    status_token: Mapped[str | None] = mapped_column(Token(64), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Indexed for the store API's ``updated_after``.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )


# The order list (``orders.services.LIST_COLUMNS``): newest first
# (``created_at DESC, id DESC``), optionally of one status, optionally searched
# by number / e-mail prefix or a part of the name. Each index holds every
# column the list shows, so a page is read from the index alone: a search
# that finds 50 matches among the 600 newest orders reads 600 index entries,
# not 600 rows (`docs/benchmarks.md`). Descending keys make the newest-first
# page a forward scan.
_LISTED = (
    Order.number,
    Order.customer_email,
    Order.customer_name,
    Order.payment_status,
    Order.currency,
    Order.total_minor,
)
Index("ix_orders_newest", Order.created_at.desc(), Order.id.desc(), Order.status, *_LISTED)
Index("ix_orders_status_newest", Order.status, Order.created_at.desc(), Order.id.desc(), *_LISTED)
# A customer's orders, newest first (the customer page's history), and their
# count and last date for each row of the customer list: an index range each.
Index("ix_orders_customer_newest", Order.customer_id, Order.created_at.desc(), Order.id.desc())


class OrderLine(TenantBase):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(Minor)
    total_minor: Mapped[int] = mapped_column(Minor)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(TenantBase):
    """The order timeline: every change, by whom, when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(254), default="system")
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")


class InventoryMovement(TenantBase):
    """One change of a product's stock made by an order: placed (negative),
    cancelled or refunded (positive). What an order still holds is minus the
    sum of its rows, so stock goes back once however often it is asked."""

    __tablename__ = "inventory_movements"
    __table_args__ = (Index("ix_inventory_movements_product_at", "product_id", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(254), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
