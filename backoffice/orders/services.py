"""Reading orders of one store: the list, the CSV export, the order page.

Changes go through ``backoffice.orders.service`` (placing, status, cancel, locks).
"""

from __future__ import annotations

import csv
import functools
import io
from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy import Row, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from backoffice.formatting import Formatter, to_decimal
from backoffice.models import Customer, Order, OrderEvent, OrderLine, Payment
from backoffice.orders.forms import OrderFilter, utc_bounds
from backoffice.orders.statuses import StatusFlow
from backoffice.payments.ledger import refundable_minor
from backoffice.speedups import order_detail_json

PER_PAGE = 50
BULK_LIMIT = 500
EXPORT_BATCH = 2000
SORT_COLUMNS = {
    "created": Order.created_at,
    "number": Order.number,
    "total": Order.total_minor,
    "customer": Order.customer_name,
    "status": Order.status,
}
LIST_COLUMNS = (
    Order.id,
    Order.number,
    Order.status,
    Order.payment_status,
    Order.customer_name,
    Order.customer_email,
    Order.currency,
    Order.total_minor,
    Order.created_at,
)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(f: OrderFilter, tz) -> tuple[Select, dict]:
    """The list's statement for this filter and its parameters: WHERE and ORDER
    BY, read from ``ix_orders_newest`` / ``ix_orders_status_newest`` when newest
    first (see ``backoffice.models.orders``)."""
    start, end = utc_bounds(f, tz)
    search = None if not f.q else "email" if "@" in f.q else "text"
    params = {"status": f.status, "payment": f.payment, "start": start, "end": end}
    if search:
        text = _like(f.q)
        params.update(email=text.lower() + "%", number=text + "%", name="%" + text + "%")
    shape = (bool(f.status), bool(f.payment), start is not None, end is not None, search, f.sort)
    return _list_statement(*shape), params


@functools.lru_cache(maxsize=256)
def _list_statement(
    status: bool, payment: bool, start: bool, end: bool, search: str | None, sort: str
) -> Select:
    """Built once per shape of filter: building a statement and working out its
    cache key costs ~0.1 ms a query, SQLAlchemy's compiled cache only saves the
    compiling. The values are bound parameters."""
    query = select(*LIST_COLUMNS)
    if status:
        query = query.where(Order.status == bindparam("status"))
    if payment:
        query = query.where(Order.payment_status == bindparam("payment"))
    if start:
        query = query.where(Order.created_at >= bindparam("start"))
    if end:
        query = query.where(Order.created_at < bindparam("end"))
    if search == "email":
        query = query.where(Order.customer_email.like(bindparam("email"), escape="\\"))
    elif search == "text":
        query = query.where(
            or_(
                Order.number.like(bindparam("number"), escape="\\"),
                Order.customer_email.like(bindparam("email"), escape="\\"),
                Order.customer_name.like(bindparam("name"), escape="\\"),
            )
        )
    column = SORT_COLUMNS[sort.lstrip("-")]
    if sort.startswith("-"):
        return query.order_by(column.desc(), Order.id.desc())
    return query.order_by(column.asc(), Order.id.asc())


@functools.lru_cache(maxsize=256)
def _page_statement(statement: Select) -> Select:
    return statement.offset(bindparam("offset")).limit(bindparam("limit"))


def order_page(db: Session, f: OrderFilter, tz) -> tuple[list, bool]:
    """One page and whether another follows: no COUNT(*) over a big table per view.
    Plain rows, run on the session's connection (the ORM has nothing to load)."""
    statement, params = filtered(f, tz)
    rows = (
        db.connection()
        .execute(
            _page_statement(statement),
            {**params, "offset": (f.page - 1) * PER_PAGE, "limit": PER_PAGE + 1},
        )
        .all()
    )
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def export_csv(
    db: Session,
    f: OrderFilter,
    tz,
    flow: StatusFlow,
    fmt: Formatter,
    headers: list[str],
    payment_label,
) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    statement, params = filtered(f, tz)
    result = db.execute(statement.execution_options(yield_per=EXPORT_BATCH), params)
    for row in result:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    row.number,
                    fmt.local(row.created_at).strftime("%Y-%m-%d %H:%M"),
                    flow.label(row.status),
                    payment_label(row.payment_status),
                    row.customer_name,
                    row.customer_email,
                    to_decimal(row.total_minor, row.currency),
                    row.currency,
                )
            ]
        )
    return out.getvalue()


