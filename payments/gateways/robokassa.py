"""Robokassa: signed form to the hosted page, signed ResultURL callback.

Signatures (H = MD5, SHA256 or SHA512, chosen in the Robokassa cabinet):
start ``H(MerchantLogin:OutSum:InvId:Password1[:Shp_k=v...])``, ResultURL
``H(OutSum:InvId:Password2[:Shp_k=v...])`` with Shp params sorted by key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from payments.config import ConfigField
from payments.errors import ConfigError, NotSupported, VerificationError
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
from payments.signing import digests_equal, require_secret

PAYMENT_URL = "https://auth.robokassa.ru/Merchant/Index.aspx"
ALGORITHMS = ("md5", "sha256", "sha512")
MAX_INV_ID = 2**31 - 1


def signature(algorithm: str, *parts: str, shp: Mapping[str, str] | None = None) -> str:
    """Hex digest of the colon-joined parts plus sorted ``key=value`` Shp params.

    Values are used verbatim (never re-formatted): Robokassa signs the exact
    strings it sends, e.g. OutSum "500.000000".
    """
    pieces = list(parts) + [f"{k}={v}" for k, v in sorted((shp or {}).items())]
    return hashlib.new(algorithm, ":".join(pieces).encode("utf-8")).hexdigest()


def shp_params(params: Mapping[str, str]) -> dict[str, str]:
    # Robokassa accepts Shp_/shp_/SHP_ and also bare "shp" prefixes.
    return {k: v for k, v in params.items() if k.lower().startswith("shp")}


class RobokassaGateway(Gateway):
    name = "robokassa"
    title = N_("Robokassa")
    capabilities = Capabilities(currencies=frozenset({"RUB"}), notifications=True)
    config_schema = (
        ConfigField("merchant_login", N_("Shop identifier (MerchantLogin)"), required=True),
        ConfigField("password1", N_("Password #1"), kind="secret", required=True),
        ConfigField("password2", N_("Password #2"), kind="secret", required=True),
        ConfigField(
            "hash_algorithm",
            N_("Hash algorithm"),
            kind="choice",
            choices=ALGORITHMS,
            default="md5",
            help=N_("Must match the setting in the Robokassa cabinet."),
        ),
        ConfigField("test_mode", N_("Test mode"), kind="bool", default=False),
        ConfigField("test_password1", N_("Test password #1"), kind="secret"),
        ConfigField("test_password2", N_("Test password #2"), kind="secret"),
        ConfigField("payment_url", N_("Payment page URL"), kind="url", default=PAYMENT_URL),
    )

    def check_config(self, config: dict[str, Any]) -> None:
        if config["test_mode"]:
            missing = [n for n in ("test_password1", "test_password2") if not config[n]]
            if missing:
                raise ConfigError(dict.fromkeys(missing, N_("Required in test mode.")))

    def _password(self, settings: dict[str, Any], number: int) -> str:
        prefix = "test_" if settings["test_mode"] else ""
        return require_secret(settings, f"{prefix}password{number}")

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        self.require_currency(request.amount.currency)
        inv_id = _inv_id(request.order_reference)
        out_sum = request.amount.format_plain()
        login = settings["merchant_login"]
        sig = signature(
            settings["hash_algorithm"], login, out_sum, inv_id, self._password(settings, 1)
        )
        fields = [
            ("MerchantLogin", login),
            ("OutSum", out_sum),
            ("InvId", inv_id),
            ("Description", request.description[:100]),
            ("SignatureValue", sig),
            ("Culture", "ru" if request.locale.startswith("ru") else "en"),
            ("Encoding", "utf-8"),
        ]
        if request.customer_email:
            fields.append(("Email", request.customer_email))
        if settings["test_mode"]:
            fields.append(("IsTest", "1"))
        return PaymentStart.form(settings["payment_url"], fields)

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        password2 = self._password(settings, 2)
        params = notification.params()
        try:
            out_sum, inv_id, received = (
                params["OutSum"],
                params["InvId"],
                params["SignatureValue"],
            )
        except KeyError as exc:
            raise VerificationError(f"missing Robokassa parameter {exc}") from None
        expected = signature(
            settings["hash_algorithm"], out_sum, inv_id, password2, shp=shp_params(params)
        )
        if not digests_equal(expected, received, ignore_case=True):
            raise VerificationError("bad Robokassa signature")
        return [self._event(params, out_sum, inv_id, notification)]

    def _event(
        self,
        params: dict[str, str],
        out_sum: str,
        inv_id: str,
        notification: IncomingNotification,
    ) -> GatewayEvent:
        try:
            amount = Money.from_decimal(out_sum, "RUB")
        except (ValueError, TypeError):
            raise VerificationError(f"unreadable OutSum {out_sum!r}") from None
        # ResultURL is only called for successful payments.
        return GatewayEvent(
            gateway=self.name,
            kind=EventKind.PAYMENT_SUCCEEDED,
            provider_reference=inv_id,
            payment_reference=inv_id,
            order_reference=inv_id,
            amount=amount,
            occurred_at=notification.received_at.astimezone(UTC),
            raw=params,
        )

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        inv_id = events[0].provider_reference if events else ""
        return Acknowledgement(200, "text/plain; charset=utf-8", f"OK{inv_id}".encode())

    def acknowledge_error(
        self, notification: IncomingNotification, error: Exception
    ) -> Acknowledgement:
        base = super().acknowledge_error(notification, error)
        # Anything but "OK{InvId}" makes Robokassa retry; say why in plain text.
        return Acknowledgement(base.status, "text/plain; charset=utf-8", b"bad sign")


def _inv_id(order_reference: str) -> str:
    # Robokassa's InvId is a positive 32-bit integer; the core must use
    # numeric order references for this gateway.
    if not order_reference.isascii() or not order_reference.isdigit():
        raise NotSupported("Robokassa needs a numeric order reference (InvId)")
    if not 0 < int(order_reference) <= MAX_INV_ID:
        raise NotSupported("Robokassa InvId must be between 1 and 2147483647")
    return str(int(order_reference))
