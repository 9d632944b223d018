"""Products: the list, and the one place their rules live.

The back office's product form and the store API both create and change
products here, so a product is valid by the same rules whichever way it came in:
SKU (unique, letters, digits, ``. _ - /``), name, description, price and stock
within their limits. Stock moves by a relative adjustment under a row lock, so
concurrent adjustments add up and stock never goes below zero.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.audit.services import changed
from backoffice.formatting import to_minor
from backoffice.i18n import _
from backoffice.models import OrderLine, Product

PER_PAGE = 50
FIELDS = ("sku", "name", "description", "price_minor", "stock", "is_active")
TEXTS = {"sku": 64, "name": 200, "description": 10000}  # field -> most characters
REQUIRED = ("sku", "name")
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
MAX_PRICE = 10**9  # in the currency's main unit
MAX_STOCK = 10**9
REQUIRED_MESSAGE = _("This field is required.")
SKU_MESSAGE = _("Use letters, digits, dots, dashes, slashes or underscores.")
SKU_TAKEN = _("Another product already has this SKU.")
PRICE_TOO_LARGE = _("The price is too large.")
STOCK_TOO_LARGE = _("The stock is too large.")


class ProductInvalid(ValueError):
    """The product breaks its rules: ``errors`` maps each field to a translation string."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


class SkuTaken(ProductInvalid):
    def __init__(self, sku: str):
        super().__init__({"sku": SKU_TAKEN})
        self.sku = sku


class StockTooLow(ValueError):
    """An adjustment would take the stock below zero; ``stock`` is what there is."""

    def __init__(self, stock: int):
        super().__init__(stock)
        self.stock = stock


def max_price_minor(currency: str) -> int:
    return to_minor(Decimal(MAX_PRICE), currency)


def product_errors(data: dict, currency: str) -> dict:
    """The rules of a product, on typed values (a form or a JSON body parsed them)."""
    errors: dict = {}
    for name, most in TEXTS.items():
        value = data.get(name) or ""
        if name in REQUIRED and not value:
            errors[name] = REQUIRED_MESSAGE
        elif len(value) > most:
            errors[name] = _("At most ${n} characters.", mapping={"n": most})
    if "sku" not in errors and not SKU.match(data["sku"]):
        errors["sku"] = SKU_MESSAGE
    for name, most, too_large in (
        ("price_minor", max_price_minor(currency), PRICE_TOO_LARGE),
        ("stock", MAX_STOCK, STOCK_TOO_LARGE),
    ):
        value = data.get(name, 0)
        if value < 0:
            errors[name] = _("Must be at least ${n}.", mapping={"n": 0})
        elif value > most:
            errors[name] = too_large
    return errors


def _clean(data: dict) -> dict:
    return {
        k: v.strip() if k in TEXTS and isinstance(v, str) else v
        for k, v in data.items()
        if k in FIELDS
    }


def _check(db: Session, values: dict, currency: str, *, except_id: int | None = None) -> None:
    errors = product_errors(values, currency)
    if errors:
        raise ProductInvalid(errors)
    if sku_taken(db, values["sku"], except_id=except_id):
        raise SkuTaken(values["sku"])


def _flush(db: Session, product: Product) -> None:
    try:
        with db.begin_nested():
            db.add(product)
            db.flush()
    except IntegrityError:  # another transaction took the SKU since the check
        raise SkuTaken(product.sku) from None


def create_product(db: Session, data: dict, currency: str) -> Product:
    values = {
        "sku": "",
        "name": "",
        "description": "",
        "price_minor": 0,
        "stock": 0,
        "is_active": True,
        **_clean(data),
    }
    _check(db, values, currency)
    product = Product(**values)
    _flush(db, product)
    return product


def update_product(db: Session, product: Product, data: dict, currency: str) -> tuple[dict, dict]:
    """Apply the changes given (other fields stay); the fields that changed, before and after.

    A refused change leaves the product as it was (a lost race for the SKU rolls
    back its savepoint, which expires the product)."""
    before = snapshot(product)
    values = {**before, **_clean(data)}
    _check(db, values, currency, except_id=product.id)
    for key in FIELDS:
        setattr(product, key, values[key])
    _flush(db, product)
    return changed(before, snapshot(product))


def locked(db: Session, *, sku: str) -> Product | None:
    """The product, its row locked until the transaction ends (fresh from the database)."""
    return db.scalar(
        select(Product)
        .where(Product.sku == sku)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def adjust_stock(db: Session, product: Product, delta: int) -> None:
    """Add ``delta`` (negative: take away) to a product ``locked`` by this transaction."""
    stock = product.stock + delta
    if stock < 0:
        raise StockTooLow(product.stock)
    if stock > MAX_STOCK:
        raise ProductInvalid({"stock": STOCK_TOO_LARGE})
    product.stock = stock
    db.flush()


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
