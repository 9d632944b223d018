from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from backoffice.customers import services
from backoffice.models import Customer
from backoffice.orders.statuses import payment_label
from backoffice.ui.paging import page_number

T = "backoffice:templates/admin/customers/"


@view_config(route_name="customers.list", permission="customers.view", renderer=T + "list.jinja2")
def customer_list(request):
    page = page_number(request)
    q = (request.GET.get("q") or "").strip()[:100]
    rows, has_next = services.customer_page(request.db, q=q, page=page)

    def url_for(n):
        return request.route_url(
            "customers.list", _query={k: v for k, v in {"q": q, "page": n}.items() if v}
        )

    return {"rows": rows, "has_next": has_next, "page": page, "q": q, "url_for": url_for}


@view_config(
    route_name="customers.detail", permission="customers.view", renderer=T + "detail.jinja2"
)
def customer_detail(request):
    customer = request.db.get(Customer, int(request.matchdict["id"]))
    if customer is None:
        raise HTTPNotFound()
    history = services.customer_history(request.db, customer.id)
    translate = request.localizer.translate
    return {
        "customer": customer,
        "history": history,
        "spent": services.totals(history),
        "limit": services.HISTORY_LIMIT,
        "payment_label": lambda s: payment_label(translate, s),
    }
