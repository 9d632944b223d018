"""Exceptions raised by the payments package.

The core maps them to HTTP answers through ``Gateway.acknowledge_error``; it
never needs to inspect provider-specific details.
"""


class PaymentError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(PaymentError):
    """The store's gateway settings are missing or unusable.

    Raised *before* any verification is attempted, so a store without a
    secret never accepts a notification (fail closed).
    """


class ConfigError(ConfigurationError):
    """Settings failed validation; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        detail = "; ".join(f"{name}: {msg}" for name, msg in sorted(errors.items()))
        super().__init__(f"invalid gateway settings: {detail}")


class VerificationError(PaymentError):
    """A notification is not authentic, is stale, or cannot be understood."""


class NotSupported(PaymentError):
    """The gateway does not offer this operation (e.g. refunds for COD)."""


class ProviderError(PaymentError):
    """The provider could not be reached or answered unexpectedly.

    Transient by nature: the core should answer the provider with a 5xx so it
    retries, or retry a refund later.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UnknownGateway(PaymentError, LookupError):
    """No gateway is registered under the requested name."""


class GatewayLoadError(PaymentError):
    """A gateway entry point exists but could not be loaded."""
