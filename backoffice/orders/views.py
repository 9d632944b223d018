"""Order pages: list, CSV export, bulk status change, detail, status change, notes."""

from __future__ import annotations

from pyramid.encode import urlencode
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.interfaces import IRoutesMapper
from pyramid.response import Response
from pyramid.view import view_config

from backoffice.audit.services import record
from backoffice.i18n import _
from backoffice.models import Order
from backoffice.orders import service, services
from backoffice.orders.enums import FulfilmentStatus
from backoffice.orders.errors import TransitionRefused
from backoffice.orders.forms import parse_filter
from backoffice.orders.statuses import PAYMENT_LABELS, Labels, payment_label
from backoffice.payments.ledger import COUNTED, PAID, paid_total, refunded_total
from backoffice.payments.services import gateway_refunds
from backoffice.speedups import order_detail_json
from backoffice.web.input import parse_int, safe_local_path

T = "backoffice:templates/admin/orders/"
NOTE_LIMIT = 5000


def _filter(request):
    return parse_filter(request.GET, request.order_flow.codes)


def _order_id(request) -> int:
    return int(request.matchdict["id"])


@view_config(route_name="orders.list", permission="orders.view", renderer=T + "list.jinja2")
def order_list(request):
    f = _filter(request)
    translate = request.localizer.translate
    if f.errors:
        request.response.status = 400
        rows, has_next = [], False
    else:
        rows, has_next = services.order_page(request.db, f, request.fmt.tz)
    payment_choices = [(k, translate(v)) for k, v in PAYMENT_LABELS.items()]
    return {
        "f": f,
        "rows": _list_rows(request, rows, dict(payment_choices)),
        "has_next": has_next,
        "url_for": lambda n: request.route_url("orders.list", _query=f.query(page=n)),
        "sort_heads": _sort_heads(request, f, translate),
        "errors": [translate(e) for e in f.errors],
        "payment_choices": payment_choices,
    }


# The list's columns after the checkbox: (sort key or None, label, CSS class).
LIST_HEADS = (
    ("number", _("Number"), ""),
    ("created", _("Date"), ""),
    ("customer", _("Customer"), ""),
    ("status", _("Status"), ""),
    (None, _("Payment"), ""),
    ("total", _("Total"), "num"),
)


def _sort_heads(request, f, translate) -> list[tuple]:
    """Each column header: label, class, and for a sortable one the link that
    sorts by it (the other way round if it is the current sort) and its
    ``aria-sort`` or None. Worked out here: from the template it was ~30
    calls through Jinja2's context a page."""
    current, descending = f.sort.lstrip("-"), f.sort.startswith("-")
    base = request.route_url("orders.list") + "?"
    heads = []
    for key, label, css in LIST_HEADS:
        if key is None:
            heads.append((translate(label), css, None, None))
            continue
        query = f.query(sort=("-" + key) if f.sort == key else key, page=1)
        heads.append(
            (
                translate(label),
                css,
                base + urlencode(query, doseq=True),
                ("descending" if descending else "ascending") if key == current else None,
            )
        )
    return heads


def _list_rows(request, orders, payment_names: dict) -> list[tuple]:
    """What each row of the list shows, formatted in one pass here: a row is
    what a 50-row page costs, and the template then only places the texts."""
    fmt, flow = request.fmt, request.order_flow
    short, money = fmt.datetimes("short"), fmt.money
    # Rows of services.LIST_COLUMNS, unpacked in that order.
    return [
        (
            id_,
            number,
            short(created),
            customer or "—",
            email,
            flow.colour(status),
            flow.label(status),
            payment,
            payment_names.get(payment, payment),
            money(total, currency),
        )
        for id_, number, status, payment, customer, email, currency, total, created in orders
    ]


@view_config(route_name="orders.export", permission="orders.export")
def order_export(request):
    f = _filter(request)
    if f.errors:
        raise HTTPBadRequest(" ".join(request.localizer.translate(e) for e in f.errors))
    translate = request.localizer.translate
    headers = [
        translate(h)
        for h in (
            _("Number"),
            _("Date"),
            _("Status"),
            _("Payment"),
            _("Customer"),
            _("E-mail"),
            _("Total"),
            _("Currency"),
        )
    ]
    body = services.export_csv(
        request.db,
        f,
        request.fmt.tz,
        request.order_flow,
        request.fmt,
        headers,
        lambda s: payment_label(translate, s),
    )
    record(request, "order.export", "order", None, after={"filter": f.query(page="")})
    return Response(
        body.encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        content_disposition='attachment; filename="orders.csv"',
    )


