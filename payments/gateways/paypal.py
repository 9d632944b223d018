"""PayPal Payments Standard with Instant Payment Notification (IPN).

IPN messages are unsigned; authenticity comes from posting the message back
verbatim, prefixed with ``cmd=_notify-validate&``, and getting ``VERIFIED``.
Only then are receiver, status, amount and currency read.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from payments.config import ConfigField
from payments.errors import ProviderError, VerificationError
from payments.gateway import Gateway
from payments.i18n import N_
from payments.interfaces import (
    Acknowledgement,
    Capabilities,
    EventKind,
    GatewayEvent,
    IncomingNotification,
    PaymentRequest,
    PaymentStart,
)
from payments.money import Money

WEBSCR_URL = "https://www.paypal.com/cgi-bin/webscr"
POSTBACK_URL = "https://ipnpb.paypal.com/cgi-bin/webscr"
# Spelled out again in the help texts below: a message to translate is a literal.
SANDBOX_WEBSCR_URL = "https://www.sandbox.paypal.com/cgi-bin/webscr"
SANDBOX_POSTBACK_URL = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"
VALIDATE_PREFIX = b"cmd=_notify-validate&"

_KINDS = {
    "Completed": EventKind.PAYMENT_SUCCEEDED,
    "Pending": EventKind.PAYMENT_PENDING,
    "Denied": EventKind.PAYMENT_FAILED,
    "Failed": EventKind.PAYMENT_FAILED,
    "Expired": EventKind.PAYMENT_FAILED,
    "Voided": EventKind.PAYMENT_CANCELLED,
    "Refunded": EventKind.REFUND_SUCCEEDED,
    "Reversed": EventKind.REFUND_SUCCEEDED,
}


def parse_ipn(body: bytes) -> dict[str, str]:
    """Decode with the message's own ``charset`` (PayPal defaults to windows-1252)."""
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    charset = dict(pairs).get("charset", "windows-1252")
    try:
        codecs.lookup(charset)
    except LookupError:
        raise VerificationError(f"unknown IPN charset {charset!r}") from None
    try:
        decoded = parse_qsl(
            body.decode("ascii"), keep_blank_values=True, encoding=charset, errors="strict"
        )
    except UnicodeError:
        raise VerificationError("IPN body is not in its declared charset") from None
    return dict(decoded)


class PayPalGateway(Gateway):
    name = "paypal"
    title = N_("PayPal")
    capabilities = Capabilities(notifications=True)
    config_schema = (
        ConfigField(
            "business_email",
            N_("PayPal account e-mail"),
            required=True,
            help=N_("Payments to any other receiver are refused."),
        ),
        ConfigField("receiver_id", N_("PayPal merchant ID"), help=N_("Checked when set.")),
        ConfigField(
            "webscr_url",
            N_("Checkout URL"),
            kind="url",
            default=WEBSCR_URL,
            help=N_("Sandbox: https://www.sandbox.paypal.com/cgi-bin/webscr"),
        ),
        ConfigField(
            "postback_url",
            N_("IPN validation URL"),
            kind="url",
            default=POSTBACK_URL,
            help=N_("Sandbox: https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"),
        ),
        ConfigField(
            "accept_test_ipn", N_("Accept sandbox notifications"), kind="bool", default=False
        ),
    )

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        fields = [
            ("cmd", "_xclick"),
            ("business", settings["business_email"]),
            ("item_name", request.description[:127]),
            ("invoice", request.order_reference),
            ("custom", request.order_reference),
            ("amount", request.amount.format_plain()),
            ("currency_code", request.amount.currency),
            ("no_shipping", "1"),
            ("charset", "utf-8"),
            ("return", request.return_url),
            ("cancel_return", request.cancel_url),
            ("notify_url", request.notify_url),
        ]
        if request.customer_email:
            fields.append(("email", request.customer_email))
        return PaymentStart.form(settings["webscr_url"], fields)

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        if notification.method != "POST" or not notification.body:
            raise VerificationError("IPN must be a non-empty POST")
        self._postback(notification.body, settings["postback_url"])
        message = parse_ipn(notification.body)
        self._check_receiver(message, settings)
        kind = _KINDS.get(message.get("payment_status", ""))
        if kind is None:  # e.g. Canceled_Reversal, or a non-payment txn_type
            return []
        return [self._event(kind, message, notification)]

    def _postback(self, body: bytes, url: str) -> None:
        # Verbatim bytes: re-encoding the fields would change what PayPal checks.
        response = self.http.request(
            "POST",
            url,
            body=VALIDATE_PREFIX + body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status != 200:
            raise ProviderError(f"IPN postback answered HTTP {response.status}", response.status)
        answer = response.body.strip()
        if answer == b"INVALID":
            raise VerificationError("PayPal says the IPN is INVALID")
        if answer != b"VERIFIED":
            raise ProviderError("unexpected IPN postback answer")

    def _check_receiver(self, message: dict[str, str], settings: dict[str, Any]) -> None:
        receiver = message.get("receiver_email") or message.get("business", "")
        if receiver.casefold() != settings["business_email"].casefold():
            raise VerificationError("IPN is for another PayPal account")
        if settings["receiver_id"] and message.get("receiver_id") != settings["receiver_id"]:
            raise VerificationError("IPN is for another PayPal merchant ID")
        if message.get("test_ipn") == "1" and not settings["accept_test_ipn"]:
            raise VerificationError("sandbox IPN refused by a live store")

    def _event(
        self, kind: EventKind, message: dict[str, str], notification: IncomingNotification
    ) -> GatewayEvent:
        try:
            txn_id = message["txn_id"]
            # Refunds and reversals carry a negative mc_gross.
            amount = abs(Money.from_decimal(message["mc_gross"], message["mc_currency"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise VerificationError(f"unreadable IPN amount or id: {exc}") from None
        is_refund = kind is EventKind.REFUND_SUCCEEDED
        return GatewayEvent(
            gateway=self.name,
            kind=kind,
            provider_reference=txn_id,
            payment_reference=message.get("parent_txn_id") if is_refund else txn_id,
            order_reference=message.get("invoice") or message.get("custom") or None,
            amount=amount,
            occurred_at=notification.received_at,
            raw=message,
        )

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "text/plain; charset=utf-8", b"")
