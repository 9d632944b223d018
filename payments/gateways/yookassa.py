"""YooKassa (API v3): redirect confirmation, unsigned notifications.

Notifications carry no signature, so they are only a hint: the sender IP must
be in YooKassa's published ranges, and then the object is fetched again from
the API with our credentials; events come from that answer alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from payments.addresses import address_allowed, parse_networks
from payments.config import ConfigField
from payments.errors import ConfigError, ProviderError, VerificationError
from payments.gateway import Gateway
from payments.http import HttpResponse, basic_auth, join_url, parse_datetime
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
from payments.signing import require_secret

API_BASE = "https://api.yookassa.ru"
# https://yookassa.ru/developers/using-api/webhooks#ip
PUBLISHED_NETWORKS = (
    "185.71.76.0/27 185.71.77.0/27 77.75.153.0/25 77.75.156.11 "
    "77.75.156.35 77.75.154.128/25 2a02:5180::/32"
)
_OBJECT_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
_PAYMENT_KINDS = {
    "succeeded": EventKind.PAYMENT_SUCCEEDED,
    "pending": EventKind.PAYMENT_PENDING,
    "waiting_for_capture": EventKind.PAYMENT_PENDING,
}
# Cancellations YooKassa attributes to the customer or the shop rather than
# to a decline.
_CANCEL_REASONS = {"expired_on_confirmation", "canceled_by_merchant"}


def _money(amount: Mapping[str, Any]) -> Money:
    return Money.from_decimal(str(amount["value"]), str(amount["currency"]))


class YooKassaGateway(Gateway):
    name = "yookassa"
    title = N_("YooKassa")
    capabilities = Capabilities(
        refund_full=True,
        refund_partial=True,
        currencies=frozenset({"RUB"}),
        notifications=True,
    )
    config_schema = (
        ConfigField("shop_id", N_("Shop ID (shopId)"), required=True),
        ConfigField("secret_key", N_("Secret key"), kind="secret", required=True),
        ConfigField("api_base", N_("API base URL"), kind="url", default=API_BASE),
        ConfigField(
            "allowed_networks",
            N_("Notification sender networks"),
            default=PUBLISHED_NETWORKS,
            help=N_("CIDR list YooKassa sends notifications from."),
        ),
    )

    def check_config(self, config: dict[str, Any]) -> None:
        try:
            parse_networks(config["allowed_networks"])
        except ValueError as exc:
            raise ConfigError({"allowed_networks": f"Not a network list: {exc}"}) from None

    def _call(
        self,
        settings: dict[str, Any],
        method: str,
        path: str,
        payload: dict | None = None,
        idempotency_key: str | None = None,
        *,
        missing_is_forged: bool = False,
    ) -> dict[str, Any]:
        secret = require_secret(settings, "secret_key")
        headers = {
            "Authorization": basic_auth(settings["shop_id"], secret),
            "Accept": "application/json",
        }
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        if idempotency_key:
            headers["Idempotence-Key"] = idempotency_key
        url = join_url(settings["api_base"], path)
        response = self.http.request(method, url, headers=headers, body=body)
        if response.status == 404 and missing_is_forged:
            # The id in a notification is unknown to our shop: forged.
            raise VerificationError("YooKassa does not know this object")
        return _expect_ok(response)

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        self.require_currency(request.amount.currency)
        payload = {
            "amount": {"value": request.amount.format_plain(), "currency": request.amount.currency},
            "capture": True,
            "confirmation": {
                "type": "redirect",
                "return_url": request.return_url,
                "locale": "ru_RU" if request.locale.startswith("ru") else "en_US",
            },
            "description": request.description[:128],
            "metadata": {"order_reference": request.order_reference},
        }
        data = self._call(settings, "POST", "/v3/payments", payload, request.idempotency_key)
        try:
            return PaymentStart.redirect(
                data["confirmation"]["confirmation_url"], provider_reference=data["id"]
            )
        except (KeyError, TypeError):
            raise ProviderError("YooKassa payment has no confirmation URL") from None

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        require_secret(settings, "secret_key")
        if not address_allowed(notification.remote_addr, settings["allowed_networks"]):
            raise VerificationError(f"sender {notification.remote_addr!r} is not YooKassa")
        event, object_id = _notification_subject(notification)
        if event.startswith("refund."):
            refund = self._call(
                settings, "GET", f"/v3/refunds/{quote(object_id)}", missing_is_forged=True
            )
            return self._refund_events(refund, object_id)
        if event.startswith("payment."):
            payment = self._call(
                settings, "GET", f"/v3/payments/{quote(object_id)}", missing_is_forged=True
            )
            return self._payment_events(payment, object_id)
        return []

    def _payment_events(self, payment: dict[str, Any], object_id: str) -> list[GatewayEvent]:
        _same_object(payment, object_id)
        status = payment.get("status")
        kind = _PAYMENT_KINDS.get(status)
        if status == "canceled":
            reason = (payment.get("cancellation_details") or {}).get("reason")
            kind = (
                EventKind.PAYMENT_CANCELLED
                if reason in _CANCEL_REASONS
                else EventKind.PAYMENT_FAILED
            )
        if kind is None:
            return []
        return [
            self._event(
                kind,
                payment,
                object_id,
                object_id,
                (payment.get("metadata") or {}).get("order_reference"),
            )
        ]

    def _refund_events(self, refund: dict[str, Any], object_id: str) -> list[GatewayEvent]:
        _same_object(refund, object_id)
        if refund.get("status") != "succeeded":
            return []
        return [
            self._event(
                EventKind.REFUND_SUCCEEDED,
                refund,
                object_id,
                str(refund.get("payment_id", "")),
                None,
            )
        ]

    def _event(
        self,
        kind: EventKind,
        obj: dict[str, Any],
        reference: str,
        payment_reference: str,
        order_reference: str | None,
    ) -> GatewayEvent:
        try:
            amount = _money(obj["amount"])
            occurred = parse_datetime(obj.get("captured_at") or obj["created_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"unreadable YooKassa object: {exc}") from None
        return GatewayEvent(
            gateway=self.name,
            kind=kind,
            provider_reference=reference,
            payment_reference=payment_reference,
            order_reference=order_reference,
            amount=amount,
            occurred_at=occurred,
            raw=obj,
        )

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "text/plain; charset=utf-8", b"")

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        settings = self.validate_config(config)
        payload = {
            "payment_id": request.provider_reference,
            "amount": {"value": request.amount.format_plain(), "currency": request.amount.currency},
        }
        if request.reason:
            payload["description"] = request.reason[:250]
        data = self._call(settings, "POST", "/v3/refunds", payload, request.idempotency_key)
        status = {"succeeded": "succeeded", "canceled": "failed"}.get(data.get("status"), "pending")
        try:
            return RefundResult(status, str(data["id"]), _money(data["amount"]), raw=data)
        except (KeyError, TypeError, ValueError):
            raise ProviderError("unreadable YooKassa refund") from None


def _notification_subject(notification: IncomingNotification) -> tuple[str, str]:
    try:
        data = notification.json()
        event, object_id = str(data["event"]), str(data["object"]["id"])
    except (ValueError, KeyError, TypeError):
        raise VerificationError("malformed YooKassa notification") from None
    if not _OBJECT_ID.fullmatch(object_id):
        raise VerificationError("malformed YooKassa object id")
    return event, object_id


def _same_object(obj: dict[str, Any], object_id: str) -> None:
    if obj.get("id") != object_id:
        raise ProviderError("YooKassa answered about a different object")


def _expect_ok(response: HttpResponse) -> dict[str, Any]:
    if response.status != 200:
        raise ProviderError(f"YooKassa answered HTTP {response.status}", response.status)
    data = response.json()
    if not isinstance(data, dict):
        raise ProviderError("YooKassa answered with a non-object")
    return data
