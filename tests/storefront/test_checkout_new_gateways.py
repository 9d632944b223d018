"""Skrill, 2Checkout and BlueSnap through the hosted checkout (MariaDB, WebTest).

Place an order, go to the provider (a form post or a redirect), then the
provider's notification - built by the gateway's conformance profile, sent to
the store's notify URL - marks it paid; the order page says so. Refunds from
the back office: tests/backoffice/payments/test_gateway_conformance.py.
"""

from __future__ import annotations

import pytest

from payments.money import Money
from payments.testing.provider import providers
from tests.payments.profiles import PROFILES
from tests.storefront.checkout_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.storefront.checkout_fixtures import TEXT, text_of

NEW = ["skrill", "twocheckout", "bluesnap"]


@pytest.fixture(params=NEW)
def provider_profile(request, store):
    with providers() as serve:
        profile = PROFILES[request.param](serve)
        store.gateway(request.param, profile.config())
        yield request.param, profile


def test_pay_through_the_provider_and_its_notification(shopper, store, provider_profile):
    name, profile = provider_profile
    review = shopper.through_review(qty=1, method=name)
    res = shopper.form(review, "/checkout/place").submit(status=303)
    order_url = res.location.rsplit("/pay", 1)[0]
    res = res.follow()
    gateway = profile.gateway()
    if res.status_int == 303:  # a hosted page created through the provider's API
        assert res.location.startswith(profile.config().get("checkout_url", "https://"))
    else:
        form = res.forms[0]
        assert form.action == gateway.validate_config(profile.config())["payment_url"]
        assert form.method.lower() == "post"
    [order] = store.orders()
    assert order.payment_status == "unpaid"
    assert TEXT["en"]["paid"] not in text_of(shopper.app.get(order_url))

    delivery = profile.paid(str(order.id), Money(order.total_minor, order.currency))
    notify = f"{store.prefix}/payments/notify/{name}"
    answer = shopper.app.post(
        notify,
        delivery.body,
        headers=dict(delivery.headers),
        extra_environ={"REMOTE_ADDR": delivery.remote_addr},
        status=200,
    )
    if name == "twocheckout":  # signed with the store's key, for this very IPN
        assert answer.body.startswith(b"<EPAYMENT>") and answer.body.endswith(b"</EPAYMENT>")
    else:
        assert answer.body == gateway.acknowledge(delivery.incoming(), []).body
    [order] = store.orders()
    assert order.payment_status == "paid"
    assert TEXT["en"]["paid"] in text_of(shopper.app.get(order_url))
    forged = profile.forged(str(order.id), Money(order.total_minor, order.currency))
    shopper.app.post(
        notify,
        forged.body,
        headers=dict(forged.headers),
        extra_environ={"REMOTE_ADDR": forged.remote_addr},
        status=400,
    )
