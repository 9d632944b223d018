"""The checkout of one shopper: its cart, details, payment method, and placing it.

The session keeps a random token; ``checkouts`` keeps its SHA-256 and all the
shopper entered, so a refused order (out of stock, store suspended) or a lost
connection loses nothing. Placing locks the checkout row first: a double click
or a reload waits for the first request and then finds the order it made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from backoffice.models import Checkout, Order, Payment, Product
from backoffice.models.base import utcnow
from backoffice.orders import service
from backoffice.orders.enums import OrderSource
from backoffice.orders.errors import OrderError, OutOfStock, UnknownProducts
from backoffice.payments.enums import LedgerEntryKind
from storefront.checkout.carts import MAX_LINES, MAX_QUANTITY
from storefront.checkout.forms import check_details, country_name
from storefront.checkout.payments import available_methods
from storefront.i18n import _
from tenancy.models import Tenant, TenantStatus

SESSION_KEY = "storefront.checkout"
ACTOR = "checkout"
STALE_AFTER = timedelta(days=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current(request) -> Checkout | None:
    """The session's checkout, open or placed."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    return request.db.scalar(select(Checkout).where(Checkout.token_hash == token_hash(token)))


def open_checkout(request) -> Checkout | None:
    checkout = current(request)
    return checkout if checkout is not None and checkout.state == "open" else None


def start(request, source: str) -> Checkout:
    """A new, empty checkout for this session (a placed one stays with its order)."""
    token = secrets.token_urlsafe(32)
    checkout = Checkout(
        token_hash=token_hash(token),
        state="open",
        source=source,
        locale=request.locale_name,
        lines=[],
        details=None,
    )
    request.db.add(checkout)
    request.db.flush()
    request.session[SESSION_KEY] = token
    _forget_stale(request.db)
    return checkout


def _forget_stale(db: Session) -> None:
    # Abandoned carts cost space only; a few go whenever a new one starts.
    old = list(
        db.scalars(
            select(Checkout.id)
            .where(Checkout.state == "open", Checkout.updated_at < utcnow() - STALE_AFTER)
            .limit(50)
        )
    )
    if old:
        db.execute(delete(Checkout).where(Checkout.id.in_(old)))


def open_or_start(request, source: str) -> Checkout:
    return open_checkout(request) or start(request, source)


def set_lines(checkout: Checkout, lines) -> None:
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = min(merged.get(sku, 0) + quantity, MAX_QUANTITY)
    checkout.lines = [{"sku": sku, "quantity": qty} for sku, qty in merged.items()][:MAX_LINES]


def add_line(checkout: Checkout, sku: str, quantity: int) -> None:
    set_lines(
        checkout, [*((line["sku"], line["quantity"]) for line in checkout.lines), (sku, quantity)]
    )


def sellable(db: Session, skus) -> dict[str, Product]:
    skus = list(dict.fromkeys(skus))
    if not skus:
        return {}
    return {
        p.sku: p
        for p in db.scalars(
            select(Product).where(Product.sku.in_(skus), Product.is_active.is_(True))
        )
    }


@dataclass(frozen=True)
class CartLine:
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    stock: int

    @property
    def total_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def short(self) -> bool:
        return self.quantity > self.stock


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    gone: tuple[str, ...]  # SKUs no longer sold
    currency: str

    @property
    def subtotal_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor  # no shipping charge yet (place_order sets 0)

    @property
    def empty(self) -> bool:
        return not self.lines

    @property
    def short(self) -> tuple[CartLine, ...]:
        return tuple(line for line in self.lines if line.short)


def cart_of(request, checkout: Checkout | None) -> Cart:
    currency = request.store_config.currency
    raw = checkout.lines if checkout is not None else []
    products = sellable(request.db, [line["sku"] for line in raw])
    lines = tuple(
        CartLine(p.sku, p.name, line["quantity"], p.price_minor, p.stock)
        for line in raw
        if (p := products.get(line["sku"])) is not None
    )
    gone = tuple(line["sku"] for line in raw if line["sku"] not in products)
    return Cart(lines, gone, currency)


def drop_gone(checkout: Checkout, cart: Cart) -> None:
    if cart.gone:
        checkout.lines = [line for line in checkout.lines if line["sku"] not in cart.gone]


def shipping_text(details: dict, locale: str) -> str:
    city = " ".join(part for part in (details["postcode"], details["city"]) if part)
    return "\n".join((details["address"], city, country_name(details["country"], locale)))


class PlacementRefused(Exception):
    """The order cannot be placed; ``message`` says why, ``step`` where to fix it."""

    def __init__(
        self, message, *, step: str = "review", status: int = 409, short: dict | None = None
    ):
        super().__init__(str(message))
        self.message, self.step, self.status = message, step, status
        self.short = short or {}


class _PriceChanged(Exception):
    pass


