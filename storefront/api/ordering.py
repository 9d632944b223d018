"""Placing an order through the API: prices from the store's catalogue, stock locked.

The products of the order are read ``FOR UPDATE`` in SKU order (one lock order
for everyone: no deadlock between two orders of the same products), checked
and decremented in the request's transaction, so two orders can never both get
the last item.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.models import Customer, Order, OrderEvent, OrderLine, Product, StoreSetting
from backoffice.orders.numbers import order_number
from storefront.api.errors import ApiError, invalid


def setting(db: Session, key: str, default: str) -> str:
    row = db.get(StoreSetting, key)
    return row.value if row is not None and row.value else default


def lock_products(db: Session, lines: list[dict]) -> dict[str, Product]:
    skus = [line["sku"] for line in lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise invalid("list each SKU once", {"duplicate_skus": duplicates})
    products = {
        p.sku: p
        for p in db.scalars(
            select(Product).where(Product.sku.in_(skus)).order_by(Product.sku).with_for_update()
        )
    }
    unknown = sorted(s for s in skus if s not in products or not products[s].is_active)
    if unknown:
        raise invalid("unknown or inactive products", {"skus": unknown})
    short = {
        line["sku"]: products[line["sku"]].stock
        for line in lines
        if products[line["sku"]].stock < line["quantity"]
    }
    if short:
        raise ApiError(409, "out_of_stock", "not enough stock", {"available": short})
    return products


def customer_for(db: Session, data: dict) -> Customer:
    email = data["email"].strip().lower()
    customer = db.scalar(
        select(Customer).where(Customer.email == email).order_by(Customer.id).limit(1)
    )
    if customer is None:
        customer = Customer(email=email, name=data.get("name", ""), phone=data.get("phone", ""))
        db.add(customer)
        db.flush()
    return customer


def place_order(
    db: Session,
    payload: dict,
    *,
    actor: str,
    source: str = "api",
    message: str = "placed through the store API",
) -> Order:
    """The one way orders come in from outside (the API, the hosted checkout)."""
    products = lock_products(db, payload["lines"])
    customer = customer_for(db, payload["customer"])
    order = Order(
        number="tmp-" + secrets.token_hex(8),
        status="new",
        payment_status="unpaid",
        customer_id=customer.id,
        customer_email=customer.email,
        customer_name=payload["customer"].get("name") or customer.name,
        customer_phone=payload["customer"].get("phone") or customer.phone,
        shipping_address=payload.get("shipping_address", ""),
        currency=setting(db, "currency", "EUR"),
        source=source,
        external_reference=payload.get("external_reference"),
        status_token=secrets.token_urlsafe(24),
        locale=payload.get("locale", "en"),
    )
    for line in payload["lines"]:
        product = products[line["sku"]]
        product.stock -= line["quantity"]
        order.lines.append(
            OrderLine(
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                quantity=line["quantity"],
                unit_price_minor=product.price_minor,
                total_minor=product.price_minor * line["quantity"],
            )
        )
    order.subtotal_minor = sum(line.total_minor for line in order.lines)
    order.shipping_minor = 0
    order.total_minor = order.subtotal_minor
    order.events.append(OrderEvent(kind="created", actor=actor, to_status="new", message=message))
    _insert(db, order)
    return order


def _insert(db: Session, order: Order) -> None:
    try:
        with db.begin_nested():
            db.add(order)
            db.flush()
    except IntegrityError:
        # Only the external reference can collide (an order made in the back-office).
        raise ApiError(
            409,
            "duplicate_external_reference",
            "an order with this external_reference already exists",
            {"external_reference": order.external_reference},
        ) from None
    # The number comes from the id: unique without a counter row to lock.
    order.number = order_number(setting(db, "order_number_format", None), order.id)
    db.flush()


def change_status(
    db: Session, order: Order, status: str, *, actor: str, message: str, allowed: tuple[str, ...]
) -> OrderEvent:
    if status not in allowed:
        raise ApiError(
            422,
            "invalid_transition",
            f"an order in status {order.status!r} cannot move to {status!r}",
            {"from": order.status, "allowed": list(allowed)},
        )
    event = OrderEvent(
        kind="status_changed",
        actor=actor,
        from_status=order.status,
        to_status=status,
        message=message,
    )
    order.status = status
    order.events.append(event)
    db.flush()
    return event
