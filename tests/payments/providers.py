"""Local stand-ins for Skrill, 2Checkout and BlueSnap (real HTTP on 127.0.0.1).

Each speaks enough of its provider's protocol for the gateway, including the
error answers: a wrong password, an unknown payment, too much refunded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from payments.testing.provider import Recorded, Reply, json_reply, text_reply

_ids = itertools.count(900000001)


def xml_reply(http_status: int, **fields: str) -> Reply:
    inner = "".join(
        f"<{k}>{v if k == 'error' else escape(str(v))}</{k}>" for k, v in fields.items()
    )
    return text_reply(
        http_status,
        f'<?xml version="1.0" encoding="UTF-8"?><response>{inner}</response>',
        "text/xml",
    )


@dataclass
class Captured:
    amount: int  # minor units
    currency: str
    refunded: int = 0


# --- Skrill refund API (refund.pl: prepare, then refund) ----------------------------


@dataclass
class SkrillApi:
    email: str
    password: str  # the API/MQI password; Skrill receives its MD5
    payments: dict[str, Captured] = field(default_factory=dict)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    def __call__(self, req: Recorded) -> Reply:
        form = req.form()
        if form.get("action") == "prepare":
            return self._prepare(form)
        if form.get("action") == "refund":
            return self._refund(form)
        return xml_reply(400, error="UNKNOWN_ACTION")

    def _prepare(self, form: dict[str, str]) -> Reply:
        digest = hashlib.md5(self.password.encode()).hexdigest()
        if form.get("email") != self.email or form.get("password") != digest:
            return xml_reply(200, error="<error_msg>LOGIN_INVALID</error_msg>")
        if form.get("mb_transaction_id") not in self.payments:
            return xml_reply(200, error="<error_msg>TRANSACTION_NOT_FOUND</error_msg>")
        sid = f"sid{len(self.sessions) + 1}"
        self.sessions[sid] = form
        return xml_reply(200, sid=sid)

    def _refund(self, form: dict[str, str]) -> Reply:
        prepared = self.sessions.pop(form.get("sid", ""), None)
        if prepared is None:
            return xml_reply(200, error="<error_msg>SESSION_EXPIRED</error_msg>")
        payment = self.payments[prepared["mb_transaction_id"]]
        cents = round(float(prepared["amount"]) * 100)  # test amounts only
        if payment.refunded + cents > payment.amount:
            return xml_reply(200, error="<error_msg>REFUND_AMOUNT_EXCEEDS</error_msg>")
        payment.refunded += cents
        return xml_reply(
            200,
            mb_amount=prepared["amount"],
            mb_currency=payment.currency,
            mb_transaction_id=str(next(_ids)),
            status="2",
        )


# --- 2Checkout REST API 6.0 (refunds) --------------------------------------------------


@dataclass
class TwoCheckoutApi:
    merchant_code: str
    secret_key: str
    orders: dict[str, Captured] = field(default_factory=dict)

    def __call__(self, req: Recorded) -> Reply:
        if not self._authentic(req.headers.get("X-Avangate-Authentication", "")):
            return json_reply(401, {"error_code": "AUTHENTICATION_ERROR", "message": "bad hash"})
        parts = req.path.strip("/").split("/")  # rest/6.0/orders/<refno>/refund
        if (
            req.method != "POST"
            or parts[:3] != ["rest", "6.0", "orders"]
            or parts[4:] != ["refund"]
        ):
            return json_reply(404, {"error_code": "NOT_FOUND"})
        order = self.orders.get(parts[3])
        if order is None:
            return json_reply(404, {"error_code": "ORDER_NOT_FOUND", "message": "no such order"})
        if order.refunded:
            return json_reply(400, {"error_code": "ORDER_ALREADY_REFUNDED"})
        cents = round(float(req.json()["amount"]) * 100)  # test amounts only
        if cents != order.amount:
            return json_reply(400, {"error_code": "INVALID_AMOUNT"})
        order.refunded = cents
        return 200, {"Content-Type": "application/json"}, b"true"

    def _authentic(self, header: str) -> bool:
        fields = dict(item.strip().split("=", 1) for item in header.split('" ') if "=" in item)
        fields = {k: v.strip('"') for k, v in fields.items()}
        code, date = fields.get("code", ""), fields.get("date", "")
        base = f"{len(code)}{code}{len(date)}{date}".encode()
        expected = hmac.new(self.secret_key.encode(), base, hashlib.sha256).hexdigest()
        return code == self.merchant_code and hmac.compare_digest(expected, fields.get("hash", ""))


# --- BlueSnap Payment API ---------------------------------------------------------------


@dataclass
class BlueSnapApi:
    username: str
    password: str
    transactions: dict[str, dict] = field(default_factory=dict)
    by_key: dict[str, Reply] = field(default_factory=dict)

    def __call__(self, req: Recorded) -> Reply:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if req.headers.get("Authorization") != f"Basic {token}":
            return json_reply(401, {"message": [{"code": "10001", "description": "Unauthorized"}]})
        key = req.headers.get("Idempotency-Key")
        if req.method == "POST" and key in self.by_key:
            return self.by_key[key]
        reply = self._route(req)
        if req.method == "POST" and key:
            self.by_key[key] = reply
        return reply

    def _route(self, req: Recorded) -> Reply:
        path = req.path.split("?")[0]
        if req.method == "POST" and path == "/services/2/bn3-services/jwt":
            return json_reply(200, {"jwt": f"jwt-{req.json()['merchantTransactionId']}"})
        if req.method == "GET" and path.startswith("/services/2/transactions/"):
            found = self.transactions.get(path.rsplit("/", 1)[1])
            if found is None:
                return json_reply(404, {"message": [{"code": "20008", "description": "not found"}]})
            return json_reply(200, found)
        if req.method == "POST" and path.startswith("/services/2/transactions/refund/"):
            return self._refund(path.rsplit("/", 1)[1], req.json())
        return json_reply(404, {"message": [{"code": "404"}]})

    def add(self, transaction_id: str, amount: str, currency: str, order: str, status="success"):
        self.transactions[transaction_id] = {
            "transactionId": int(transaction_id),
            "amount": float(amount),  # BlueSnap sends JSON numbers
            "currency": currency,
            "merchantTransactionId": order,
            "cardTransactionType": "AUTH_CAPTURE",
            "processingInfo": {"processingStatus": status},
        }

    def refunded(self, transaction_id: str) -> int:
        refunds = self.transactions[transaction_id].get("refunds", {}).get("refund", [])
        return sum(round(r["amount"] * 100) for r in refunds)

    def _refund(self, transaction_id: str, payload: dict) -> Reply:
        found = self.transactions.get(transaction_id)
        if found is None:
            return json_reply(400, {"message": [{"code": "14016", "description": "no such"}]})
        cents = round(float(payload["amount"]) * 100)
        if self.refunded(transaction_id) + cents > round(found["amount"] * 100):
            return json_reply(400, {"message": [{"code": "14015", "description": "too much"}]})
        refund = {"refundTransactionId": next(_ids), "amount": float(payload["amount"])}
        found.setdefault("refunds", {"refund": []})["refund"].append(refund)
        return json_reply(200, {**refund, "currency": found["currency"], "refundStatus": "SUCCESS"})
