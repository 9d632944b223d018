"""The order's own page (the shopper's bookmark) and paying from it.

The URL carries the order's ``status_token`` (192 random bits): whoever has the
link sees the order, nobody can guess one. The page sends no Referer, so the
token does not leak to a logo host or a payment provider.
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import exception_view_config, view_config

from backoffice.models import Order
from backoffice.orders.enums import FulfilmentStatus, PaymentStatus
from backoffice.orders.statuses import payment_label, request_order_flow
from backoffice.payments.services import PaymentRefused, start_payment
from payments.errors import PaymentError
from storefront.checkout import services
from storefront.checkout.payments import method_label
from storefront.checkout.views import T, flash, page
from storefront.i18n import _

log = logging.getLogger(__name__)
PAYABLE_PAYMENT = frozenset({PaymentStatus.UNPAID})
CLOSED_STATUSES = frozenset({FulfilmentStatus.CANCELLED})


def _order(request) -> Order:
    order = services.by_status_token(request.db, request.matchdict["token"])
    if order is None:
        raise HTTPNotFound()
    return order


def _online_method(request, checkout) -> str | None:
    method = checkout.payment_method if checkout is not None else None
    if not method:
        return None
    try:
        gateway = request.payment_settings.gateways.get(method)
    except PaymentError:
        return None
    return None if gateway.capabilities.offline else method


def _payable(order: Order) -> bool:
    return order.payment_status in PAYABLE_PAYMENT and order.status not in CLOSED_STATUSES


@view_config(route_name="checkout.order", request_method="GET", renderer=T + "order.html")
def order_page(request):
    order = _order(request)
    checkout = services.checkout_of(request.db, order)
    flow = request_order_flow(request)
    translate = request.localizer.translate
    can_pay = _payable(order) and _online_method(request, checkout) is not None
    return page(
        request,
        None,
        order=order,
        currency=order.currency,
        status_label=flow.label(order.status),
        payment_label=payment_label(translate, order.payment_status),
        method=method_label(request, checkout.payment_method if checkout else None),
        instructions=checkout.payment_instructions if checkout else None,
        can_pay=can_pay,
        payment_failed=can_pay and services.last_payment_failed(request.db, order),
        address_lines=(order.shipping_address or "").splitlines(),
        page_url=request.route_url("checkout.order", token=order.status_token),
    )


@view_config(route_name="checkout.pay", request_method="GET", renderer=T + "redirect.html")
def pay(request):
    """Start (or start again) the online payment of the order, then go to the provider."""
    order = _order(request)
    order_url = request.route_url("checkout.order", token=order.status_token)
    method = _online_method(request, services.checkout_of(request.db, order))
    if method is None or not _payable(order):
        return HTTPSeeOther(order_url)
    try:
        start = start_payment(request, order, method, order_url, order_url)
    except (PaymentRefused, PaymentError) as exc:
        log.warning("payment start failed for order %s: %s", order.id, type(exc).__name__)
        flash(
            request,
            _(
                "The payment could not be started. Please try again in a few "
                "minutes or choose to pay later."
            ),
            error=True,
        )
        return HTTPSeeOther(order_url)
    if start.kind == "redirect":
        return HTTPSeeOther(start.url)
    if start.kind == "form":
        return page(request, None, start=start, order=order, currency=order.currency)
    return HTTPSeeOther(order_url)


@exception_view_config(HTTPNotFound, route_name="checkout.order", renderer=T + "message.html")
@exception_view_config(HTTPNotFound, route_name="checkout.pay", renderer=T + "message.html")
def unknown_order(exc, request):
    request.response.status = 404
    return page(
        request,
        None,
        title=_("Order not found"),
        message=_("There is no order at this address. Please check the link you were given."),
        back=None,
    )
