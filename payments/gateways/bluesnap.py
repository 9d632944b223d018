"""BlueSnap: Hosted Checkout page, IPN checked by sender address and the API.

IPNs are form-encoded and unsigned (the optional ``authkey`` is not relied
upon): the sender must be one of BlueSnap's published addresses, and the
transaction is then fetched again from the Payment API with our credentials;
amounts, currency, order and status come from that answer only. The listener
answers an empty 200. Refunds go through the Payment API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from payments.addresses import address_allowed, parse_networks
from payments.config import ConfigField
from payments.errors import ConfigError, ProviderError, VerificationError
from payments.gateway import Gateway
from payments.http import basic_auth, join_url
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

# https://support.bluesnap.com/docs/ipn-setup
ENVIRONMENTS = {
    "production": {
        "api_base": "https://ws.bluesnap.com",
        "checkout_url": "https://checkout.bluesnap.com/checkout",
        "networks": "209.128.93.254 209.128.93.98 141.226.140.100 141.226.141.100 "
        "141.226.142.100 141.226.143.100",
    },
    "sandbox": {
        "api_base": "https://sandbox.bluesnap.com",
        "checkout_url": "https://sandpay.bluesnap.com/checkout",
        "networks": "209.128.93.232 141.226.140.200 141.226.141.200 141.226.142.200 "
        "141.226.143.200",
    },
}
_PAYMENT_IPNS = {"CHARGE", "DECLINE", "CC_CHARGE_FAILED"}
_REFUND_IPNS = {"REFUND", "CANCELLATION_REFUND"}
_PROCESSING = {
    "success": EventKind.PAYMENT_SUCCEEDED,
    "pending": EventKind.PAYMENT_PENDING,
    "fail": EventKind.PAYMENT_FAILED,
}
_REFUND_STATUS = {"SUCCESS": "succeeded", "PENDING": "pending", "FAILED": "failed"}


def _money(amount: Any, currency: Any) -> Money:
    return Money.from_decimal(
        amount if isinstance(amount, (Decimal, int)) else str(amount), str(currency)
    )


class BlueSnapGateway(Gateway):
    name = "bluesnap"
    title = N_("BlueSnap")
    capabilities = Capabilities(refund_full=True, refund_partial=True, notifications=True)
    config_schema = (
        ConfigField("api_username", N_("API username"), required=True),
        ConfigField("api_password", N_("API password"), kind="secret", required=True),
        ConfigField(
            "environment",
            N_("Environment"),
            kind="choice",
            choices=tuple(ENVIRONMENTS),
            default="production",
        ),
        ConfigField(
            "allowed_networks",
            N_("Notification sender addresses"),
            help=N_("Empty: the addresses BlueSnap publishes for the environment."),
        ),
        ConfigField("api_base", N_("API base URL"), kind="url", help=N_("Empty: by environment.")),
        ConfigField(
            "checkout_url", N_("Checkout page URL"), kind="url", help=N_("Empty: by environment.")
        ),
    )

    def check_config(self, config: dict[str, Any]) -> None:
        try:
            parse_networks(self._networks(config))
        except ValueError as exc:
            raise ConfigError({"allowed_networks": f"Not an address list: {exc}"}) from None

    def _setting(self, settings: dict[str, Any], name: str) -> str:
        return settings.get(name) or ENVIRONMENTS[settings["environment"]][name]

    def _networks(self, settings: dict[str, Any]) -> str:
        return settings.get("allowed_networks") or ENVIRONMENTS[settings["environment"]]["networks"]

    def _call(
        self, settings: dict[str, Any], method: str, path: str, payload=None, key: str = ""
    ) -> tuple[int, Any]:
        password = require_secret(settings, "api_password")
        headers = {
            "Authorization": basic_auth(settings["api_username"], password),
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if key:
            headers["Idempotency-Key"] = key
        body = json.dumps(payload).encode() if payload is not None else None
        url = join_url(self._setting(settings, "api_base"), path)
        response = self.http.request(method, url, headers=headers, body=body)
        try:
            data = json.loads(response.body, parse_float=Decimal) if response.body else {}
        except ValueError:
            raise ProviderError(
                f"BlueSnap answered HTTP {response.status}", response.status
            ) from None
        return response.status, data

    def start_payment(self, request: PaymentRequest, config: Mapping[str, Any]) -> PaymentStart:
        settings = self.validate_config(config)
        payload = {
            "mode": "one_time",
            "amount": request.amount.format_plain(),
            "currency": request.amount.currency,
            "merchantTransactionId": request.order_reference,
            "successUrl": request.return_url,
            "cancelUrl": request.cancel_url,
        }
        status, data = self._call(
            settings, "POST", "/services/2/bn3-services/jwt", payload, request.idempotency_key
        )
        if status not in (200, 201) or not isinstance(data, dict) or not data.get("jwt"):
            raise ProviderError(f"BlueSnap checkout not created: {_error(data, status)}", status)
        url = f"{self._setting(settings, 'checkout_url')}?{urlencode({'jwt': data['jwt']})}"
        return PaymentStart.redirect(url)

    def verify_notification(
        self, notification: IncomingNotification, config: Mapping[str, Any]
    ) -> list[GatewayEvent]:
        settings = self.validate_config(config)
        require_secret(settings, "api_password")
        if not address_allowed(notification.remote_addr, self._networks(settings)):
            raise VerificationError(f"sender {notification.remote_addr!r} is not BlueSnap")
        params = notification.form if notification.method == "POST" else {}
        kind = (params.get("transactionType") or [""])[0]
        reference = (params.get("referenceNumber") or [""])[0]
        if not kind or not reference.isdigit():
            raise VerificationError("malformed BlueSnap IPN")
        if kind not in _PAYMENT_IPNS | _REFUND_IPNS:
            return []  # authentic sender, an IPN we do not act on
        status, data = self._call(
            settings, "GET", f"/services/2/transactions/{quote(reference, safe='')}"
        )
        if status == 404:
            raise VerificationError("BlueSnap does not know this transaction")
        if status != 200 or not isinstance(data, dict):
            raise ProviderError(f"BlueSnap answered HTTP {status}", status)
        if str(data.get("transactionId")) != reference:
            raise ProviderError("BlueSnap answered about another transaction")
        try:
            if kind in _REFUND_IPNS:
                return self._refund_events(data, reference, notification)
            return [self._payment_event(data, reference, notification)]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"unreadable BlueSnap transaction: {exc}") from None

    def _payment_event(self, data: dict, reference: str, notification) -> GatewayEvent:
        processing = str((data.get("processingInfo") or {}).get("processingStatus", "")).lower()
        return GatewayEvent(
            gateway=self.name,
            kind=_PROCESSING.get(processing, EventKind.PAYMENT_FAILED),
            provider_reference=reference,
            payment_reference=reference,
            order_reference=data.get("merchantTransactionId") or None,
            amount=_money(data["amount"], data["currency"]),
            occurred_at=notification.received_at,
            raw={"transactionId": reference, "processingStatus": processing},
        )

    def _refund_events(self, data: dict, reference: str, notification) -> list[GatewayEvent]:
        # Every refund BlueSnap lists for the payment; ones already booked are
        # duplicates for the core, so the refund id in the IPN is not needed.
        refunds = (data.get("refunds") or {}).get("refund") or []
        return [
            GatewayEvent(
                gateway=self.name,
                kind=EventKind.REFUND_SUCCEEDED,
                provider_reference=str(item["refundTransactionId"]),
                payment_reference=reference,
                order_reference=data.get("merchantTransactionId") or None,
                amount=_money(item["amount"], data["currency"]),
                occurred_at=notification.received_at,
                raw={"refundTransactionId": str(item["refundTransactionId"])},
            )
            for item in refunds
        ]

    def acknowledge(
        self, notification: IncomingNotification, events: list[GatewayEvent]
    ) -> Acknowledgement:
        return Acknowledgement(200, "text/plain; charset=utf-8", b"")

    def refund(self, request: RefundRequest, config: Mapping[str, Any]) -> RefundResult:
        settings = self.validate_config(config)
        path = f"/services/2/transactions/refund/{quote(request.provider_reference, safe='')}"
        payload = {"amount": request.amount.format_plain(), "reason": request.reason or "refund"}
        status, data = self._call(settings, "POST", path, payload, request.idempotency_key)
        if status not in (200, 201) or not isinstance(data, dict):
            raise ProviderError(f"BlueSnap refused the refund: {_error(data, status)}", status)
        try:
            reference = str(data["refundTransactionId"])
            amount = _money(
                data.get("amount", request.amount.to_decimal()), request.amount.currency
            )
        except (KeyError, TypeError, ValueError):
            raise ProviderError("unreadable BlueSnap refund") from None
        result = _REFUND_STATUS.get(str(data.get("refundStatus", "")).upper(), "pending")
        return RefundResult(
            result, reference, amount, raw={"refundStatus": data.get("refundStatus")}
        )


def _error(data: Any, status: int) -> str:
    if isinstance(data, dict):
        messages = data.get("message") or []
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("code") or messages[0].get("description"))
    return f"HTTP {status}"
