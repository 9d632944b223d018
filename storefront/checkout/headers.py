"""Response headers of every checkout page: no framing, no inline code, no leaky Referer.

The order page's URL is its secret: it is sent with ``Referrer-Policy:
no-referrer`` and never cached by shared caches. Forms may post to this site
and to https payment providers (PayPal, Robokassa); nothing else.
"""

from __future__ import annotations

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
    "form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'"
)
PRIVATE_ROUTES = frozenset({"checkout.order", "checkout.pay", "checkout.cart_token"})


def _headers(request, response) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    route = request.matched_route.name if request.matched_route else ""
    headers["Referrer-Policy"] = "no-referrer" if route in PRIVATE_ROUTES else "same-origin"
    if response.content_type == "text/html" or response.status_int in (302, 303):
        headers["Cache-Control"] = "no-store"
    headers.setdefault("X-Robots-Tag", "noindex")


def protect(event) -> None:
    request = event.request
    route = request.matched_route
    if route is not None and route.name.startswith("checkout."):
        request.add_response_callback(_headers)
