"""Security headers on every response: pages, the store API, errors, operator endpoints.

Set when the response is final (``NewResponse``, after the views' own response
callbacks), and only where a view has not set its own: the checkout pages keep
their stricter CSP and ``Referrer-Policy``. The default CSP fits the back
office: no scripts at all, stylesheets from this site plus the inline ``style``
attributes the templates use, forms posting only here, and no framing.
``Strict-Transport-Security`` goes on https responses in production only (after
the proxy correction, so behind a trusted TLS proxy too): a development
machine must not pin ``localhost`` to https.
"""

from __future__ import annotations

from pyramid.events import NewResponse

from tenancy.settings import is_production

CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
EVERYWHERE = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CSP),
)


class SecurityHeaders:
    """The ``NewResponse`` subscriber; whether HSTS is sent is decided once."""

    def __init__(self, settings):
        self.hsts = is_production(settings)

    def __call__(self, event) -> None:
        headers = event.response.headers
        for name, value in EVERYWHERE:
            headers.setdefault(name, value)
        if self.hsts and event.request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", HSTS)


def includeme(config) -> None:
    config.add_subscriber(SecurityHeaders(config.registry.settings), NewResponse)
