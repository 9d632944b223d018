"""Contact and delivery details, payment method, review and placing the order."""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from backoffice.orders.enums import PaymentStatus
from backoffice.payments.services import PaymentRefused, start_payment
from payments.errors import PaymentError
from storefront.checkout import services
from storefront.checkout.forms import check_details, countries, country_name, raw_details
from storefront.checkout.payments import available_methods, method_label
from storefront.checkout.views import T, flash, page, see_other
from storefront.i18n import _

log = logging.getLogger(__name__)


def _ready_checkout(request):
    """The open checkout with something in the cart, else a redirect to the cart."""
    checkout = services.open_checkout(request)
    if checkout is None or not checkout.lines:
        raise see_other(request, "checkout.cart")
    return checkout


def _details_page(request, values: dict, errors: dict) -> dict:
    cart = services.cart_of(request, services.open_checkout(request))
    return page(
        request,
        "checkout.details",
        values=values,
        errors=errors,
        cart=cart,
        countries=countries(request.locale_name),
    )


@view_config(route_name="checkout.details", request_method="GET", renderer=T + "details.html")
def details(request):
    checkout = _ready_checkout(request)
    return _details_page(request, checkout.details or {}, {})


@view_config(route_name="checkout.details", request_method="POST", renderer=T + "details.html")
def details_post(request):
    checkout = _ready_checkout(request)
    values = raw_details(request.POST)
    checkout.details = values  # kept even when refused: nothing typed is lost
    checked = check_details(values)
    if checked.ok:
        return see_other(request, "checkout.payment")
    request.response.status = 422
    return _details_page(request, values, checked.errors)


def _details_ready(request):
    checkout = _ready_checkout(request)
    if not check_details(checkout.details or {}).ok:
        raise see_other(request, "checkout.details")
    return checkout


def _payment_page(request, checkout, error=None) -> dict:
    methods = available_methods(request, request.store_config.currency)
    chosen = (
        checkout.payment_method if checkout.payment_method in {m.name for m in methods} else None
    )
    return page(
        request,
        "checkout.payment",
        methods=methods,
        chosen=chosen,
        error=error,
        cart=services.cart_of(request, checkout),
    )


@view_config(route_name="checkout.payment", request_method="GET", renderer=T + "payment.html")
def payment(request):
    return _payment_page(request, _details_ready(request))


@view_config(route_name="checkout.payment", request_method="POST", renderer=T + "payment.html")
def payment_post(request):
    checkout = _details_ready(request)
    methods = {m.name for m in available_methods(request, request.store_config.currency)}
    chosen = request.POST.get("method")
    if methods and chosen not in methods:
        request.response.status = 422
        return _payment_page(request, checkout, _("Choose one of the payment methods."))
    checkout.payment_method = chosen if methods else None
    return see_other(request, "checkout.review")


def _review_page(request, checkout, *, error=None, short=None) -> dict:
    cart = services.cart_of(request, checkout)
    values = checkout.details or {}
    return page(
        request,
        "checkout.review",
        cart=cart,
        details=values,
        error=error,
        short=short or {},
        country=country_name(values.get("country", ""), request.locale_name),
        method=method_label(request, checkout.payment_method),
    )


@view_config(route_name="checkout.review", request_method="GET", renderer=T + "review.html")
def review(request):
    checkout = _details_ready(request)
    methods = {m.name for m in available_methods(request, request.store_config.currency)}
    if methods and checkout.payment_method not in methods:
        return see_other(request, "checkout.payment")
    return _review_page(request, checkout)


@view_config(route_name="checkout.place", request_method="POST", renderer=T + "review.html")
def place(request):
    checkout = services.current(request)
    if checkout is None:
        return see_other(request, "checkout.cart")
    expected = request.POST.get("expected_total", "")
    try:
        placed = services.place(request, checkout.id, int(expected) if expected.isdigit() else None)
    except services.PlacementRefused as refused:
        if refused.step != "review":
            flash(request, refused.message, error=True)
            return see_other(request, f"checkout.{refused.step}")
        request.response.status = refused.status
        return _review_page(request, checkout, error=refused.message, short=refused.short)
    return _after_placing(request, placed.order, placed.checkout)


def _after_placing(request, order, checkout):
    status_url = request.route_url("checkout.order", token=order.status_token)
    method = checkout.payment_method
    if not method or order.payment_status != PaymentStatus.UNPAID:
        return HTTPSeeOther(status_url)
    gateway = request.payment_settings.gateways.get(method)
    if not gateway.capabilities.offline:
        # Paying starts from the order's own page: the order is committed first, so a
        # slow provider never holds the stock locks of this request.
        return see_other(request, "checkout.pay", token=order.status_token)
    if checkout.payment_instructions is None:
        try:
            start = start_payment(request, order, method, status_url)
            checkout.payment_instructions = start.instructions
        except (PaymentRefused, PaymentError) as exc:
            log.warning(
                "offline payment instructions failed for order %s: %s", order.id, type(exc).__name__
            )
            checkout.payment_instructions = ""
    return HTTPSeeOther(status_url)
