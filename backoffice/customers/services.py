from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backoffice.models import Customer, Order

PER_PAGE = 50
HISTORY_LIMIT = 200


def customer_page(db: Session, *, q: str, page: int) -> tuple[list, bool]:
    """Customers with their order count and last order date, in one query."""
    stats = (select(Order.customer_id, func.count(Order.id).label("orders"),
                    func.max(Order.created_at).label("last_order"))
             .where(Order.customer_id.is_not(None)).group_by(Order.customer_id).subquery())
    query = (select(Customer, stats.c.orders, stats.c.last_order)
             .outerjoin(stats, stats.c.customer_id == Customer.id)
             .order_by(Customer.name, Customer.id))
    if q:
        text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Customer.email.like(text.lower() + "%", escape="\\"),
                                Customer.name.like("%" + text + "%", escape="\\")))
    rows = db.execute(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def customer_history(db: Session, customer_id: int) -> list:
    return db.execute(
        select(Order.id, Order.number, Order.status, Order.payment_status, Order.total_minor,
               Order.currency, Order.created_at)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(HISTORY_LIMIT)).all()


def totals(history: list) -> dict[str, int]:
    """Spent per currency, not counting cancelled or refunded orders."""
    spent: dict[str, int] = {}
    for row in history:
        if row.status not in ("cancelled", "refunded"):
            spent[row.currency] = spent.get(row.currency, 0) + row.total_minor
    return spent
