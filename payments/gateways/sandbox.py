"""A fake card gateway for demos, hosted by our own server.

Flow: ``start_payment`` redirects to ``page_url?token=...``.  The core's page
view (not written here) must:

1. ``checkout = verify_token(token, secret, now)`` - refuse the page on error;
2. show amount/description and a card form (CSRF-protected like any form);
3. on submit, ``outcome = charge_test_card(number)``;
4. ``body, headers = build_notification(checkout, outcome, secret, now)`` and
   feed it through the normal notification path (POST to ``notify_url`` or an
   in-process call) so the demo exercises the same code as real gateways;
5. redirect the customer to ``checkout.return_url``, which completes nothing.

Token and notification use keys derived from the store secret for different
purposes, so a page token can never pass as a notification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from payments.config import ConfigField
from payments.errors import VerificationError
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
from payments.signing import check_timestamp, digests_equal, require_secret

TOKEN_TTL = 3600
NOTIFY_TOLERANCE = 300
SIGNATURE_HEADER = "X-Sandbox-Signature"
SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
Outcome = Literal["succeeded", "failed"]


@dataclass(frozen=True)
class SandboxCheckout:
    """What the hosted page needs, carried inside the signed token."""

    order_reference: str
    amount: int
    currency: str
    description: str
    return_url: str
    cancel_url: str
    notify_url: str
    attempt: str  # the request's idempotency key
    expires: int

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    def payment_id(self, secret: str) -> str:
        # Deterministic, so paying the same page twice yields one payment id.
        return "sbx_" + _mac(secret, "payment", self.attempt.encode())[:24]


def _mac(secret: str, purpose: str, message: bytes) -> str:
    key = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_token(checkout: SandboxCheckout, secret: str) -> str:
    payload = json.dumps(asdict(checkout), separators=(",", ":"), sort_keys=True)
    encoded = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{encoded}.{_mac(secret, 'token', encoded.encode())}"


def verify_token(token: str, secret: str, now: datetime) -> SandboxCheckout:
    """The checkout inside a page token, or ``VerificationError``."""
    if not secret:
        raise VerificationError("sandbox secret is not configured")
    encoded, _, signature = token.rpartition(".")
    if not encoded or not digests_equal(_mac(secret, "token", encoded.encode()), signature):
        raise VerificationError("bad sandbox token signature")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        checkout = SandboxCheckout(**json.loads(raw))
    except (ValueError, TypeError, binascii.Error):
        raise VerificationError("malformed sandbox token") from None
    if checkout.expires < now.timestamp():
        raise VerificationError("sandbox token expired")
    return checkout


def charge_test_card(card_number: str) -> Outcome:
    """4242... succeeds; 4000...0002 and any other number is declined."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    return "succeeded" if digits == SUCCESS_CARD else "failed"


def build_notification(
    checkout: SandboxCheckout, outcome: Outcome, secret: str, now: datetime
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of the signed notification the page sends us."""
    created = int(now.timestamp())
    payment_id = checkout.payment_id(secret)
    body = json.dumps(
        {
            "id": f"sbxevt_{payment_id[4:]}_{outcome}",
            "type": f"payment.{outcome}",
            "payment_id": payment_id,
            "order_reference": checkout.order_reference,
            "amount": checkout.amount,
            "currency": checkout.currency,
            "created": created,
        }
    ).encode()
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign_notification(body, secret, created),
    }


def sign_notification(body: bytes, secret: str, timestamp: int) -> str:
    mac = _mac(secret, "notify", f"{timestamp}.".encode() + body)
    return f"t={timestamp},v1={mac}"


def verify_notification_signature(header: str, body: bytes, secret: str, now: datetime) -> None:
    parts = dict(item.partition("=")[::2] for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        received = parts["v1"]
    except (KeyError, ValueError):
        raise VerificationError("malformed sandbox signature header") from None
    check_timestamp(timestamp, now, NOTIFY_TOLERANCE)
    expected = _mac(secret, "notify", f"{timestamp}.".encode() + body)
    if not digests_equal(expected, received):
        raise VerificationError("bad sandbox notification signature")


class SandboxGateway(Gateway):
    name = "sandbox"
    title = N_("Test card payments (demo)")
    # Refunds "succeed" at once, like a provider that confirms them synchronously.
    capabilities = Capabilities(notifications=True, refund_full=True, refund_partial=True)
    config_schema = (
        ConfigField(
            "page_url",
            N_("Hosted test page URL"),
            kind="url",
            required=True,
            help=N_("Our own fake card page for this store."),
        ),
        ConfigField("secret", N_("Signing secret"), kind="secret", required=True),
    )

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        checkout = SandboxCheckout(
            order_reference=request.order_reference,
            amount=request.amount.amount,
            currency=request.amount.currency,
            description=request.description,
            return_url=request.return_url,
            cancel_url=request.cancel_url,
            notify_url=request.notify_url,
            attempt=request.idempotency_key,
            expires=int(datetime.now(UTC).timestamp()) + TOKEN_TTL,
        )
        token = sign_token(checkout, settings["secret"])
        return PaymentStart.redirect(_with_query(settings["page_url"], token=token))

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        secret = require_secret(settings, "secret")
        header = notification.headers.get(SIGNATURE_HEADER, "")
        verify_notification_signature(header, notification.body, secret, notification.received_at)
        return [self._event(notification)]

    def _event(self, notification: IncomingNotification) -> GatewayEvent:
        try:
            data = notification.json()
            kind = {
                "payment.succeeded": EventKind.PAYMENT_SUCCEEDED,
                "payment.failed": EventKind.PAYMENT_FAILED,
            }[data["type"]]
            return GatewayEvent(
                gateway=self.name,
                kind=kind,
                provider_reference=str(data["payment_id"]),
                payment_reference=str(data["payment_id"]),
                order_reference=str(data["order_reference"]),
                amount=Money(data["amount"], data["currency"]),
                occurred_at=datetime.fromtimestamp(data["created"], UTC),
                event_id=str(data["id"]),
                raw=data,
            )
        except (ValueError, KeyError, TypeError):
            raise VerificationError("malformed sandbox notification") from None

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "application/json", b'{"received": true}')

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        """A test refund: always succeeds; the same idempotency key, the same refund id."""
        settings = self.validate_config(config)
        secret = require_secret(settings, "secret")
        refund_id = "sbxrf_" + _mac(secret, "refund", request.idempotency_key.encode())[:24]
        return RefundResult("succeeded", refund_id, request.amount)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))
