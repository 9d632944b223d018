"""Skrill Quick Checkout: a form POST to Skrill's page, a signed status_url post.

status_url authenticity: ``md5sig = UPPER(md5(merchant_id + transaction_id +
UPPER(md5(secret word)) + mb_amount + mb_currency + status))``; ``sha2sig`` is
the same string through SHA-256, sent only once Skrill enabled it for the
account. Only the signed fields are trusted: ``mb_amount``/``mb_currency``
(what reached the merchant's Skrill account), never the unsigned
``amount``/``currency``. Refunds go through Skrill's refund API (prepare, then
refund) with the account's API/MQI password.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

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
    RefundRequest,
    RefundResult,
)
from payments.money import Money
from payments.signing import digests_equal, require_secret

PAYMENT_URL = "https://pay.skrill.com"
REFUND_URL = "https://www.skrill.com/app/refund.pl"
SIGNED = ("merchant_id", "transaction_id", "mb_amount", "mb_currency", "status")
REQUIRED = (*SIGNED, "md5sig", "pay_to_email", "mb_transaction_id")
_KINDS = {
    "2": EventKind.PAYMENT_SUCCEEDED,
    "0": EventKind.PAYMENT_PENDING,
    "-1": EventKind.PAYMENT_CANCELLED,
    "-2": EventKind.PAYMENT_FAILED,
    "-3": EventKind.REFUND_SUCCEEDED,  # chargeback: the money went back
}
_REFUND_STATUS = {"2": "succeeded", "0": "pending", "-2": "failed"}
_LANGUAGES = {"ru": "RU", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "pl": "PL"}


def signature_base(params: Mapping[str, str], secret_word: str) -> bytes:
    """The string both signatures cover; received values are used verbatim."""
    word = hashlib.md5(secret_word.encode("utf-8")).hexdigest().upper()
    return (
        params["merchant_id"]
        + params["transaction_id"]
        + word
        + params["mb_amount"]
        + params["mb_currency"]
        + params["status"]
    ).encode("utf-8")


def md5sig(params: Mapping[str, str], secret_word: str) -> str:
    return hashlib.md5(signature_base(params, secret_word)).hexdigest().upper()


def sha2sig(params: Mapping[str, str], secret_word: str) -> str:
    return hashlib.sha256(signature_base(params, secret_word)).hexdigest().upper()


class SkrillGateway(Gateway):
    name = "skrill"
    title = N_("Skrill")
    capabilities = Capabilities(refund_full=True, refund_partial=True, notifications=True)
    config_schema = (
        ConfigField(
            "pay_to_email",
            N_("Skrill account e-mail"),
            required=True,
            help=N_("Payments to any other account are refused."),
        ),
        ConfigField(
            "merchant_id",
            N_("Skrill merchant ID"),
            required=True,
            help=N_("The customer ID of your Skrill merchant account."),
        ),
        ConfigField("secret_word", N_("Secret word"), kind="secret", required=True),
        ConfigField(
            "signature",
            N_("Notification signature"),
            kind="choice",
            choices=("md5", "md5+sha2"),
            default="md5",
            help=N_("Require sha2sig too, once Skrill has enabled it for your account."),
        ),
        ConfigField(
            "api_password",
            N_("API/MQI password (refunds)"),
            kind="secret",
            help=N_("Needed only to refund from the back office."),
        ),
        ConfigField("payment_url", N_("Payment page URL"), kind="url", default=PAYMENT_URL),
        ConfigField("refund_url", N_("Refund API URL"), kind="url", default=REFUND_URL),
    )

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        fields = [
            ("pay_to_email", settings["pay_to_email"]),
            # Our order reference: signed in every status post, so a genuine
            # notification cannot be moved to another order.
            ("transaction_id", request.order_reference),
            ("return_url", request.return_url),
            ("cancel_url", request.cancel_url),
            ("status_url", request.notify_url),
            ("language", _LANGUAGES.get(request.locale[:2], "EN")),
            ("amount", request.amount.format_plain()),
            ("currency", request.amount.currency),
            ("detail1_description", "Order"),
            ("detail1_text", request.description[:240]),
        ]
        if request.customer_email:
            fields.append(("pay_from_email", request.customer_email))
        return PaymentStart.form(settings["payment_url"], fields)

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        secret = require_secret(settings, "secret_word")
        params = notification.form if notification.method == "POST" else {}
        values = {k: v[0] for k, v in params.items() if v}
        missing = [name for name in REQUIRED if name not in values]
        if missing:
            raise VerificationError(f"missing Skrill fields: {', '.join(missing)}")
        if not digests_equal(md5sig(values, secret), values["md5sig"], ignore_case=True):
            raise VerificationError("bad Skrill md5sig")
        if settings["signature"] == "md5+sha2" and not digests_equal(
            sha2sig(values, secret), values.get("sha2sig", ""), ignore_case=True
        ):
            raise VerificationError("bad or missing Skrill sha2sig")
        if values["pay_to_email"].casefold() != settings["pay_to_email"].casefold():
            raise VerificationError("Skrill status is for another account")
        if values["merchant_id"] != settings["merchant_id"]:
            raise VerificationError("Skrill status is for another merchant ID")
        kind = _KINDS.get(values["status"])
        return [] if kind is None else [self._event(kind, values, notification)]

    def _event(
        self, kind: EventKind, values: dict[str, str], notification: IncomingNotification
    ) -> GatewayEvent:
        try:
            amount = Money.from_decimal(values["mb_amount"], values["mb_currency"])
        except (ValueError, TypeError):
            raise VerificationError("unreadable Skrill mb_amount/mb_currency") from None
        payment = values["mb_transaction_id"]
        chargeback = kind is EventKind.REFUND_SUCCEEDED
        return GatewayEvent(
            gateway=self.name,
            kind=kind,
            provider_reference=f"{payment}:chargeback" if chargeback else payment,
            payment_reference=payment,
            order_reference=values["transaction_id"],
            amount=amount,
            occurred_at=notification.received_at,
            raw={k: v for k, v in values.items() if k not in ("md5sig", "sha2sig")},
        )

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "text/plain; charset=utf-8", b"OK")

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        settings = self.validate_config(config)
        password = require_secret(settings, "api_password")
        prepared = self._call(
            settings["refund_url"],
            {
                "action": "prepare",
                "email": settings["pay_to_email"],
                "password": hashlib.md5(password.encode("utf-8")).hexdigest(),
                "mb_transaction_id": request.provider_reference,
                "amount": request.amount.format_plain(),
                # Skrill takes no idempotency key; our key names the refund for support.
                "refund_note": request.idempotency_key[:100],
            },
        )
        sid = prepared.findtext("sid")
        if not sid:
            raise ProviderError("Skrill refund: no session id")
        done = self._call(settings["refund_url"], {"action": "refund", "sid": sid})
        status = _REFUND_STATUS.get(done.findtext("status") or "", "pending")
        reference = done.findtext("mb_transaction_id")
        if not reference:
            raise ProviderError("Skrill refund: no transaction id")
        try:
            amount = Money.from_decimal(
                done.findtext("mb_amount") or request.amount.format_plain(),
                done.findtext("mb_currency") or request.amount.currency,
            )
        except (ValueError, TypeError):
            raise ProviderError("Skrill refund: unreadable amount") from None
        return RefundResult(status, reference, amount, raw={"status": done.findtext("status")})

    def _call(self, url: str, params: dict[str, str]) -> ET.Element:
        response = self.http.request(
            "POST",
            url,
            body=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            root = ET.fromstring(response.body)
        except ET.ParseError:
            raise ProviderError(
                f"Skrill answered HTTP {response.status}", response.status
            ) from None
        error = root.findtext("error/error_msg") or root.findtext("error")
        if response.status != 200 or error:
            raise ProviderError(
                f"Skrill refused the refund: {error or response.status}", response.status
            )
        return root