def store_takes_orders(request) -> bool:
    """Read now from the control DB: the router's cached view may be seconds old."""
    status = request.control.scalar(select(Tenant.status).where(Tenant.id == request.tenant.id))
    return status == TenantStatus.ACTIVE


def lock(db: Session, checkout_id: int) -> Checkout | None:
    # populate_existing: the row may already be in the session from before the lock,
    # and a second click must see what the first one committed.
    return db.scalar(
        select(Checkout)
        .where(Checkout.id == checkout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@dataclass(frozen=True)
class Placed:
    order: Order
    checkout: Checkout
    new: bool  # False: an earlier request (a double click, a reload) made it


def place(request, checkout_id: int, expected_total: int | None) -> Placed:
    """The order of this checkout, made now or by an earlier request.

    Raises ``PlacementRefused`` and then changes nothing."""
    db = request.db
    checkout = lock(db, checkout_id)
    if checkout is None:
        raise PlacementRefused(_("Your cart is empty."), step="cart")
    if checkout.order_id is not None:
        # A locking read: under REPEATABLE READ a plain one would use this transaction's
        # snapshot, taken before the other request committed the order.
        order = db.scalar(
            select(Order)
            .where(Order.id == checkout.order_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
        return Placed(order, checkout, False)
    payload = _payload(request, checkout)
    order = _place(db, payload, expected_total)
    checkout.order_id, checkout.state = order.id, "placed"
    checkout.locale = request.locale_name
    comment = (checkout.details or {}).get("comment")
    if comment:
        service.add_note(db, order, comment, actor=ACTOR)
    db.flush()
    return Placed(order, checkout, True)


def _payload(request, checkout: Checkout) -> dict:
    if not store_takes_orders(request):
        raise PlacementRefused(
            _(
                "This store is not taking orders right now. Your cart and "
                "details are saved: please try again later."
            ),
            status=503,
        )
    if not checkout.lines:
        raise PlacementRefused(_("Your cart is empty."), step="cart")
    details = check_details(checkout.details or {})
    if not details.ok:
        raise PlacementRefused(
            _("Please check your contact and delivery details."), step="details", status=422
        )
    methods = {m.name for m in available_methods(request, request.store_config.currency)}
    if methods and checkout.payment_method not in methods:
        raise PlacementRefused(_("Please choose a payment method."), step="payment", status=422)
    values = details.values
    return {
        "lines": [{"sku": line["sku"], "quantity": line["quantity"]} for line in checkout.lines],
        "customer": {"email": values["email"], "name": values["name"], "phone": values["phone"]},
        "shipping_address": shipping_text(values, request.store_config.default_locale),
        "locale": request.locale_name,
    }


def _place(db: Session, payload: dict, expected_total: int | None) -> Order:
    try:
        with db.begin_nested():
            order = service.place_order(
                db,
                payload,
                actor=ACTOR,
                source=OrderSource.CHECKOUT,
                message="placed on the hosted checkout",
            )
            if expected_total is not None and order.total_minor != expected_total:
                raise _PriceChanged()
    except _PriceChanged:
        raise PlacementRefused(
            _(
                "Prices have changed since you opened this page. Please "
                "check the new total and place the order again."
            )
        ) from None
    except OrderError as exc:
        raise _refusal(exc) from None
    return order


def _refusal(exc: OrderError) -> PlacementRefused:
    if isinstance(exc, OutOfStock):
        return PlacementRefused(
            _(
                "Some products are no longer in stock in the quantity you "
                "chose. Please change the quantities in your cart."
            ),
            short=dict(exc.details.get("available", {})),
        )
    if isinstance(exc, UnknownProducts):
        return PlacementRefused(
            _("Some products in your cart are no longer sold. Please review your cart."),
            step="cart",
        )
    return PlacementRefused(
        _("The order could not be placed. Please check your details and try again."), status=422
    )


def by_status_token(db: Session, token: str) -> Order | None:
    if not token or len(token) > 64:
        return None
    order = db.scalar(
        select(Order).where(Order.status_token == token).options(selectinload(Order.lines))
    )
    # The column's collation ignores case: the token must match exactly.
    if order is None or not hmac.compare_digest(order.status_token.encode(), token.encode()):
        return None
    return order


def checkout_of(db: Session, order: Order) -> Checkout | None:
    return db.scalar(select(Checkout).where(Checkout.order_id == order.id))


def last_payment_failed(db: Session, order: Order) -> bool:
    """Whether the order's latest payment attempt reported by a gateway was a
    failure (a declined card): the order page says so above "pay again"."""
    kind = db.scalar(
        select(Payment.kind)
        .where(Payment.order_id == order.id, Payment.kind.like("payment.%"))
        .order_by(Payment.id.desc())
        .limit(1)
    )
    return kind == LedgerEntryKind.PAYMENT_FAILED
