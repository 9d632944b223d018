"""The conformance kit's database-level half, for every gateway (MariaDB store).

The pure checks run in tests/payments/test_conformance.py; these need the
core: the same genuine notification 20 times at once through a real WSGI
server -> one payment; forged, replayed and wrong-amount notifications change
nothing; a refund asked twice reaches the provider once. A new gateway only
adds its profile to tests/payments/profiles.py.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest
import waitress.server
from sqlalchemy.orm import Session

from backoffice.config import make_app
from backoffice.payments.configs import GatewaySettings
from payments.money import Money
from payments.registry import GatewayRegistry
from payments.testing.profile import Delivery
from payments.testing.provider import providers
from tests.payments.profiles import PROFILES

NAMES = sorted(PROFILES)


@pytest.fixture(params=NAMES)
def profiled(request, shop):
    """(profile, gateway name) set up and enabled in the ``shop`` store."""
    with providers() as serve:
        profile = PROFILES[request.param](serve)
        shop.configure(request.param, profile.config())
        yield profile, request.param


def deliver(shop, name, delivery, status="*"):
    path = f"{shop.prefix}/payments/notify/{name}"
    if delivery.query_string:
        path += "?" + delivery.query_string
    environ = {"REMOTE_ADDR": delivery.remote_addr}
    if delivery.method == "GET":
        return shop.app.get(
            path, headers=dict(delivery.headers), extra_environ=environ, status=status
        )
    return shop.app.post(
        path, delivery.body, headers=dict(delivery.headers), extra_environ=environ, status=status
    )


def notifies(profile) -> bool:
    return profile.gateway_class.capabilities.notifications


def test_twenty_concurrent_copies_make_one_payment(profiled, shop, mysql_settings, control):
    profile, name = profiled
    order_id = shop.order(1500, profile.currency)
    delivery = (
        profile.paid(str(order_id), Money(1500, profile.currency)) if notifies(profile) else None
    )
    if delivery is None:
        delivery = profile_offline_delivery()
    server = waitress.server.create_server(
        make_app(mysql_settings, control=control), host="127.0.0.1", port=0, threads=20
    )
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}{shop.prefix}/payments/notify/{name}"
    if delivery.query_string:
        url += "?" + delivery.query_string
    statuses, barrier = [], threading.Barrier(20)

    def send():
        barrier.wait()
        body = delivery.body if delivery.method == "POST" else None
        req = urllib.request.Request(
            url, data=body, headers=dict(delivery.headers), method=delivery.method
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    workers = [threading.Thread(target=send) for _ in range(20)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(90)
    finally:
        server.close()
    mine = [n.status for n in shop.notifications() if n.gateway == name]
    if not notifies(profile):
        # Refused, never accepted. (Some answers may be 503: twenty refusals at once
        # can exhaust the store's connection pool, each holding two sessions.)
        assert len(statuses) == 20 and all(s >= 400 for s in statuses)
        assert shop.payments(order_id) == [] and "accepted" not in mine
        return
    assert statuses == [200] * 20
    [payment] = shop.payments(order_id)
    assert (payment.kind, payment.status, payment.amount_minor) == (
        "payment.succeeded",
        "succeeded",
        1500,
    )
    assert shop.order_row(order_id).payment_status == "paid"
    assert sorted(mine) == ["accepted"] + ["duplicate"] * 19
    assert [e.kind for e in shop.events(order_id)].count("payment_received") == 1


def profile_offline_delivery():
    return Delivery(b"status=paid", {"Content-Type": "application/x-www-form-urlencoded"})


def test_forged_replayed_and_wrong_amounts_change_nothing(profiled, shop):
    profile, name = profiled
    if not notifies(profile):
        pytest.skip(f"{name} receives no notifications")
    money = Money(1500, profile.currency)
    order_id = shop.order(1500, profile.currency)
    res = deliver(shop, name, profile.forged(str(order_id), money))
    assert 400 <= res.status_int < 600
    assert shop.notifications()[-1].status == "rejected"
    assert shop.order_row(order_id).payment_status == "unpaid"

    genuine = profile.paid(str(order_id), money)
    assert deliver(shop, name, genuine).status_int == 200
    assert deliver(shop, name, genuine).status_int == 200
    assert [n.status for n in shop.notifications()][-2:] == ["accepted", "duplicate"]
    assert len(shop.payments(order_id)) == 1
    assert shop.order_row(order_id).payment_status == "paid"

    other = shop.order(1600, profile.currency)  # (totals differ: the fixture's tokens do)
    deliver(shop, name, profile.paid(str(other), Money(1400, profile.currency)), status=200)
    assert shop.notifications()[-1].status == "flagged"
    assert shop.order_row(other).payment_status == "unpaid"


def test_a_refund_asked_twice_reaches_the_provider_once(profiled, shop, owner):
    profile, name = profiled
    caps = profile.gateway_class.capabilities
    if not caps.refund_full:
        pytest.skip(f"{name} cannot refund through its API")
    money = Money(1500, profile.currency)
    order_id = shop.order(1500, profile.currency)
    deliver(shop, name, profile.paid(str(order_id), money), status=200)
    [payment] = shop.payments(order_id)
    owner.post(f"/orders/{order_id}/refund", {"amount": ""}, status=303)
    owner.post(f"/orders/{order_id}/refund", {"amount": ""}, status=303)
    refunds = [p for p in shop.payments(order_id) if p.kind.startswith("refund")]
    assert len(refunds) == 1 and refunds[0].amount_minor == 1500
    refunded = profile.refunded_at_provider(payment.provider_reference)
    if refunded is not None:
        assert refunded == money
    assert [e.kind for e in shop.events(order_id)].count("refund") == 1


def test_the_settings_page_renders_and_saves_every_field(profiled, shop, owner):
    profile, name = profiled
    gateway = profile.gateway()
    page = owner.get(f"/payments/{name}")
    form = page.forms["gateway-form"]
    for field in gateway.config_schema:
        assert field.name in form.fields, field.name
        if field.kind == "secret":
            assert form[field.name].value == ""
    for secret in profile.secrets():
        assert secret not in page.text
    values = {f.name: "" for f in gateway.config_schema if f.kind == "secret"}  # keep them
    for key, value in profile.config().items():
        field = next(f for f in gateway.config_schema if f.name == key)
        if field.kind == "bool":
            if value:
                values[key] = "on"
        elif field.kind != "secret":
            values[key] = value
    owner.post(f"/payments/{name}", values, status=303)
    assert gateway.validate_config(shop_config(shop, name)) == gateway.validate_config(
        profile.config()
    )


def shop_config(shop, name):
    with Session(shop.engine) as db:
        settings = GatewaySettings(db, shop.control.keyring, shop.tenant.id, GatewayRegistry())
        return settings.config_for(name)
