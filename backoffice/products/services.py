from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from backoffice.models import OrderLine, Product

PER_PAGE = 50
FIELDS = ("sku", "name", "description", "price_minor", "stock", "is_active")


def product_page(db: Session, *, q: str, active: str, page: int) -> tuple[list[Product], bool]:
    query = select(Product).order_by(Product.name, Product.id)
    if q:
        text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                Product.sku.like(text + "%", escape="\\"),
                Product.name.like("%" + text + "%", escape="\\"),
            )
        )
    if active in ("yes", "no"):
        query = query.where(Product.is_active.is_(active == "yes"))
    rows = list(db.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def sku_taken(db: Session, sku: str, *, except_id: int | None = None) -> bool:
    query = select(Product.id).where(Product.sku == sku)
    if except_id is not None:
        query = query.where(Product.id != except_id)
    return db.scalar(query) is not None


def snapshot(product: Product) -> dict:
    return {name: getattr(product, name) for name in FIELDS}


def is_ordered(db: Session, product_id: int) -> bool:
    return bool(db.scalar(select(exists().where(OrderLine.product_id == product_id))))
