"""The sandbox gateway's hosted card page, served by our own server for the demo.

This is the one module of the core that imports a specific gateway: the page
*is* the sandbox provider's side (token check, test cards, signed
notification). ``.importlinter`` names it as the only exception to
"backoffice never imports payments.gateways".
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from backoffice.i18n import _
from backoffice.payments.notifications import RawNotification, process
from payments.errors import ConfigurationError, VerificationError
from payments.gateways import sandbox

T = "backoffice:payments/templates/"


def _sandbox_checkout(request, token: str):
    try:
        secret = request.payment_settings.config_for("sandbox").get("secret") or ""
        return sandbox.verify_token(token, secret, datetime.now(UTC)), secret
    except (VerificationError, ConfigurationError):
        raise HTTPNotFound() from None


@view_config(route_name="payments.sandbox", request_method="GET", renderer=T + "sandbox.jinja2")
def sandbox_page(request):
    """Our own fake card page for the demo gateway (see payments.gateways.sandbox)."""
    token = request.GET.get("token", "")
    checkout, _secret = _sandbox_checkout(request, token)
    translate = request.localizer.translate
    return {
        "checkout": checkout,
        "token": token,
        "csrf_token": get_csrf_token(request),
        "title": translate(_("Test payment")),
        "pay": translate(_("Pay")),
        "cancel": translate(_("Cancel")),
        "card_label": translate(_("Card number")),
        "hint": translate(
            _("Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.")
        ),
    }


@view_config(route_name="payments.sandbox", request_method="POST")
def sandbox_pay(request):
    """The "provider" charges the card and notifies the store, then sends the shopper back.

    The notification goes through ``process`` in-process, as the bytes and headers
    a provider would POST: it is stored raw, its signature checked with the store's
    secret, deduplicated and applied under the order lock like any other. We do not
    make an HTTP request to ourselves: the public URL is not always reachable from
    inside the server, and a self-request would hold a second worker thread.
    """
    token = request.POST.get("token", "")
    checkout, secret = _sandbox_checkout(request, token)
    outcome = sandbox.charge_test_card(request.POST.get("card", ""))
    body, headers = sandbox.build_notification(checkout, outcome, secret, datetime.now(UTC))
    raw = RawNotification(
        gateway="sandbox",
        method="POST",
        headers=list(headers.items()),
        body=body,
        remote_addr="sandbox-page",
    )
    gateway = request.payment_settings.gateways.get("sandbox")
    process(request.db, request.payment_settings, gateway, raw)
    return HTTPSeeOther(checkout.return_url)
