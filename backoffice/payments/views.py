"""Provider notifications and the shopper's return page."""

from __future__ import annotations

import hmac

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPRequestEntityTooLarge
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy.orm import Session

from backoffice.i18n import _
from backoffice.models import Order
from backoffice.orders.enums import PaymentStatus
from backoffice.payments.configs import GatewaySettings
from backoffice.payments.notifications import (
    RawNotification,
    RejectedLimit,
    notification_limit,
    process,
)
from backoffice.web.input import BodyTooLarge, JSONInputError, loads, read_body
from payments.errors import PaymentError, UnknownGateway
from payments.interfaces import Acknowledgement

T = "backoffice:payments/templates/"


def remote_addr(request) -> str:
    """The sender's address; YooKassa is authenticated by it. Behind a trusted proxy
    it is the forwarded client's (``backoffice.web.proxy``), never a header's word."""
    return request.remote_addr or ""


def raw_notification(request, gateway: str, max_bytes: int) -> RawNotification:
    # The raw bytes, before any form or JSON parsing: signatures cover them verbatim.
    try:
        body = read_body(request, max_bytes)
    except BodyTooLarge:
        raise HTTPRequestEntityTooLarge("notification too large") from None
    if body.lstrip()[:1] in (b"{", b"["):
        # Gateways parse JSON themselves (``payments`` imports nothing of ours): a
        # body they would choke on (nested 100,000 deep, NaN, 1e400) stops here.
        try:
            loads(body, max_bytes=max_bytes)
        except JSONInputError as exc:
            raise HTTPBadRequest(f"malformed notification: {exc}") from None
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
    try:
        gateway = request.registry.payment_gateways.get(name)
    except UnknownGateway:
        raise HTTPNotFound() from None
    # Before reading the body: nothing is stored for a gateway this store has not set up.
    config = gateway_config(request, gateway)
    raw = raw_notification(request, name, notification_limit(gateway))
    outcome = process(
        request.db,
        config,
        gateway,
        raw,
        rejected_limit=rejected_limit(request.registry),
        memo=request.environ,
    )
    return acknowledgement_response(outcome.acknowledgement)


def gateway_config(request, gateway) -> dict | PaymentError:
    """The store's settings of ``gateway`` (or why they cannot be used), read on a
    short session: the request's own holds no connection while the notification
    is verified and then stored with a connection of its own."""
    keyring, gateways = request.registry.control.keyring, request.registry.payment_gateways
    with Session(bind=request.db.get_bind()) as short:
        settings = GatewaySettings(short, keyring, request.tenant.id, gateways)
        if not gateway.capabilities.notifications or settings.row(gateway.name) is None:
            raise HTTPNotFound()
        try:
            return settings.config_for(gateway.name)
        except PaymentError as exc:
            return exc


def rejected_limit(registry) -> RejectedLimit:
    limit = getattr(registry, "rejected_notifications", None)
    if limit is None:
        limit = registry.rejected_notifications = RejectedLimit()
    return limit


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
