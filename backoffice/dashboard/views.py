from __future__ import annotations

from babel.dates import format_skeleton
from pyramid.view import view_config

from backoffice.dashboard.chart import revenue_chart
from backoffice.dashboard.services import build
from backoffice.orders.statuses import payment_label


@view_config(
    route_name="dashboard.home",
    permission="dashboard.view",
    renderer="backoffice:templates/admin/dashboard/home.jinja2",
)
def dashboard(request):
    currency = request.store_config.currency
    fmt = request.fmt
    data = build(request.db, fmt.tz, currency)
    chart = revenue_chart(
        data.daily,
        lambda minor: fmt.money(minor, currency),
        lambda day: format_skeleton("MMMd", day, locale=fmt.locale),
    )
    total = sum(n for _s, n in data.by_status) or 1
    # In the order of the store's flow (new, confirmed, shipped...), not alphabetically.
    position = {code: i for i, code in enumerate(request.order_flow.codes)}
    by_status = sorted(
        data.by_status, key=lambda row: (position.get(row[0], len(position)), row[0])
    )
    translate = request.localizer.translate
    return {
        "data": data,
        "chart": chart,
        "status_total": total,
        "by_status": by_status,
        "by_payment": [(code, payment_label(translate, code), n) for code, n in data.by_payment],
    }
