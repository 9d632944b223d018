from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import Id, TenantBase, utcnow


class Customer(TenantBase):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Indexed for the store API's ``updated_after`` (a reseller site's sync since its last run).
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )


# The customer list (``customers.services.customer_page``): by name, searched by
# a part of the name or an e-mail prefix. The page's ids come from this index
# alone, in its order.
Index("ix_customers_name", Customer.name, Customer.id, Customer.email)
