"""Stripe Checkout with signed webhooks.

Webhook authenticity: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`` where
v1 = HMAC-SHA256(webhook secret, f"{t}.{raw body}"); the timestamp must be
within the tolerance in both directions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from payments.config import ConfigField
from payments.errors import ConfigError, ProviderError, VerificationError
from payments.gateway import Gateway
from payments.http import HttpResponse, join_url
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
from payments.signing import (
    any_digest_equal,
    check_timestamp,
    hmac_sha256_hex,
    require_secret,
)

API_BASE = "https://api.stripe.com"
DEFAULT_TOLERANCE = 300
# Zero-decimal in ISO 4217 but sent by Stripe with two decimals for
# backwards compatibility (https://docs.stripe.com/currencies).
_EXTRA_DIGITS = {"ISK": 2, "UGX": 2}
_SESSION_KINDS = {
    "checkout.session.async_payment_succeeded": EventKind.PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": EventKind.PAYMENT_FAILED,
    "checkout.session.expired": EventKind.PAYMENT_CANCELLED,
}
_INTENT_KINDS = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
    "payment_intent.canceled": EventKind.PAYMENT_CANCELLED,
}


def to_stripe_amount(money: Money) -> int:
    return money.amount * 10 ** _EXTRA_DIGITS.get(money.currency, 0)


def from_stripe_amount(amount: Any, currency: Any) -> Money:
    code = str(currency).upper()
    scale = 10 ** _EXTRA_DIGITS.get(code, 0)
    if type(amount) is not int or amount % scale:
        raise ValueError(f"unexpected Stripe amount {amount!r} {code}")
    return Money(amount // scale, code)


def form_encode(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's bracket notation: {"a": {"b": [1]}} -> a[b][0]=1."""
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, (Mapping, list, tuple)):
            pairs.extend(form_encode(value, name))
        elif value is not None:
            pairs.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    return pairs