@view_config(route_name="orders.bulk", request_method="POST", permission="orders.bulk")
def order_bulk(request):
    translate = request.localizer.translate
    back = request.route_url("orders.list") + _query_string(request.POST.get("back", ""))
    try:
        ids = sorted({parse_int(v, minimum=1) for v in request.POST.getall("order")})
    except ValueError:
        raise HTTPBadRequest(translate(_("The selection is not valid."))) from None
    target = request.POST.get("status", "")
    if not ids or target not in request.order_flow.codes:
        request.session.flash(translate(_("Choose orders and a new status.")), "error")
        return HTTPSeeOther(back)
    if len(ids) > services.BULK_LIMIT:
        raise HTTPBadRequest(
            translate(_("At most ${n} orders at once.", mapping={"n": services.BULK_LIMIT}))
        )
    changed, refused = service.bulk_change(
        request.db, ids, target, request.order_flow, actor=request.staff_user.email
    )
    for order, before in changed:
        record(
            request,
            "order.status",
            "order",
            order.id,
            before={"status": before},
            after={"status": target},
        )
    label = request.order_flow.label(target)
    request.session.flash(
        translate(
            _("Orders moved to “${status}”: ${n}.", mapping={"n": len(changed), "status": label})
        ),
        "success",
    )
    if refused:
        numbers = ", ".join(o.number for o in refused[:20])
        request.session.flash(
            translate(
                _(
                    "Orders that cannot move to “${status}” from their status (${n}): ${numbers}",
                    mapping={"n": len(refused), "status": label, "numbers": numbers},
                )
            ),
            "error",
        )
    return HTTPSeeOther(back)


def _query_string(raw: str) -> str:
    """The list's own query string, carried through the bulk form; nothing else."""
    raw = raw.lstrip("?")
    if not raw or "/" in raw:
        return ""
    path = safe_local_path("/?" + raw)
    return path[1:] if path is not None else ""


def _payments_route(request, name: str, order_id: int) -> str | None:
    """A form target of the payments feature, if that feature is installed."""
    if request.registry.getUtility(IRoutesMapper).get_route(name) is None:
        return None
    return request.route_url(name, id=order_id)


def money_forms(request, detail) -> dict:
    """The order page's money forms: refund (through the provider when its gateway
    can, or recorded as made elsewhere) and record a payment received."""
    order, payments = detail.order, detail.payments
    if not request.has_permission("orders.refund"):
        return {"refund_url": None, "record_url": None}
    left = detail.refundable_minor
    due = order.total_minor - paid_total(payments) + refunded_total(payments)
    source = next((p for p in reversed(payments) if p.kind == PAID and p.status == COUNTED), None)
    return {
        "refund_url": _payments_route(request, "payments.refund", order.id) if left > 0 else None,
        "refundable_minor": left,
        "provider_refund": left > 0
        and source is not None
        and gateway_refunds(request.payment_settings, source.gateway),
        "record_url": _payments_route(request, "payments.record", order.id)
        if due > 0 and order.status != FulfilmentStatus.CANCELLED
        else None,
        "due_minor": max(due, 0),
    }


@view_config(route_name="orders.detail", permission="orders.view", renderer=T + "detail.jinja2")
def order_detail(request):
    detail = services.order_detail(
        request.db,
        _order_id(request),
        one_trip=order_detail_json.SPEEDUP.on(request.registry.settings),
    )
    if detail is None:
        raise HTTPNotFound()
    translate = request.localizer.translate
    return {
        "d": detail,
        "o": detail.order,
        "next_statuses": request.order_flow.next(detail.order.status),
        "payment_label": lambda s: payment_label(translate, s),
        "labels": Labels(translate),
        **money_forms(request, detail),
    }


@view_config(route_name="orders.status", request_method="POST", permission="orders.update")
def order_status(request):
    translate = request.localizer.translate
    order = service.lock_order(request.db, _order_id(request))
    if order is None:
        raise HTTPNotFound()
    target = request.POST.get("status", "")
    message = (request.POST.get("message") or "").strip()[:NOTE_LIMIT]
    before = order.status
    try:
        service.change_status(
            request.db,
            order,
            target,
            request.order_flow,
            actor=request.staff_user.email,
            message=message,
        )
    except TransitionRefused:
        request.session.flash(
            translate(
                _(
                    "An order in status “${current}” cannot move to “${target}”.",
                    mapping={
                        "current": request.order_flow.label(before),
                        "target": request.order_flow.label(target),
                    },
                )
            ),
            "error",
        )
        return HTTPSeeOther(request.route_url("orders.detail", id=order.id))
    record(
        request,
        "order.status",
        "order",
        order.id,
        before={"status": before},
        after={"status": target},
    )
    request.session.flash(
        translate(
            _(
                "Order ${number} is now “${status}”.",
                mapping={"number": order.number, "status": request.order_flow.label(target)},
            )
        ),
        "success",
    )
    return HTTPSeeOther(request.route_url("orders.detail", id=order.id))


@view_config(route_name="orders.note", request_method="POST", permission="orders.note")
def order_note(request):
    translate = request.localizer.translate
    order = request.db.get(Order, _order_id(request))
    if order is None:
        raise HTTPNotFound()
    text = (request.POST.get("text") or "").strip()
    if not text or len(text) > NOTE_LIMIT:
        request.session.flash(
            translate(_("A note needs between 1 and ${n} characters.", mapping={"n": NOTE_LIMIT})),
            "error",
        )
    else:
        service.add_note(request.db, order, text, actor=request.staff_user.email)
        record(request, "order.note", "order", order.id, after={"note": text})
        request.session.flash(translate(_("The note is added.")), "success")
    return HTTPSeeOther(request.route_url("orders.detail", id=order.id) + "#timeline")
