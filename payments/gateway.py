"""The abstract base every payment gateway implements.

A gateway instance is shared by all stores and threads: it keeps no per-store
state.  Each call receives the store's (decrypted) settings as ``config``.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from payments.config import ConfigField, validate_config
from payments.errors import (
    ConfigurationError,
    NotSupported,
    PaymentError,
    ProviderError,
    VerificationError,
)
from payments.http import HttpClient, UrllibHttpClient
from payments.interfaces import (
    Acknowledgement,
    Capabilities,
    GatewayEvent,
    IncomingNotification,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundResult,
)


class Gateway(abc.ABC):
    name: ClassVar[str]  # the entry-point name, e.g. "robokassa"
    title: ClassVar[str]  # shown to store owners; English, marked with N_
    capabilities: ClassVar[Capabilities] = Capabilities()
    config_schema: ClassVar[tuple[ConfigField, ...]] = ()
    # An example or test gateway: never offered to store owners outside tests.
    example: ClassVar[bool] = False

    def __init__(self, http: HttpClient | None = None) -> None:
        self.http: HttpClient = http or UrllibHttpClient()

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Clean settings or raise ``ConfigError`` (field -> message)."""
        cleaned = validate_config(self.config_schema, config)
        self.check_config(cleaned)
        return cleaned

    def check_config(self, config: dict[str, Any]) -> None:
        """Hook for cross-field rules; raise ``ConfigError`` on failure."""
        return None

    @abc.abstractmethod
    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        """How to send the customer to pay (never marks anything paid)."""

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        """Authenticate and translate; raise ``VerificationError`` if not genuine.

        An empty list means "authentic but nothing to act on".
        """
        raise NotSupported(f"{self.name} sends no notifications")

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "text/plain; charset=utf-8", b"OK")

    def acknowledge_error(
        self, notification: IncomingNotification, error: Exception
    ) -> Acknowledgement:
        """Answer for a notification that failed; decides whether it retries.

        Forged or malformed: 400 (retrying will not help).  Our config or the
        provider's API broken: 503 so the provider delivers it again later.
        """
        status = error_status(error)
        body = json.dumps({"error": error_code(error)}).encode()
        return Acknowledgement(status, "application/json", body)

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        raise NotSupported(f"{self.name} cannot refund")

    def require_currency(self, currency: str) -> None:
        if not self.capabilities.accepts(currency):
            raise NotSupported(f"{self.name} does not accept {currency}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def error_status(error: Exception) -> int:
    if isinstance(error, (VerificationError, NotSupported)):
        return 400
    if isinstance(error, (ConfigurationError, ProviderError)):
        return 503
    return 500


def error_code(error: Exception) -> str:
    if isinstance(error, VerificationError):
        return "verification_failed"
    if isinstance(error, PaymentError):
        return type(error).__name__
    return "internal_error"
