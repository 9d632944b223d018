"""What a gateway tells the conformance kit about itself.

A profile is written once per gateway, next to its tests. It owns the local
provider servers the gateway talks to (started through the ``serve`` callable
the kit hands it) and knows how the provider signs a notification, so the kit
can build genuine, forged and tampered ones for any order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from payments.config import secret_fields
from payments.gateway import Gateway
from payments.interfaces import IncomingNotification
from payments.money import Money
from payments.testing.provider import App, LocalProvider

Serve = Callable[[App], LocalProvider]


@dataclass(frozen=True)
class Delivery:
    """One HTTP request exactly as the provider would send it to the notify URL."""

    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    query_string: str = ""
    remote_addr: str = "127.0.0.1"

    def incoming(self, received_at: datetime | None = None) -> IncomingNotification:
        return IncomingNotification.from_http(
            self.method,
            dict(self.headers),
            self.body,
            query_string=self.query_string,
            remote_addr=self.remote_addr,
            received_at=received_at or datetime.now(UTC),
        )


class ConformanceProfile:
    """Override what applies; ``None`` from an optional builder skips that check.

    ``gateway_class``, ``config`` and - for gateways that receive notifications -
    ``paid`` and ``forged`` are required. Amounts use ``currency``, which the
    gateway must accept.
    """

    gateway_class: type[Gateway]
    currency: str = "EUR"

    def __init__(self, serve: Serve) -> None:
        self.serve = serve

    # --- the store's settings --------------------------------------------------

    def gateway(self) -> Gateway:
        return self.gateway_class()

    def config(self) -> dict[str, Any]:
        """Complete settings of a store, secrets included, pointing at local servers."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line, an error or an answer."""
        schema = self.gateway_class.config_schema
        hidden = secret_fields(schema)
        return [str(v) for k, v in self.config().items() if k in hidden and v]

    # --- notifications -----------------------------------------------------------

    def paid(self, order_reference: str, amount: Money) -> Delivery:
        """A genuine "this order is paid" notification; the payment also exists at
        the local provider (re-fetch gateways look it up, refunds refund it)."""
        raise NotImplementedError

    def forged(self, order_reference: str, amount: Money) -> Delivery:
        """Looks like ``paid`` but is not authentic (wrong key, unknown to the
        provider, wrong sender...)."""
        raise NotImplementedError

    def tampered_amount(
        self, order_reference: str, amount: Money, claimed: Money
    ) -> Delivery | None:
        """A genuine notification for *amount* whose amount was then changed to
        *claimed* in transit. ``None`` when the notification carries no amount."""
        return None

    def stale(self, order_reference: str, amount: Money) -> Delivery | None:
        """A genuine notification replayed outside the gateway's time tolerance;
        ``None`` when the protocol has no timestamp (then the core's dedup on
        ``(gateway, provider_reference, kind)`` is what stops a replay)."""
        return None

    # --- refunds -----------------------------------------------------------------

    def refunded_at_provider(self, payment_reference: str) -> Money | None:
        """What the local provider has refunded of a payment (refund checks)."""
        return None
