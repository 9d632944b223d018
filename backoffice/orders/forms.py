"""The order list's query string: filters, sorting and page, checked strictly.

A bad value is reported to the reader (400 with the reason), never a 500 and
never silently ignored: a filter that quietly does nothing misleads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from backoffice.i18n import _
from backoffice.orders.statuses import PAYMENT_LABELS
from backoffice.ui.paging import parse_page

SORTS = ("created", "number", "total", "customer", "status")
MAX_QUERY = 100


@dataclass
class OrderFilter:
    status: str = ""
    payment: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    sort: str = "-created"
    page: int = 1
    errors: list = field(default_factory=list)

    def query(self, **changes) -> dict:
        """The query string of this filter (with changes), without empty values."""
        values = {
            "status": self.status,
            "payment": self.payment,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.q,
            "sort": "" if self.sort == "-created" else self.sort,
            "page": self.page,
        }
        values.update(changes)
        if values.get("page") == 1:
            values["page"] = ""
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.status or self.payment or self.date_from or self.date_to or self.q)


def parse_filter(params, status_codes) -> OrderFilter:
    f = OrderFilter()
    f.status = params.get("status", "")
    if f.status and f.status not in status_codes:
        f.errors.append(_("Unknown order status “${value}”.", mapping={"value": f.status[:40]}))
        f.status = ""
    f.payment = params.get("payment", "")
    if f.payment and f.payment not in PAYMENT_LABELS:
        f.errors.append(_("Unknown payment status “${value}”.", mapping={"value": f.payment[:40]}))
        f.payment = ""
    f.date_from = _date(params.get("from", ""), f.errors)
    f.date_to = _date(params.get("to", ""), f.errors)
    if f.date_from and f.date_to and f.date_from > f.date_to:
        f.errors.append(_("The start date is after the end date."))
    f.q = params.get("q", "").strip()
    if len(f.q) > MAX_QUERY:
        f.errors.append(
            _("The search text is too long (at most ${n} characters).", mapping={"n": MAX_QUERY})
        )
        f.q = f.q[:MAX_QUERY]
    f.sort = params.get("sort", "") or "-created"
    if f.sort.lstrip("-") not in SORTS:
        f.errors.append(_("Orders cannot be sorted by “${value}”.", mapping={"value": f.sort[:40]}))
        f.sort = "-created"
    page = parse_page(params.get("page"))
    if page is None:
        f.errors.append(_("The page number must be a whole number from 1 to 100000."))
    else:
        f.page = page
    return f


def _date(raw: str, errors: list) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(
            _("“${value}” is not a date (expected YYYY-MM-DD).", mapping={"value": raw[:40]})
        )
        return None


def utc_bounds(f: OrderFilter, tz) -> tuple[datetime | None, datetime | None]:
    """The filter's days in the store's timezone, as naive UTC datetimes."""

    def utc(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)

    start = utc(f.date_from) if f.date_from else None
    end = utc(f.date_to + timedelta(days=1)) if f.date_to else None
    return start, end
