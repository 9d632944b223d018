from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import Id, Minor, TenantBase, Token, utcnow


class Payment(TenantBase):
    """A money movement reported by a gateway; unique per provider event."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("gateway", "provider_reference", "kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(64))
    provider_reference: Mapped[str] = mapped_column(Token(128))
    kind: Mapped[str] = mapped_column(String(32))
    # backoffice.payments.enums: LedgerEntryKind (kind) and PaymentState (status);
    # the models import no feature package, so the default is the enum's text.
    status: Mapped[str] = mapped_column(String(16), default="succeeded")
    amount_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(String(3))
    raw: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
