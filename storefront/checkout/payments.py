"""Which of the store's payment methods a shopper may choose, and their names.

The store's enabled gateways (``request.payment_settings``) that accept the
store's currency. Gateway titles are English; the ones we ship get a name in
the shopper's language here, others show their own title.
"""

from __future__ import annotations

from dataclasses import dataclass

from payments.errors import PaymentError
from storefront.i18n import _

LABELS = {
    "manual": _("Bank transfer"),
    "cod": _("Cash on delivery"),
    "sandbox": _("Card (test payment)"),
    "stripe": _("Card (Stripe)"),
    "paypal": _("PayPal"),
    "yookassa": _("YooKassa"),
    "robokassa": _("Robokassa"),
}
HINTS = {
    "manual": _("You will get our bank details on the next page."),
    "cod": _("Pay the courier when your order arrives."),
}
DEFAULT_HINT = _("You will be taken to a secure payment page.")


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    hint: str
    offline: bool


def available_methods(request, currency: str) -> list[Method]:
    settings = request.payment_settings
    translate = request.localizer.translate
    methods = []
    for summary in settings.enabled():
        try:
            gateway = settings.gateways.get(summary.name)
        except PaymentError:  # an uninstalled plugin: not offered, not fatal
            continue
        if not gateway.capabilities.accepts(currency):
            continue
        label = LABELS.get(summary.name)
        offline = bool(gateway.capabilities.offline)
        hint = HINTS.get(summary.name) or (None if offline else DEFAULT_HINT)
        methods.append(
            Method(
                summary.name,
                translate(label) if label else summary.title,
                translate(hint) if hint else "",
                offline,
            )
        )
    return methods


def method_label(request, name: str | None) -> str:
    if not name:
        return ""
    label = LABELS.get(name)
    if label is not None:
        return request.localizer.translate(label)
    try:
        return request.payment_settings.gateways.get(name).title
    except PaymentError:
        return name
