"""Conformance profiles of the gateways shipped with the back office.

Each profile starts the local provider servers its gateway talks to and knows
how that provider signs a notification; the kit (payments.testing) and the
core's database-level checks build genuine, forged and tampered notifications
from it for any order. A new gateway adds its profile to ``PROFILES``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from payments.gateways import (
    bluesnap,
    cod,
    manual,
    paypal,
    robokassa,
    sandbox,
    skrill,
    stripe,
    twocheckout,
    yookassa,
)
from payments.money import Money
from payments.testing.profile import ConformanceProfile, Delivery
from tests.payments.conftest import PayPalPostback, StripeApi, YooKassaApi
from tests.payments.providers import BlueSnapApi, Captured, SkrillApi, TwoCheckoutApi

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


def now() -> datetime:
    return datetime.now(UTC)


class ManualProfile(ConformanceProfile):
    gateway_class = manual.ManualGateway

    def config(self):
        return {"instructions": "IBAN DE00 0000, reference {order_reference}, {amount}"}


class CodProfile(ConformanceProfile):
    gateway_class = cod.CashOnDeliveryGateway

    def config(self):
        return {}


class SandboxProfile(ConformanceProfile):
    gateway_class = sandbox.SandboxGateway
    secret = "sandbox-conformance-secret"

    def config(self):
        return {"page_url": "https://pay.test/sandbox", "secret": self.secret}

    def _checkout(self, order_reference, amount):
        return sandbox.SandboxCheckout(
            order_reference=order_reference,
            amount=amount.amount,
            currency=amount.currency,
            description="Order",
            return_url="https://shop.test/back",
            cancel_url="https://shop.test/cancel",
            notify_url="https://shop.test/notify",
            attempt=f"order-{order_reference}-sandbox-1",
            expires=int(now().timestamp()) + 3600,
        )

    def _signed(self, order_reference, amount, secret=None, when=None):
        checkout = self._checkout(order_reference, amount)
        body, headers = sandbox.build_notification(
            checkout, "succeeded", secret or self.secret, when or now()
        )
        return Delivery(body, headers)

    def paid(self, order_reference, amount):
        return self._signed(order_reference, amount)

    def forged(self, order_reference, amount):
        return self._signed(order_reference, amount, secret="not-the-store-secret")

    def tampered_amount(self, order_reference, amount, claimed):
        genuine = self.paid(order_reference, amount)
        body = genuine.body.replace(
            f'"amount": {amount.amount}'.encode(), f'"amount": {claimed.amount}'.encode()
        )
        assert body != genuine.body
        return Delivery(body, genuine.headers)

    def stale(self, order_reference, amount):
        return self._signed(order_reference, amount, when=now() - timedelta(hours=1))


class RobokassaProfile(ConformanceProfile):
    gateway_class = robokassa.RobokassaGateway
    currency = "RUB"

    def config(self):
        return {
            "merchant_login": "tea-shop",
            "password1": "robo-pass-one",
            "password2": "robo-pass-two",
        }

    def _result(self, order_reference, out_sum, password="robo-pass-two", signed_sum=None):
        sig = robokassa.signature("md5", signed_sum or out_sum, order_reference, password)
        params = {"OutSum": out_sum, "InvId": order_reference, "SignatureValue": sig.upper()}
        return Delivery(urlencode(params).encode(), FORM)

    def paid(self, order_reference, amount):
        return self._result(order_reference, amount.format_plain())

    def forged(self, order_reference, amount):
        return self._result(order_reference, amount.format_plain(), password="robo-pass-one")

    def tampered_amount(self, order_reference, amount, claimed):
        return self._result(
            order_reference, claimed.format_plain(), signed_sum=amount.format_plain()
        )


class YooKassaProfile(ConformanceProfile):
    gateway_class = yookassa.YooKassaGateway
    currency = "RUB"

    def __init__(self, serve):
        super().__init__(serve)
        self.api = YooKassaApi("123456", "yookassa-conformance-key")
        self.provider = serve(self.api)

    def config(self):
        return {
            "shop_id": "123456",
            "secret_key": "yookassa-conformance-key",
            "api_base": self.provider.base_url,
            "allowed_networks": "127.0.0.1/32 ::1/128",
        }

    def _notice(self, payment_id, amount):
        body = {
            "type": "notification",
            "event": "payment.succeeded",
            "object": {
                "id": payment_id,
                "status": "succeeded",
                "amount": {"value": amount.format_plain(), "currency": amount.currency},
            },
        }
        return Delivery(json.dumps(body).encode(), JSON)

    def paid(self, order_reference, amount):
        # One payment per order at the provider, as one checkout would create.
        payment_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"yookassa:{order_reference}"))
        self.api.payments[payment_id] = {
            "id": payment_id,
            "status": "succeeded",
            "paid": True,
            "amount": {"value": amount.format_plain(), "currency": amount.currency},
            "created_at": "2024-05-01T12:00:00.000Z",
            "captured_at": "2024-05-01T12:00:05.000Z",
            "metadata": {"order_reference": order_reference},
        }
        return self._notice(payment_id, amount)

    def forged(self, order_reference, amount):
        return self._notice(str(uuid.uuid4()), amount)  # unknown to the shop's API

    def tampered_amount(self, order_reference, amount, claimed):
        genuine = self.paid(order_reference, amount)
        return Delivery(
            genuine.body.replace(amount.format_plain().encode(), claimed.format_plain().encode()),
            JSON,
        )

    def refunded_at_provider(self, payment_reference):
        total = sum(
            int(Money.from_decimal(r["amount"]["value"], r["amount"]["currency"]).amount)
            for r in self.api.refunds.values()
            if r["payment_id"] == payment_reference
        )
        return Money(total, self.currency)


class PayPalProfile(ConformanceProfile):
    gateway_class = paypal.PayPalGateway

    def __init__(self, serve):
        super().__init__(serve)
        self.postback = PayPalPostback()
        self.provider = serve(self.postback)

    def config(self):
        return {
            "business_email": "shop@example.com",
            "postback_url": self.provider.base_url + "/cgi-bin/webscr",
        }

    def _ipn(self, order_reference, amount):
        return urlencode(
            {
                "txn_type": "web_accept",
                "payment_status": "Completed",
                "txn_id": f"TXN{order_reference}",
                "receiver_email": "shop@example.com",
                "mc_gross": amount.format_plain(),
                "mc_currency": amount.currency,
                "invoice": order_reference,
                "charset": "utf-8",
            }
        ).encode()

    def paid(self, order_reference, amount):
        body = self._ipn(order_reference, amount)
        self.postback.genuine.add(body)
        return Delivery(body, FORM)

    def forged(self, order_reference, amount):
        return Delivery(self._ipn(order_reference, amount), FORM)  # PayPal never sent it

    def tampered_amount(self, order_reference, amount, claimed):
        self.paid(order_reference, amount)
        return Delivery(self._ipn(order_reference, claimed), FORM)


class StripeProfile(ConformanceProfile):
    gateway_class = stripe.StripeGateway
    currency = "USD"  # what the local Stripe answers refunds in

    def __init__(self, serve):
        super().__init__(serve)
        self.api = StripeApi("sk_test_conformance")
        self.provider = serve(self.api)

    def config(self):
        return {
            "secret_key": "sk_test_conformance",
            "webhook_secret": "whsec_conformance",
            "api_base": self.provider.base_url,
        }

    def _event(self, order_reference, amount):
        intent = f"pi_{order_reference}"
        self.api.captured[intent] = amount.amount
        return {
            "id": f"evt_{order_reference}",
            "type": "payment_intent.succeeded",
            "created": int(now().timestamp()),
            "data": {
                "object": {
                    "id": intent,
                    "amount": amount.amount,
                    "amount_received": amount.amount,
                    "currency": amount.currency.lower(),
                    "metadata": {"order_reference": order_reference},
                }
            },
        }

    def _signed(self, event, secret="whsec_conformance", when=None):
        body = json.dumps(event).encode()
        stamp = int((when or now()).timestamp())
        header = stripe.sign_payload(body, secret, stamp)
        return Delivery(body, {**JSON, "Stripe-Signature": header})

    def paid(self, order_reference, amount):
        return self._signed(self._event(order_reference, amount))

    def forged(self, order_reference, amount):
        return self._signed(self._event(order_reference, amount), secret="whsec_other")

    def tampered_amount(self, order_reference, amount, claimed):
        genuine = self.paid(order_reference, amount)
        body = genuine.body.replace(
            f'"amount_received": {amount.amount}'.encode(),
            f'"amount_received": {claimed.amount}'.encode(),
        )
        return Delivery(body, genuine.headers)

    def stale(self, order_reference, amount):
        return self._signed(self._event(order_reference, amount), when=now() - timedelta(hours=1))

    def refunded_at_provider(self, payment_reference):
        return Money(self.api.refunded.get(payment_reference, 0), self.currency)


class SkrillProfile(ConformanceProfile):
    gateway_class = skrill.SkrillGateway
    secret = "skrill-secret-word"

    def __init__(self, serve):
        super().__init__(serve)
        self.api = SkrillApi("shop@example.com", "skrill-mqi-pass")
        self.provider = serve(self.api)

    def config(self):
        return {
            "pay_to_email": "shop@example.com",
            "merchant_id": "9876543",
            "secret_word": self.secret,
            "api_password": "skrill-mqi-pass",
            "refund_url": self.provider.base_url + "/app/refund.pl",
        }

    def status(self, order_reference, amount, *, status="2", secret=None, sent=None):
        """The status_url post Skrill sends; *sent* replaces mb_amount after signing."""
        payment = f"mb{order_reference}"
        self.api.payments.setdefault(payment, Captured(amount.amount, amount.currency))
        params = {
            "pay_to_email": "shop@example.com",
            "pay_from_email": "buyer@example.com",
            "merchant_id": "9876543",
            "customer_id": "1234567",
            "transaction_id": order_reference,
            "mb_transaction_id": payment,
            "mb_amount": amount.format_plain(),
            "mb_currency": amount.currency,
            "status": status,
            "amount": amount.format_plain(),
            "currency": amount.currency,
            "payment_type": "WLT",
        }
        params["md5sig"] = skrill.md5sig(params, secret or self.secret)
        params["sha2sig"] = skrill.sha2sig(params, secret or self.secret)
        if sent is not None:
            params["mb_amount"] = sent.format_plain()
        return Delivery(urlencode(params).encode(), FORM)

    def paid(self, order_reference, amount):
        return self.status(order_reference, amount)

    def forged(self, order_reference, amount):
        return self.status(order_reference, amount, secret="guessed-word")

    def tampered_amount(self, order_reference, amount, claimed):
        return self.status(order_reference, amount, sent=claimed)

    def refunded_at_provider(self, payment_reference):
        payment = self.api.payments[payment_reference]
        return Money(payment.refunded, payment.currency)


class TwoCheckoutProfile(ConformanceProfile):
    gateway_class = twocheckout.TwoCheckoutGateway
    key = "2co-secret-key"

    def __init__(self, serve):
        super().__init__(serve)
        self.api = TwoCheckoutApi("MERCH1", self.key)
        self.provider = serve(self.api)

    def config(self):
        return {
            "merchant_code": "MERCH1",
            "secret_key": self.key,
            "buy_link_secret": "2co-buy-link-word",
            "api_base": self.provider.base_url,
        }

    def ipn(self, order_reference, amount, *, status="COMPLETE", key=None, sent=None, algo="md5"):
        """An IPN as 2Checkout posts it; *sent* replaces the total after signing."""
        refno = f"7{int(order_reference):08d}"
        self.api.orders.setdefault(refno, Captured(amount.amount, amount.currency))
        pairs = [
            ("SALEDATE", "2024-05-01 12:00:00"),
            ("REFNO", refno),
            ("REFNOEXT", order_reference),
            ("ORDERSTATUS", status),
            ("CUSTOMEREMAIL", "buyer@example.com"),
            ("IPN_PID[]", "1"),
            ("IPN_PNAME[]", "Order № " + order_reference),
            ("IPN_PID[]", "2"),
            ("IPN_PNAME[]", "Shipping"),
            ("IPN_TOTALGENERAL", amount.format_plain()),
            ("CURRENCY", amount.currency),
            ("IPN_DATE", "20240501120000"),
        ]
        digest = twocheckout.ipn_signature(algo, key or self.key, pairs)
        pairs.append(("HASH" if algo == "md5" else "SIGNATURE_SHA2_256", digest))
        if sent is not None:
            pairs = [(k, sent.format_plain() if k == "IPN_TOTALGENERAL" else v) for k, v in pairs]
        return Delivery(urlencode(pairs).encode(), FORM)

    def paid(self, order_reference, amount):
        return self.ipn(order_reference, amount)

    def forged(self, order_reference, amount):
        return self.ipn(order_reference, amount, key="guessed-key")

    def tampered_amount(self, order_reference, amount, claimed):
        return self.ipn(order_reference, amount, sent=claimed)

    def refunded_at_provider(self, payment_reference):
        order = self.api.orders[payment_reference]
        return Money(order.refunded, order.currency)


class BlueSnapProfile(ConformanceProfile):
    gateway_class = bluesnap.BlueSnapGateway

    def __init__(self, serve):
        super().__init__(serve)
        self.api = BlueSnapApi("bs-api-user", "bs-api-password")
        self.provider = serve(self.api)

    def config(self):
        return {
            "api_username": "bs-api-user",
            "api_password": "bs-api-password",
            "environment": "sandbox",
            "allowed_networks": "127.0.0.1 ::1",
            "api_base": self.provider.base_url,
            "checkout_url": "https://sandpay.bluesnap.com/checkout",
        }

    def ipn(self, order_reference, amount, kind="CHARGE", reference=None, sent=None):
        reference = reference or f"10{int(order_reference):08d}"
        fields = {
            "transactionType": kind,
            "referenceNumber": reference,
            "merchantTransactionId": order_reference,
            "invoiceChargeAmount": (sent or amount).format_plain(),
            "invoiceChargeCurrency": amount.currency,
        }
        return Delivery(urlencode(fields).encode(), FORM)

    def paid(self, order_reference, amount):
        reference = f"10{int(order_reference):08d}"
        self.api.add(reference, amount.format_plain(), amount.currency, order_reference)
        return self.ipn(order_reference, amount)

    def forged(self, order_reference, amount):
        return self.ipn(order_reference, amount, reference="99999999")  # unknown to BlueSnap

    def tampered_amount(self, order_reference, amount, claimed):
        self.paid(order_reference, amount)
        return self.ipn(order_reference, amount, sent=claimed)

    def refunded_at_provider(self, payment_reference):
        currency = self.api.transactions[payment_reference]["currency"]
        return Money(self.api.refunded(payment_reference), currency)


PROFILES: dict[str, type[ConformanceProfile]] = {
    "manual": ManualProfile,
    "cod": CodProfile,
    "sandbox": SandboxProfile,
    "robokassa": RobokassaProfile,
    "yookassa": YooKassaProfile,
    "paypal": PayPalProfile,
    "stripe": StripeProfile,
    "skrill": SkrillProfile,
    "twocheckout": TwoCheckoutProfile,
    "bluesnap": BlueSnapProfile,
}