def sign_payload(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` value Stripe would send (used by tests and demos)."""
    return f"t={timestamp},v1={hmac_sha256_hex(secret, f'{timestamp}.'.encode() + body)}"


def verify_signature(
    header: str, body: bytes, secret: str, now: datetime, tolerance: int = DEFAULT_TOLERANCE
) -> None:
    timestamps, candidates = [], []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not candidates or not timestamps[0].isdigit():
        raise VerificationError("malformed Stripe-Signature header")
    timestamp = int(timestamps[0])
    check_timestamp(timestamp, now, tolerance)
    expected = hmac_sha256_hex(secret, f"{timestamp}.".encode() + body)
    if not any_digest_equal(expected, candidates):
        raise VerificationError("no matching Stripe v1 signature")


class StripeGateway(Gateway):
    name = "stripe"
    title = N_("Stripe")
    capabilities = Capabilities(refund_full=True, refund_partial=True, notifications=True)
    config_schema = (
        ConfigField("secret_key", N_("Secret key (sk_...)"), kind="secret", required=True),
        ConfigField(
            "webhook_secret", N_("Webhook signing secret (whsec_...)"), kind="secret", required=True
        ),
        ConfigField("api_base", N_("API base URL"), kind="url", default=API_BASE),
        ConfigField(
            "tolerance_seconds",
            N_("Webhook clock tolerance (seconds)"),
            default=str(DEFAULT_TOLERANCE),
        ),
        ConfigField(
            "api_version",
            N_("Stripe API version (optional)"),
            help=N_("Sent as Stripe-Version when set."),
        ),
    )

    def check_config(self, config: dict[str, Any]) -> None:
        value = config["tolerance_seconds"]
        if not value.isdigit() or not 0 < int(value) <= 3600:
            raise ConfigError({"tolerance_seconds": N_("Whole seconds between 1 and 3600.")})

    def _post(
        self, settings: dict[str, Any], path: str, params: Mapping[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {require_secret(settings, 'secret_key')}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": idempotency_key,
        }
        if settings["api_version"]:
            headers["Stripe-Version"] = settings["api_version"]
        body = urlencode(form_encode(params)).encode()
        url = join_url(settings["api_base"], path)
        return _expect_ok(self.http.request("POST", url, headers=headers, body=body))

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        reference = {"order_reference": request.order_reference}
        params = {
            "mode": "payment",
            "success_url": request.return_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.order_reference,
            "customer_email": request.customer_email,
            "locale": "auto",  # Stripe knows fewer locales than we do
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.amount.currency.lower(),
                        "unit_amount": to_stripe_amount(request.amount),
                        "product_data": {"name": request.description[:250]},
                    },
                }
            ],
            "metadata": reference,
            # Copied to the PaymentIntent and its charges, so refund webhooks
            # can name the order too.
            "payment_intent_data": {"metadata": reference},
        }
        data = self._post(settings, "/v1/checkout/sessions", params, request.idempotency_key)
        if not data.get("url") or not data.get("id"):
            raise ProviderError("Stripe session has no URL")
        return PaymentStart.redirect(data["url"], provider_reference=data["id"])

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        secret = require_secret(settings, "webhook_secret")
        verify_signature(
            notification.headers.get("Stripe-Signature", ""),
            notification.body,
            secret,
            notification.received_at,
            int(settings["tolerance_seconds"]),
        )
        try:
            event = notification.json()
            return self._events(event)
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(f"unreadable Stripe event: {exc}") from None

    def _events(self, event: dict[str, Any]) -> list[GatewayEvent]:
        kind, obj = event["type"], event["data"]["object"]
        if kind == "checkout.session.completed":
            paid = obj["payment_status"] in ("paid", "no_payment_required")
            status = EventKind.PAYMENT_SUCCEEDED if paid else EventKind.PAYMENT_PENDING
            return [self._session_event(status, event, obj)]
        if kind in _SESSION_KINDS:
            return [self._session_event(_SESSION_KINDS[kind], event, obj)]
        if kind in _INTENT_KINDS:
            amount_key = "amount_received" if kind.endswith("succeeded") else "amount"
            return [
                self._event(
                    _INTENT_KINDS[kind],
                    event,
                    obj["id"],
                    obj["id"],
                    from_stripe_amount(obj[amount_key], obj["currency"]),
                    obj.get("metadata"),
                )
            ]
        if kind == "charge.refunded":
            return self._refund_events(event, obj)
        return []  # authentic, but nothing the core acts on

    def _session_event(self, kind: EventKind, event: dict, obj: dict) -> GatewayEvent:
        # The PaymentIntent id is the payment's identity: payment_intent.succeeded
        # for the same payment then dedups against this event.
        reference = obj.get("payment_intent") or obj["id"]
        metadata = {
            "order_reference": obj.get("client_reference_id"),
            **(obj.get("metadata") or {}),
        }
        amount = from_stripe_amount(obj["amount_total"], obj["currency"])
        return self._event(kind, event, reference, reference, amount, metadata)

    def _refund_events(self, event: dict, charge: dict) -> list[GatewayEvent]:
        payment = charge.get("payment_intent") or charge["id"]
        refunds = (charge.get("refunds") or {}).get("data")
        if refunds:
            return [
                self._event(
                    EventKind.REFUND_SUCCEEDED,
                    event,
                    refund["id"],
                    payment,
                    from_stripe_amount(refund["amount"], refund["currency"]),
                    charge.get("metadata"),
                )
                for refund in refunds
                if refund.get("status") == "succeeded"
            ]
        # API versions since 2022-11-15 omit the list: report the running
        # total, keyed by it, so each new total is a distinct event.
        total = from_stripe_amount(charge["amount_refunded"], charge["currency"])
        return [
            self._event(
                EventKind.REFUND_SUCCEEDED,
                event,
                f"{charge['id']}:refunded:{total.amount}",
                payment,
                total,
                charge.get("metadata"),
                cumulative=True,
            )
        ]

    def _event(
        self,
        kind: EventKind,
        event: dict,
        reference: str,
        payment: str,
        amount: Money,
        metadata: Mapping[str, Any] | None,
        cumulative: bool = False,
    ) -> GatewayEvent:
        return GatewayEvent(
            gateway=self.name,
            kind=kind,
            provider_reference=str(reference),
            payment_reference=str(payment),
            order_reference=(metadata or {}).get("order_reference") or None,
            amount=amount,
            occurred_at=datetime.fromtimestamp(int(event["created"]), UTC),
            event_id=str(event["id"]),
            raw=event,
            cumulative=cumulative,
        )

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "application/json", b'{"received": true}')

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        settings = self.validate_config(config)
        target = "charge" if request.provider_reference.startswith("ch_") else "payment_intent"
        params = {
            target: request.provider_reference,
            "amount": to_stripe_amount(request.amount),
            "metadata": {"order_reference": request.order_reference},
        }
        data = self._post(settings, "/v1/refunds", params, request.idempotency_key)
        status = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(
            data.get("status"), "pending"
        )
        try:
            amount = from_stripe_amount(data["amount"], data["currency"])
            return RefundResult(status, str(data["id"]), amount, raw=data)
        except (KeyError, ValueError) as exc:
            raise ProviderError(f"unreadable Stripe refund: {exc}") from None


def _expect_ok(response: HttpResponse) -> dict[str, Any]:
    if response.status != 200:
        # Stripe's error message helps the store owner; it never echoes the key.
        message = ""
        try:
            message = response.json().get("error", {}).get("message", "")
        except (ProviderError, AttributeError):
            pass
        raise ProviderError(f"Stripe answered HTTP {response.status}: {message}", response.status)
    data = response.json()
    if not isinstance(data, dict):
        raise ProviderError("Stripe answered with a non-object")
    return data
