"""The dashboard's figures, from a handful of grouped queries (no row-by-row work).

Revenue counts orders whose payment status is paid (or partly refunded), in the
store's currency, whatever their fulfilment status; days are the store's local
days, using the timezone's current UTC offset. Orders are counted by fulfilment
status and, apart, by payment status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from backoffice.models import Order, OrderLine
from backoffice.orders.enums import MONEY_IN, FulfilmentStatus, PaymentStatus

PAID = MONEY_IN
DAYS = 30


@dataclass
class Period:
    days: int
    orders: int = 0
    revenue: int = 0
    paid_orders: int = 0

    @property
    def average(self) -> int:
        return self.revenue // self.paid_orders if self.paid_orders else 0


@dataclass
class Dashboard:
    periods: list[Period]
    daily: list[tuple[date, int, int]]  # day, orders, revenue
    by_status: list[tuple[str, int]]
    by_payment: list[tuple[str, int]]
    top_products: list
    currency: str


def local_day(db: Session, column, offset_minutes: int):
    if db.bind.dialect.name == "sqlite":
        return func.date(column, f"{offset_minutes:+d} minutes")
    interval = literal_column(f"INTERVAL {int(offset_minutes)} MINUTE")
    return func.date(func.date_add(column, interval))


def build(db: Session, tz, currency: str, now: datetime | None = None) -> Dashboard:
    now = now or datetime.now(UTC)
    local_now = now.astimezone(tz)
    offset = int(local_now.utcoffset().total_seconds() // 60)
    today = local_now.date()
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    day = local_day(db, Order.created_at, offset).label("day")
    paid = Order.payment_status.in_(PAID) & (Order.currency == currency)
    rows = db.execute(
        select(
            day,
            func.count(Order.id),
            func.coalesce(func.sum(case((paid, Order.total_minor), else_=0)), 0),
            func.coalesce(func.sum(case((paid, 1), else_=0)), 0),
        )
        .where(Order.created_at >= since)
        .group_by(day)
    ).all()
    per_day = {_as_date(d): (n, int(rev), int(npaid)) for d, n, rev, npaid in rows}
    daily = [
        (first + timedelta(days=i),) + per_day.get(first + timedelta(days=i), (0, 0, 0))
        for i in range(DAYS)
    ]
    periods = [_period(daily, days) for days in (1, 7, 30)]
    by_status = db.execute(select(Order.status, func.count(Order.id)).group_by(Order.status)).all()
    by_payment = dict(
        db.execute(
            select(Order.payment_status, func.count(Order.id)).group_by(Order.payment_status)
        ).all()
    )
    top = db.execute(
        select(
            OrderLine.sku,
            func.max(OrderLine.name).label("name"),
            func.sum(OrderLine.quantity).label("quantity"),
            func.sum(OrderLine.total_minor).label("revenue"),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.created_at >= since,
            Order.currency == currency,
            Order.status != FulfilmentStatus.CANCELLED,
            Order.payment_status != PaymentStatus.REFUNDED,
        )
        .group_by(OrderLine.sku)
        .order_by(func.sum(OrderLine.total_minor).desc())
        .limit(5)
    ).all()
    return Dashboard(
        periods,
        [(d, n, rev) for d, n, rev, _ in daily],
        [(s, n) for s, n in by_status],
        [(s, by_payment[s]) for s in PaymentStatus if by_payment.get(s)],
        top,
        currency,
    )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _period(daily, days: int) -> Period:
    period = Period(days)
    for _day, n, revenue, paid in daily[-days:]:
        period.orders += n
        period.revenue += revenue
        period.paid_orders += paid
    return period
