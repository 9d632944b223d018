"""Provider notifications and the shopper's return page."""

from __future__ import annotations

import hmac

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from backoffice.i18n import _
from backoffice.models import Order
from backoffice.orders.enums import PaymentStatus
from backoffice.payments.notifications import (
    MAX_BODY,
    RawNotification,
    process,
    reject_unknown,
)
from payments.errors import UnknownGateway
from payments.interfaces import Acknowledgement

T = "backoffice:payments/templates/"


def remote_addr(request) -> str:
    """The sender's address; YooKassa is authenticated by it. Behind a trusted proxy
    it is the forwarded client's (``backoffice.web.proxy``), never a header's word."""
    return request.remote_addr or ""


def raw_notification(request, gateway: str) -> RawNotification:
    # The raw bytes, before any form or JSON parsing: signatures cover them verbatim.
    body = request.body_file_seekable.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise HTTPBadRequest("notification too large")
    return RawNotification(
        gateway=gateway,
        method=request.method,
        headers=list(request.headers.items()),
        body=body,
        query_string=request.query_string,
        remote_addr=remote_addr(request),
    )


def acknowledgement_response(ack: Acknowledgement) -> Response:
    response = Response(body=ack.body, status=ack.status)
    response.content_type = ack.content_type.split(";")[0]
    if "charset=" in ack.content_type:
        response.charset = ack.content_type.split("charset=", 1)[1]
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(route_name="payments.notify", request_method=("POST", "GET"), require_csrf=False)
def notify(request):
    """Server-to-server: the provider authenticates by signature (or IP + re-fetch)."""
    name = request.matchdict["gateway"]
    raw = raw_notification(request, name)
    try:
        gateway = request.payment_settings.gateways.get(name)
    except UnknownGateway:
        reject_unknown(request.db.get_bind(), raw, f"unknown gateway {name!r}")
        raise HTTPNotFound() from None
    outcome = process(request.db, request.payment_settings, gateway, raw)
    return acknowledgement_response(outcome.acknowledgement)


@view_config(route_name="payments.return", request_method="GET", renderer=T + "return.jinja2")
def return_page(request):
    """Where the provider sends the shopper back. It only reads: a return URL can be
    forged or replayed by anyone, so the payment is confirmed by notifications alone."""
    order = _order_by_token(request)
    translate = request.localizer.translate
    if order.payment_status not in (PaymentStatus.UNPAID, PaymentStatus.PARTIALLY_PAID):
        message = translate(_("Thank you! Your payment has been received."))
    else:
        message = translate(
            _(
                "Your payment is being confirmed. This page will show it "
                "as soon as the payment provider tells us."
            )
        )
    request.response.headers["Cache-Control"] = "no-store"
    return {
        "order": order,
        "message": message,
        "paid": order.payment_status == PaymentStatus.PAID,
        "title": translate(_("Order ${number}", mapping={"number": order.number})),
    }


def _order_by_token(request) -> Order:
    order_id = request.GET.get("order", "")
    token = request.GET.get("token", "")
    order = request.db.get(Order, int(order_id)) if order_id.isdigit() else None
    if (
        order is None
        or not order.status_token
        or not hmac.compare_digest(order.status_token.encode(), token.encode())
    ):
        raise HTTPNotFound()
    return order