def _cell(value):
    """Spreadsheets run cells starting with = + - @ as formulas: defuse them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@dataclass(frozen=True)
class CustomerLink:
    id: int
    name: str


@dataclass
class OrderDetail:
    """The order page's rows: read-only, so plain rows (attributes by column
    name, as on the models) and no ORM objects to build and track."""

    order: Row  # orders, and the customer's current name (``customer_record_name``)
    lines: list[LineRow]  # order_lines: what a line shows (``_DETAIL_LINES``)
    events: list[EventRow]  # order_events, newest first, as the timeline shows them
    customer: CustomerLink | None  # the customer record, if the order has one
    payments: list[PaymentRow]  # payments: what the table shows (``_DETAIL_PAYMENTS``)

    @property
    def refundable_minor(self) -> int:
        """What is left to refund: money in, minus refunds made or on their way."""
        return refundable_minor(self.payments)


# The order page's statements, built once (see ``_list_statement``). The
# children are read for what the page shows: not a payment's raw provider
# notification or an event's JSON data (kilobytes each), and no ids.
_orders, _customers = Order.__table__, Customer.__table__
_DETAIL_ORDER = (
    select(
        *(c for c in _orders.c if c.key != "status_token"),
        _customers.c.name.label("customer_record_name"),
    )
    .outerjoin(_customers, _customers.c.id == _orders.c.customer_id)
    .where(_orders.c.id == bindparam("order_id"))
)
_DETAIL_LINES = (
    select(
        OrderLine.sku,
        OrderLine.name,
        OrderLine.quantity,
        OrderLine.unit_price_minor,
        OrderLine.total_minor,
    )
    .where(OrderLine.order_id == bindparam("order_id"))
    .order_by(OrderLine.id)
)
_DETAIL_EVENTS = (
    select(
        OrderEvent.kind,
        OrderEvent.actor,
        OrderEvent.from_status,
        OrderEvent.to_status,
        OrderEvent.message,
        OrderEvent.created_at,
    )
    .where(OrderEvent.order_id == bindparam("order_id"))
    .order_by(OrderEvent.id.desc())
)
_DETAIL_PAYMENTS = (
    select(
        Payment.gateway,
        Payment.kind,
        Payment.status,
        Payment.amount_minor,
        Payment.currency,
        Payment.created_at,
    )
    .where(Payment.order_id == bindparam("order_id"))
    .order_by(Payment.id)
)


def _row_type(name: str, statement: Select):
    """What the page reads of a child row: attributes by column name, as on a Row."""
    return namedtuple(name, [c.name for c in statement.selected_columns])


LineRow = _row_type("LineRow", _DETAIL_LINES)
EventRow = _row_type("EventRow", _DETAIL_EVENTS)
PaymentRow = _row_type("PaymentRow", _DETAIL_PAYMENTS)

# OrderDetail's child lists: their statement, row type and order in the subquery.
_CHILDREN = {
    "lines": (_DETAIL_LINES, LineRow, "id"),
    "events": (_DETAIL_EVENTS, EventRow, "id DESC"),
    "payments": (_DETAIL_PAYMENTS, PaymentRow, "id"),
}

# On MySQL/MariaDB the children come in the order's own row: one round trip
# instead of four (~0.15-0.7 ms each on a local server, more over a network).
_DETAIL_ORDER_WITH_CHILDREN = _DETAIL_ORDER.add_columns(
    *(
        order_detail_json.children_json(statement, _orders.name, order, f"{name}_json")
        for name, (statement, _row, order) in _CHILDREN.items()
    )
)


def order_detail(db: Session, order_id: int, *, one_trip: bool = True) -> OrderDetail | None:
    """The order page: the order with its customer's name, its lines, events
    and payments. With *one_trip* on MySQL/MariaDB one statement (children as
    JSON arrays in the order's row, ``backoffice.speedups.order_detail_json``);
    otherwise (and on SQLite, in process) one plain query each."""
    conn, params = db.connection(), {"order_id": order_id}
    one_trip = one_trip and conn.dialect.name == "mysql"
    order = conn.execute(
        _DETAIL_ORDER_WITH_CHILDREN if one_trip else _DETAIL_ORDER, params
    ).one_or_none()
    if order is None:
        return None
    customer = (
        CustomerLink(order.customer_id, order.customer_record_name)
        if order.customer_record_name is not None
        else None
    )
    children = {}
    for name, (statement, row, _order) in _CHILDREN.items():
        rows = order_detail_json.children(getattr(order, f"{name}_json"), row) if one_trip else None
        children[name] = (
            rows if rows is not None else [row._make(r) for r in conn.execute(statement, params)]
        )
    return OrderDetail(order=order, customer=customer, **children)
