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


# The customer list (``customers.services.customer_page``): by name, searched by
# a part of the name or an e-mail prefix. The page's ids come from this index
# alone, in its order.
Index("ix_customers_name", Customer.name, Customer.id, Customer.email)
