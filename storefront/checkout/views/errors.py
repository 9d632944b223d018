"""A refused form on the checkout (no or stale CSRF token) gets a page that says what to do.

Nothing is lost: the cart and the details are in the store's database, keyed by
the session; the shopper goes back and sends the form again.
"""

from __future__ import annotations

from pyramid.exceptions import BadCSRFToken
from pyramid.view import exception_view_config

from storefront.checkout.views import T, page
from storefront.i18n import _

BACK = {
    "checkout.update": "checkout.cart",
    "checkout.details": "checkout.details",
    "checkout.payment": "checkout.payment",
    "checkout.place": "checkout.review",
}


@exception_view_config(BadCSRFToken, route_name="checkout.update", renderer=T + "message.html")
@exception_view_config(BadCSRFToken, route_name="checkout.details", renderer=T + "message.html")
@exception_view_config(BadCSRFToken, route_name="checkout.payment", renderer=T + "message.html")
@exception_view_config(BadCSRFToken, route_name="checkout.place", renderer=T + "message.html")
def refused_form(exc, request):
    request.response.status = 400
    back = BACK.get(request.matched_route.name, "checkout.cart")
    return page(
        request,
        None,
        title=_("Please send the form again"),
        message=_(
            "Your session has expired or your browser did not send its "
            "cookie, so we could not accept this form. Your cart and details "
            "are saved. Make sure cookies are allowed, go back and send it "
            "again."
        ),
        back=request.route_url(back),
    )
