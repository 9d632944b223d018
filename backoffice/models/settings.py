from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.models.base import TenantBase


class StoreSetting(TenantBase):
    """Key/value store settings: name, currency, language, timezone, number format."""

    __tablename__ = "store_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
