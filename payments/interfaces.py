"""Plain data exchanged between the core and a gateway.

Everything is an immutable value: a gateway never touches the database, the
order, or the session; it only translates and checks authenticity.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import parse_qs

from payments.http import Headers
from payments.money import Money


class EventKind(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_PENDING = "payment.pending"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELLED = "payment.cancelled"
    REFUND_SUCCEEDED = "refund.succeeded"


@dataclass(frozen=True)
class PaymentRequest:
    order_reference: str
    amount: Money
    description: str
    return_url: str
    cancel_url: str
    notify_url: str
    # Stable per payment attempt: a retried start must not create a second
    # charge at the provider.
    idempotency_key: str
    customer_email: str | None = None
    locale: str = "en"


@dataclass(frozen=True)
class PaymentStart:
    """How to send the customer to the provider (or what to tell them)."""

    kind: Literal["redirect", "form", "offline"]
    url: str = ""  # redirect target or form action
    fields: tuple[tuple[str, str], ...] = ()  # form fields, in order
    instructions: str = ""  # offline methods: text to show the customer
    # Provider's id for the attempt when one exists already (Stripe session,
    # YooKassa payment); worth storing for support, not for completion.
    provider_reference: str | None = None

    @classmethod
    def redirect(cls, url: str, provider_reference: str | None = None) -> PaymentStart:
        return cls("redirect", url=url, provider_reference=provider_reference)

    @classmethod
    def form(cls, action: str, fields: list[tuple[str, str]]) -> PaymentStart:
        return cls("form", url=action, fields=tuple(fields))

    @classmethod
    def offline(cls, instructions: str) -> PaymentStart:
        return cls("offline", instructions=instructions)


@dataclass(frozen=True)
class IncomingNotification:
    """An HTTP request from a provider, exactly as received.

    ``remote_addr`` must be the real client address (resolved from trusted
    proxy headers by the core), because YooKassa is authenticated by it.
    """

    method: str
    headers: Headers
    body: bytes
    query: Mapping[str, list[str]]
    form: Mapping[str, list[str]]
    remote_addr: str
    received_at: datetime

    @classmethod
    def from_http(
        cls,
        method: str,
        headers: Mapping[str, str] | list[tuple[str, str]],
        body: bytes,
        *,
        query_string: str = "",
        remote_addr: str = "",
        received_at: datetime | None = None,
    ) -> IncomingNotification:
        """Build from raw request parts; parses an urlencoded body as UTF-8."""
        hdrs = headers if isinstance(headers, Headers) else Headers(headers)
        form: dict[str, list[str]] = {}
        if "application/x-www-form-urlencoded" in hdrs.get("Content-Type", ""):
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return cls(
            method=method.upper(),
            headers=hdrs,
            body=body,
            query=parse_qs(query_string, keep_blank_values=True),
            form=form,
            remote_addr=remote_addr,
            received_at=received_at or datetime.now(UTC),
        )

    def params(self) -> dict[str, str]:
        """Single-valued view of form (POST) or query (GET) parameters."""
        source = self.form if self.method == "POST" else self.query
        return {key: values[0] for key, values in source.items() if values}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class GatewayEvent:
    """One fact the core may act on, already authenticated.

    Dedup key for the core: ``(gateway, provider_reference, kind)``.
    """

    gateway: str
    kind: EventKind
    # Provider's id of the payment (or of the refund for refund events).
    provider_reference: str
    # None when the provider does not echo it (YooKassa refunds); the core
    # then finds the order through ``payment_reference``.
    order_reference: str | None
    amount: Money
    occurred_at: datetime
    raw: Mapping[str, Any] = field(default_factory=dict)
    # For refunds: the payment refunded.  For payments: same as provider_reference.
    payment_reference: str | None = None
    event_id: str | None = None  # provider's notification id (Stripe evt_...)
    # True when ``amount`` is the total refunded so far rather than this
    # refund alone (Stripe charge.refunded without an expanded refund list).
    cumulative: bool = False


@dataclass(frozen=True)
class Acknowledgement:
    """The HTTP answer the core must send back to the provider verbatim."""

    status: int = 200
    content_type: str = "text/plain; charset=utf-8"
    body: bytes = b""


@dataclass(frozen=True)
class RefundRequest:
    provider_reference: str  # the payment's provider_reference
    amount: Money  # always explicit; full refund = the captured amount
    order_reference: str
    idempotency_key: str
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    status: Literal["succeeded", "pending", "failed"]
    provider_reference: str  # the refund's id at the provider
    amount: Money
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    refund_full: bool = False
    refund_partial: bool = False
    currencies: frozenset[str] | None = None  # None: any currency
    notifications: bool = False
    offline: bool = False

    def accepts(self, currency: str) -> bool:
        return self.currencies is None or currency in self.currencies
