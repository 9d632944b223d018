"""The one owner of an order: placing, status changes, cancelling, locking.

The hosted checkout, the store API, the back office's pages and bulk actions
and payment processing all come here; nothing else writes ``orders.status`` or
a product's stock for an order. Each function runs in the caller's
transaction, changes nothing when it raises an ``OrderError``, and announces
what it changed in the store's outbox (``backoffice.outbox``) in that same
transaction.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice import outbox
from backoffice.models import (
    Customer,
    InventoryMovement,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    StoreSetting,
)
from backoffice.orders.enums import (
    FulfilmentStatus,
    MovementReason,
    OrderEventKind,
    OrderSource,
    OutboxEventKind,
    PaymentStatus,
)
from backoffice.orders.errors import (
    DuplicateLines,
    DuplicateReference,
    OutOfStock,
    TransitionRefused,
    UnknownProducts,
)
from backoffice.orders.numbers import order_number
from backoffice.orders.statuses import StatusFlow, store_flow

SYSTEM = "system"


def setting(db: Session, key: str, default: str | None = None) -> str | None:
    row = db.get(StoreSetting, key)
    return row.value if row is not None and row.value else default


def flag(db: Session, key: str) -> bool:
    return (setting(db, key, "") or "").lower() in ("1", "true", "yes", "on")


def lock_order(db: Session, order_id: int) -> Order | None:
    """The order, locked until the transaction ends (``SELECT ... FOR UPDATE``),
    read fresh: whatever another transaction committed before the lock is seen."""
    query = select(Order).where(Order.id == order_id).with_for_update()
    return db.scalar(query.execution_options(populate_existing=True))


# -- events ---------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def snapshot(order: Order) -> dict:
    """What every announcement carries of the order: no e-mail, phone or address."""
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "external_reference": order.external_reference,
        "status_token": order.status_token,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
    }


def announce(db: Session, kind: OutboxEventKind, order: Order, **extra) -> None:
    db.flush()  # the order's updated_at, and its id for a new one
    outbox.publish(db, kind, {"order": snapshot(order), **extra}, order_id=order.id)


# -- placing --------------------------------------------------------------


def lock_products(db: Session, lines: list[dict]) -> dict[str, Product]:
    """The order's products, locked in SKU order (one lock order for everyone: no
    deadlock between two orders of the same products), checked for stock."""
    skus = [line["sku"] for line in lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise DuplicateLines("list each SKU once", duplicate_skus=duplicates)
    products = {
        p.sku: p
        for p in db.scalars(
            select(Product).where(Product.sku.in_(skus)).order_by(Product.sku).with_for_update()
        )
    }
    unknown = sorted(s for s in skus if s not in products or not products[s].is_active)
    if unknown:
        raise UnknownProducts("unknown or inactive products", skus=unknown)
    short = {
        line["sku"]: products[line["sku"]].stock
        for line in lines
        if products[line["sku"]].stock < line["quantity"]
    }
    if short:
        raise OutOfStock("not enough stock", available=short)
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
    draft: dict,
    *,
    actor: str,
    source: OrderSource = OrderSource.API,
    message: str = "",
) -> Order:
    """A new order from ``draft`` (``lines`` of sku/quantity, ``customer``,
    ``shipping_address``, ``external_reference``, ``locale``): prices from the
    catalogue, stock taken in this transaction, the store's numbering.

    Raises ``DuplicateLines``, ``UnknownProducts``, ``OutOfStock`` or
    ``DuplicateReference`` and then has changed nothing."""
    products = lock_products(db, draft["lines"])
    customer = customer_for(db, draft["customer"])
    order = Order(
        number="tmp-" + secrets.token_hex(8),
        status=FulfilmentStatus.NEW,
        payment_status=PaymentStatus.UNPAID,
        customer_id=customer.id,
        customer_email=customer.email,
        customer_name=draft["customer"].get("name") or customer.name,
        customer_phone=draft["customer"].get("phone") or customer.phone,
        shipping_address=draft.get("shipping_address", ""),
        currency=setting(db, "currency", "EUR"),
        source=source,
        external_reference=draft.get("external_reference"),
        status_token=secrets.token_urlsafe(24),
        locale=draft.get("locale", "en"),
    )
    for line in draft["lines"]:
        product = products[line["sku"]]
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
    order.events.append(
        OrderEvent(
            kind=OrderEventKind.CREATED, actor=actor, to_status=order.status, message=message
        )
    )
    _insert(db, order)
    for line in order.lines:
        product = products[line.sku]
        _move_stock(db, product, order, -line.quantity, MovementReason.ORDER_PLACED, actor)
    announce(db, OutboxEventKind.ORDER_CREATED, order)
    return order


def _insert(db: Session, order: Order) -> None:
    try:
        with db.begin_nested():
            db.add(order)
            db.flush()
    except IntegrityError:
        # Only the external reference can collide (the number is unique by its id).
        raise DuplicateReference(
            "an order with this external_reference already exists",
            external_reference=order.external_reference,
        ) from None
    # The number comes from the id: unique without a counter row to lock.
    order.number = order_number(setting(db, "order_number_format"), order.id)
    db.flush()


# -- stock ----------------------------------------------------------------


def _move_stock(
    db: Session, product: Product, order: Order, delta: int, reason: MovementReason, actor: str
) -> None:
    product.stock += delta
    db.add(
        InventoryMovement(
            product_id=product.id, order_id=order.id, delta=delta, reason=reason, actor=actor
        )
    )


def held_stock(db: Session, order: Order) -> dict[int, int]:
    """What the order still holds of each product: minus the sum of its movements
    (an order from before movements were recorded holds its lines)."""
    rows = db.execute(
        select(InventoryMovement.product_id, func.sum(InventoryMovement.delta))
        .where(InventoryMovement.order_id == order.id)
        .group_by(InventoryMovement.product_id)
    ).all()
    if rows:
        return {product_id: -int(total) for product_id, total in rows if -int(total) > 0}
    held: dict[int, int] = defaultdict(int)
    for line in order.lines:
        if line.product_id is not None:
            held[line.product_id] += line.quantity
    return dict(held)


def return_stock(db: Session, order: Order, reason: MovementReason, actor: str) -> int:
    """Put back what the order holds, once: a second call finds nothing held.
    Runs under the order's lock (the caller's ``lock_order``); products are
    locked in id order. Returns the number of items put back."""
    held = held_stock(db, order)
    if not held:
        return 0
    products = db.scalars(
        select(Product).where(Product.id.in_(held)).order_by(Product.id).with_for_update()
    )
    returned = 0
    for product in products:
        _move_stock(db, product, order, held[product.id], reason, actor)
        returned += held[product.id]
    db.add(
        OrderEvent(
            order_id=order.id,
            kind=OrderEventKind.STOCK_RETURNED,
            actor=actor,
            message=str(returned),
            data={"reason": str(reason)},
        )
    )
    return returned


# -- status ---------------------------------------------------------------


def change_status(
    db: Session,
    order: Order,
    target: str,
    flow: StatusFlow | None = None,
    *,
    actor: str,
    message: str = "",
) -> OrderEvent:
    """Move a locked order along the store's flow; ``TransitionRefused`` if the
    flow does not lead there. Cancelling returns the stock the order holds."""
    flow = flow or store_flow(db)
    if not flow.can_move(order.status, target):
        raise TransitionRefused(order.status, target, flow.next(order.status))
    previous = order.status
    event = OrderEvent(
        order_id=order.id,
        kind=OrderEventKind.STATUS_CHANGED,
        actor=actor,
        from_status=previous,
        to_status=target,
        message=message,
    )
    order.status = target
    db.add(event)
    if target == FulfilmentStatus.CANCELLED:
        return_stock(db, order, MovementReason.ORDER_CANCELLED, actor)
    announce(db, OutboxEventKind.ORDER_STATUS_CHANGED, order, previous_status=previous)
    if target == FulfilmentStatus.CANCELLED:
        announce(db, OutboxEventKind.ORDER_CANCELLED, order, previous_status=previous)
    return event


def cancel(
    db: Session, order: Order, flow: StatusFlow | None = None, *, actor: str, message: str = ""
) -> OrderEvent:
    return change_status(db, order, FulfilmentStatus.CANCELLED, flow, actor=actor, message=message)


def bulk_change(
    db: Session, ids: list[int], target: str, flow: StatusFlow, *, actor: str
) -> tuple[list[tuple[Order, str]], list[Order]]:
    """Moves the orders that may move; returns (changed with their former status, refused)."""
    orders = list(
        db.scalars(
            select(Order)
            .where(Order.id.in_(ids))
            .order_by(Order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    changed, refused = [], []
    for order in orders:
        before = order.status
        try:
            change_status(db, order, target, flow, actor=actor, message="bulk")
        except TransitionRefused:
            refused.append(order)
        else:
            changed.append((order, before))
    return changed, refused


def add_note(db: Session, order: Order, text: str, *, actor: str) -> OrderEvent:
    event = OrderEvent(order_id=order.id, kind=OrderEventKind.NOTE, actor=actor, message=text)
    db.add(event)
    return event


def confirm_if_paid(db: Session, order: Order) -> None:
    """The store setting ``confirm_paid_orders``: a new order that became paid is
    confirmed (if the store's flow leads there)."""
    if order.payment_status != PaymentStatus.PAID or order.status != FulfilmentStatus.NEW:
        return
    if not flag(db, "confirm_paid_orders"):
        return
    flow = store_flow(db)
    if flow.can_move(order.status, FulfilmentStatus.CONFIRMED):
        change_status(db, order, FulfilmentStatus.CONFIRMED, flow, actor=SYSTEM, message="paid")
