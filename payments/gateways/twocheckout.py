"""2Checkout (Verifone): a signed ConvertPlus buy link, HMAC-signed IPN.

IPN authenticity: HMAC over every field in the order received, each written
as its length in bytes followed by the value (arrays element by element),
leaving out the signatures themselves: ``HASH`` (HMAC-MD5, every account) or
``SIGNATURE_SHA2_256`` (HMAC-SHA256, newer accounts). The listener must answer
``<EPAYMENT>DATE|HASH</EPAYMENT>`` (``<sig algo="sha256" date="DATE">HASH</sig>``
for SHA-256) with HASH over ``IPN_PID[0]``, ``IPN_PNAME[0]``, ``IPN_DATE`` and
DATE, or 2Checkout delivers the IPN again. Refunds: REST API 6.0, whole
orders only; the refund is confirmed later by a REFUND IPN.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from payments.config import ConfigField
from payments.errors import ProviderError, VerificationError
from payments.gateway import Gateway
from payments.http import join_url
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

CHECKOUT_URL = "https://secure.2checkout.com/checkout/buy"
API_BASE = "https://api.2checkout.com"
SIGNATURE_FIELDS = {"md5": "HASH", "sha256": "SIGNATURE_SHA2_256"}
_NOT_SIGNED = {"HASH", "SIGNATURE_SHA2_256", "SIGNATURE_SHA3_256"}
# ConvertPlus signs these buy-link parameters (sorted by name) when present.
_BUY_LINK_SIGNED = {
    "currency", "description", "duration", "expiration", "item-ext-ref", "lock", "opt",
    "order-ext-ref", "price", "prod", "qty", "recurrence", "renewal-price", "return-type",
    "return-url", "tangible", "type", "coupon",
}  # fmt: skip
_KINDS = {
    "COMPLETE": EventKind.PAYMENT_SUCCEEDED,
    "PAYMENT_AUTHORIZED": EventKind.PAYMENT_PENDING,
    "PENDING": EventKind.PAYMENT_PENDING,
    "PURCHASE_PENDING": EventKind.PAYMENT_PENDING,
    "PENDING_APPROVAL": EventKind.PAYMENT_PENDING,
    "CANCELED": EventKind.PAYMENT_CANCELLED,
    "REFUND": EventKind.REFUND_SUCCEEDED,
    "REVERSED": EventKind.REFUND_SUCCEEDED,
}


def serialize(values: Iterable[str]) -> bytes:
    """Each value as ``len(bytes)`` + value, concatenated."""
    out = b""
    for value in values:
        raw = value.encode("utf-8")
        out += str(len(raw)).encode() + raw
    return out


def hmac_hex(algorithm: str, key: str, values: Iterable[str]) -> str:
    return hmac.new(key.encode("utf-8"), serialize(values), getattr(hashlib, algorithm)).hexdigest()


def ipn_signature(algorithm: str, key: str, pairs: list[tuple[str, str]]) -> str:
    return hmac_hex(algorithm, key, (v for k, v in pairs if k not in _NOT_SIGNED))


def buy_link_signature(secret: str, params: Mapping[str, str]) -> str:
    signed = [params[k] for k in sorted(params) if k in _BUY_LINK_SIGNED]
    return hmac_hex("sha256", secret, signed)


def response_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def epayment_answer(algorithm: str, key: str, pairs: list[tuple[str, str]], date: str) -> bytes:
    first = dict(reversed(pairs))  # the first value of each name
    values = [first.get("IPN_PID[]", ""), first.get("IPN_PNAME[]", ""), first.get("IPN_DATE", "")]
    digest = hmac_hex(algorithm, key, [*values, date])
    if algorithm == "md5":
        return f"<EPAYMENT>{date}|{digest}</EPAYMENT>".encode()
    return f'<sig algo="{algorithm}" date="{date}">{digest}</sig>'.encode()


class TwoCheckoutGateway(Gateway):
    name = "twocheckout"
    title = N_("2Checkout (Verifone)")
    capabilities = Capabilities(refund_full=True, notifications=True)
    config_schema = (
        ConfigField("merchant_code", N_("Merchant code"), required=True),
        ConfigField(
            "secret_key",
            N_("Secret key"),
            kind="secret",
            required=True,
            help=N_("Signs the IPN and the API calls (Integrations > Webhooks & API)."),
        ),
        ConfigField("buy_link_secret", N_("Buy-link secret word"), kind="secret", required=True),
        ConfigField(
            "ipn_algorithm",
            N_("IPN signature"),
            kind="choice",
            choices=("md5", "sha256"),
            default="md5",
            help=N_("SHA-256 once your account sends SIGNATURE_SHA2_256."),
        ),
        ConfigField("test_mode", N_("Test orders"), kind="bool", default=False),
        ConfigField("checkout_url", N_("Checkout URL"), kind="url", default=CHECKOUT_URL),
        ConfigField("api_base", N_("API base URL"), kind="url", default=API_BASE),
    )

    def __init__(self, http=None) -> None:
        super().__init__(http)
        # The answer 2Checkout expects is signed with the store's key, which
        # ``acknowledge`` does not receive: kept from ``verify_notification``
        # for the same notification object, in the same thread only.
        self._answers = threading.local()

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        params = {
            "merchant": settings["merchant_code"],
            "dynamic": "1",
            "prod": request.description[:100] or "Order",
            "price": request.amount.format_plain(),
            "qty": "1",
            "type": "PRODUCT",
            "tangible": "0",
            "currency": request.amount.currency,
            "order-ext-ref": request.order_reference,
            "return-url": request.return_url,
            "return-type": "redirect",
            "language": request.locale[:2],
        }
        if request.customer_email:
            params["email"] = request.customer_email
        if settings["test_mode"]:
            params["test"] = "1"
        secret = require_secret(settings, "buy_link_secret")
        params["signature"] = buy_link_signature(secret, params)
        return PaymentStart.redirect(f"{settings['checkout_url']}?{urlencode(params)}")

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        key = require_secret(settings, "secret_key")
        algorithm = settings["ipn_algorithm"]
        if notification.method != "POST":
            raise VerificationError("2Checkout IPN must be a POST")
        try:  # the order of the fields is part of what is signed
            pairs = parse_qsl(notification.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise VerificationError("2Checkout IPN is not UTF-8") from None
        received = dict(pairs).get(SIGNATURE_FIELDS[algorithm], "")
        if not received or not digests_equal(
            ipn_signature(algorithm, key, pairs), received, ignore_case=True
        ):
            raise VerificationError(f"bad or missing 2Checkout {SIGNATURE_FIELDS[algorithm]}")
        date = response_date(notification.received_at)
        self._answers.last = (notification, epayment_answer(algorithm, key, pairs, date))
        return self._events(dict(pairs), notification)

    def _events(self, fields: dict[str, str], notification) -> list[GatewayEvent]:
        kind = _KINDS.get(fields.get("ORDERSTATUS", ""))
        if kind is None:
            return []
        try:
            refno = fields["REFNO"]
            amount = Money.from_decimal(fields["IPN_TOTALGENERAL"], fields["CURRENCY"])
        except (KeyError, ValueError, TypeError) as exc:
            raise VerificationError(f"unreadable 2Checkout IPN: {exc}") from None
        refund = kind is EventKind.REFUND_SUCCEEDED
        return [
            GatewayEvent(
                gateway=self.name,
                kind=kind,
                provider_reference=f"{refno}:refund" if refund else refno,
                payment_reference=refno,
                order_reference=fields.get("REFNOEXT") or None,
                amount=amount,
                occurred_at=notification.received_at,
                raw=fields,
            )
        ]

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        last = getattr(self._answers, "last", None)
        body = last[1] if last is not None and last[0] is notification else b""
        return Acknowledgement(200, "text/plain; charset=utf-8", body)

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        settings = self.validate_config(config)
        key = require_secret(settings, "secret_key")
        refno = request.provider_reference
        url = join_url(settings["api_base"], f"/rest/6.0/orders/{quote(refno, safe='')}/refund/")
        body = {
            "amount": request.amount.format_plain(),
            "comment": request.idempotency_key,
            "reason": request.reason or "Other",
        }
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Avangate-Authentication": self._auth(settings["merchant_code"], key),
        }
        response = self.http.request("POST", url, headers=headers, body=json.dumps(body).encode())
        if response.status not in (200, 201) or response.body.strip() != b"true":
            raise ProviderError(
                f"2Checkout refused the refund: {_error(response)}", response.status
            )
        # Confirmed later by a REFUND IPN with the same reference.
        return RefundResult("pending", f"{refno}:refund", request.amount)

    def _auth(self, code: str, key: str) -> str:
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        digest = hmac_hex("sha256", key, [code, date])
        return f'code="{code}" date="{date}" hash="{digest}" algo="sha256"'


def _error(response) -> str:
    try:
        data = json.loads(response.body)
        return str(data.get("error_code") or data.get("message") or response.status)
    except (ValueError, AttributeError):
        return f"HTTP {response.status}"
