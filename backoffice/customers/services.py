"""Customers: the list, one customer's history, and the one place their rules live.

The store API and the back office create and change customers here. An e-mail
address is kept lower-case and trimmed, and names one customer of the store:
the order placement finds a customer by it the same way.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backoffice.audit.services import changed
from backoffice.i18n import _
from backoffice.models import Customer, Order
from backoffice.orders.enums import FulfilmentStatus, PaymentStatus
from backoffice.ui.forms import EMAIL

PER_PAGE = 50
HISTORY_LIMIT = 200
FIELDS = ("email", "name", "phone")
TEXTS = {"email": 254, "name": 200, "phone": 40}  # field -> most characters
EMAIL_TAKEN = _("Another customer already has this e-mail address.")
DEADLOCK = 1213  # MariaDB: two transactions raced for the same gap (the same new e-mail)


class CustomerInvalid(ValueError):
    """The customer breaks its rules: ``errors`` maps each field to a translation string."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


class EmailTaken(CustomerInvalid):
    def __init__(self, email: str):
        super().__init__({"email": EMAIL_TAKEN})
        self.email = email


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


def customer_errors(data: dict) -> dict:
    errors: dict = {}
    for name, most in TEXTS.items():
        if len(data.get(name) or "") > most:
            errors[name] = _("At most ${n} characters.", mapping={"n": most})
    if not data.get("email"):
        errors["email"] = _("This field is required.")
    elif "email" not in errors and not EMAIL.match(data["email"]):
        errors["email"] = _("Enter a valid e-mail address.")
    return errors


def email_taken(db: Session, email: str, *, except_id: int | None = None) -> bool:
    """Whether another customer has ``email``; locks the index range, so a
    concurrent transaction cannot add that e-mail until this one ends."""
    query = select(Customer.id).where(Customer.email == email).with_for_update()
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    return db.scalar(query.limit(1)) is not None


def _clean(data: dict) -> dict:
    values = {k: (v or "").strip() for k, v in data.items() if k in FIELDS}
    if "email" in values:
        values["email"] = normal_email(values["email"])
    return values


def _check(db: Session, values: dict, *, except_id: int | None = None) -> None:
    errors = customer_errors(values)
    if errors:
        raise CustomerInvalid(errors)
    if email_taken(db, values["email"], except_id=except_id):
        raise EmailTaken(values["email"])


def _flush(db: Session, customer: Customer) -> None:
    try:
        db.add(customer)
        db.flush()
    except OperationalError as exc:
        # The loser of two concurrent first uses of an e-mail (the engine rolled
        # its whole transaction back): the other one has the address now.
        if getattr(exc.orig, "args", [None])[0] == DEADLOCK:
            raise EmailTaken(customer.email) from None
        raise


def create_customer(db: Session, data: dict) -> Customer:
    values = {"email": "", "name": "", "phone": "", **_clean(data)}
    _check(db, values)
    customer = Customer(**values)
    _flush(db, customer)
    return customer


def update_customer(db: Session, customer: Customer, data: dict) -> tuple[dict, dict]:
    """Apply the changes given (other fields stay); the fields that changed, before and after."""
    before = snapshot(customer)
    values = {**before, **_clean(data)}
    _check(db, values, except_id=customer.id)
    for name in FIELDS:
        setattr(customer, name, values[name])
    _flush(db, customer)
    return changed(before, snapshot(customer))


def snapshot(customer: Customer) -> dict:
    return {name: getattr(customer, name) for name in FIELDS}


def customer_page(db: Session, *, q: str, page: int) -> tuple[list, bool]:
    """One page of customers by name, with their order count and last order date,
    in one statement whose cost does not grow with the store's orders.

    The page's ids are picked first, from ``ix_customers_name`` alone (name, id,
    e-mail: the order and the searched columns), so a deep page skips index
    entries, not rows; then those 51 customers are read, each with two look-ups
    in ``ix_orders_customer_newest``. Aggregating every order by customer and
    joining the page to that cost ~50 ms a view at 100,000 orders
    (docs/benchmarks.md)."""
    ids = select(Customer.id)
    if q:
        text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        ids = ids.where(
            or_(
                Customer.email.like(text.lower() + "%", escape="\\"),
                Customer.name.like("%" + text + "%", escape="\\"),
            )
        )
    ids = (
        ids.order_by(Customer.name, Customer.id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .subquery("page")
    )
    mine = Order.customer_id == Customer.id
    orders = select(func.count()).select_from(Order).where(mine).scalar_subquery()
    last = select(func.max(Order.created_at)).where(mine).scalar_subquery()
    query = (
        select(Customer, orders.label("orders"), last.label("last_order"))
        .join(ids, ids.c.id == Customer.id)
        .order_by(Customer.name, Customer.id)
    )
    rows = db.execute(query).all()
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def customer_history(db: Session, customer_id: int) -> list:
    return db.execute(
        select(
            Order.id,
            Order.number,
            Order.status,
            Order.payment_status,
            Order.total_minor,
            Order.currency,
            Order.created_at,
        )
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()


def totals(history: list) -> dict[str, int]:
    """Spent per currency, not counting cancelled or refunded orders."""
    spent: dict[str, int] = {}
    for row in history:
        if (
            row.status != FulfilmentStatus.CANCELLED
            and row.payment_status != PaymentStatus.REFUNDED
        ):
            spent[row.currency] = spent.get(row.currency, 0) + row.total_minor
    return spent
