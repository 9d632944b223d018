"""Refunds from the order page, the owner's gateway pages, the sandbox flow, a plugin."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from pyramid.scripting import prepare
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backoffice.models import AuditEntry, Order, Payment
from backoffice.payments.models import GatewayConfig
from backoffice.payments.services import start_payment
from payments.signing import hmac_sha256_hex
from tests.backoffice.admin_fixtures import add_staff


def paid_by_stripe(shop, stripe_api, total=5000):
    api, provider = stripe_api
    shop.configure(
        "stripe",
        {"secret_key": "sk_test_123", "webhook_secret": "whsec_1", "api_base": provider.base_url},
    )
    order_id = shop.order(total, "USD")
    with shop.engine.begin() as conn:  # what a verified payment.succeeded left behind
        conn.execute(
            insert(Payment).values(
                order_id=order_id,
                gateway="stripe",
                provider_reference="pi_test",
                kind="payment.succeeded",
                status="succeeded",
                amount_minor=total,
                currency="USD",
                raw={"payment_reference": "pi_test"},
            )
        )
    api.captured["pi_test"] = total
    return order_id


def test_partial_then_full_refund_never_more_than_paid(shop, owner, stripe_api):
    order_id = paid_by_stripe(shop, stripe_api)
    owner.post(f"/orders/{order_id}/refund", {"amount": "20.00"}, status=303)
    assert shop.order_row(order_id).payment_status == "partially_refunded"
    owner.post(f"/orders/{order_id}/refund", {"amount": "40"}, status=303)  # only 30 left
    refunds = [p for p in shop.payments(order_id) if p.kind.startswith("refund")]
    assert [r.amount_minor for r in refunds] == [2000]
    owner.post(f"/orders/{order_id}/refund", {"amount": ""}, status=303)  # the rest
    refunds = [p for p in shop.payments(order_id) if p.kind.startswith("refund")]
    assert [(r.kind, r.amount_minor) for r in refunds] == [
        ("refund.succeeded", 2000),
        ("refund.succeeded", 3000),
    ]
    assert shop.order_row(order_id).payment_status == "refunded"
    assert stripe_api[0].refunded["pi_test"] == 5000
    owner.post(f"/orders/{order_id}/refund", {"amount": "1"}, status=303)
    assert stripe_api[0].refunded["pi_test"] == 5000
    assert [e.kind for e in shop.events(order_id)].count("refund") == 2
    page = owner.get(f"/orders/{order_id}/payments")
    assert "refund.succeeded" in page.text
    with Session(shop.engine) as db:  # refused refunds change nothing and log nothing
        audited = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "order.refund").order_by(AuditEntry.id)
        ).all()
    assert [
        (e.entity_id, e.actor, e.after["amount_minor"], e.after["status"]) for e in audited
    ] == [
        (str(order_id), "owner@example.com", 2000, "succeeded"),
        (str(order_id), "owner@example.com", 3000, "succeeded"),
    ]


def test_refund_needs_the_permission_and_csrf(shop, owner, stripe_api, control, store):
    order_id = paid_by_stripe(shop, stripe_api)
    owner.app.post(owner.url(f"/orders/{order_id}/refund"), {"amount": "1"}, status=400)
    owner.logout()
    add_staff(control, store, "help@example.com", "support")
    owner.login("help@example.com", "staff-pass-1")
    owner.post(f"/orders/{order_id}/refund", {"amount": "1"}, status=403)
    assert stripe_api[0].refunded == {}
    assert shop.order_row(order_id).payment_status == "unpaid"


def test_owner_pages_store_secrets_encrypted_and_never_show_them(shop, owner):
    page = owner.get("/payments")
    assert "sandbox" in page.text and "set" in page.text
    form = owner.get("/payments/sandbox").forms["gateway-form"]
    assert form["secret"].value == ""
    assert "sandbox-secret-of-store-a" not in owner.get("/payments/sandbox").text
    owner.post(
        "/payments/sandbox", {"page_url": "https://pay.test/new", "secret": ""}, status=303
    )  # blank secret: the stored one is kept
    with Session(shop.engine) as db:
        row = db.scalar(select(GatewayConfig).where(GatewayConfig.gateway == "sandbox"))
    assert row.settings == {"page_url": "https://pay.test/new"}
    token = row.secrets["secret"]
    assert token.startswith("v1.") and "sandbox-secret" not in token
    context = f"tenant:{shop.tenant.id}:gateway:sandbox:secret"
    assert shop.control.keyring.decrypt_text(token, context=context) == (
        "sandbox-secret-of-store-a"
    )
    bad = owner.post("/payments/sandbox", {"page_url": "ftp://x", "secret": ""}, status=400)
    assert "http(s) URL" in bad.text
    owner.post("/payments/sandbox/enabled", {"enabled": "0"}, status=303)
    with Session(shop.engine) as db:
        assert db.scalar(select(GatewayConfig.enabled)) is False


def test_sandbox_page_pays_through_the_notification_path(shop, owner, web_app):
    page_url = f"http://localhost{shop.prefix}/payments/sandbox"
    shop.configure("sandbox", {"page_url": page_url, "secret": "s3cret"})
    order_id = shop.order()
    from_start = start(shop, web_app, order_id, "sandbox")
    assert from_start.kind == "redirect"
    target = urlsplit(from_start.url)
    token = parse_qs(target.query)["token"][0]
    page = web_app.get(f"{shop.prefix}/payments/sandbox", {"token": token})
    assert "15.00 EUR" in page.text
    form = page.forms[0]
    form["card"] = "4000 0000 0000 0002"
    form.submit(status=303)
    assert shop.order_row(order_id).payment_status == "unpaid"
    form["card"] = "4242 4242 4242 4242"
    res = form.submit(status=303)
    assert res.location.startswith("https://shop.test/return")
    assert shop.order_row(order_id).payment_status == "paid"
    assert [n.status for n in shop.notifications()][-2:] == ["accepted", "accepted"]
    web_app.get(f"{shop.prefix}/payments/sandbox", {"token": token + "x"}, status=404)


def start(shop, web_app, order_id, gateway):
    """``start_payment`` as the hosted checkout will call it, in a request of the store."""
    env = prepare(registry=web_app.app.registry)
    request = env["request"]
    request.environ["backoffice.tenant"] = web_app.app.registry.directory.by_slug(shop.tenant.slug)
    request.script_name = shop.prefix
    request.tm.begin()
    try:
        order = request.db.get(Order, order_id)
        started = start_payment(request, order, gateway, "https://shop.test/return")
        request.tm.commit()
    finally:
        env["closer"]()
    return started


def test_example_plugin_gateway_is_discovered_and_usable(shop, owner, web_app):
    assert "example" in owner.get("/payments").text  # found through the entry point
    shop.configure("example", {"checkout_url": "https://example.test/pay", "secret": "ex"})
    order_id = shop.order(700, "EUR")
    started = start(shop, web_app, order_id, "example")
    assert started.kind == "form" and ("order", str(order_id)) in started.fields
    body = f"txn=ex-1&order={order_id}&amount=700".encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Example-Signature": hmac_sha256_hex("ex", body),
    }
    shop.notify("example", body, headers, status=200)
    shop.notify("example", body, {**headers, "X-Example-Signature": "0" * 64}, status=400)
    assert shop.order_row(order_id).payment_status == "paid"
    assert len(shop.payments(order_id)) == 1
