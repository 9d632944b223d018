from __future__ import annotations

from babel.dates import format_skeleton
from pyramid.view import view_config

from backoffice.dashboard.chart import revenue_chart
from backoffice.dashboard.services import build


@view_config(route_name="dashboard.home", permission="dashboard.view",
             renderer="backoffice:templates/admin/dashboard/home.jinja2")
def dashboard(request):
    currency = request.store_config.currency
    fmt = request.fmt
    data = build(request.db, fmt.tz, currency)
    chart = revenue_chart(data.daily, lambda minor: fmt.money(minor, currency),
                          lambda day: format_skeleton("MMMd", day, locale=fmt.locale))
    total = sum(n for _s, n in data.by_status) or 1
    return {"data": data, "chart": chart, "status_total": total}
