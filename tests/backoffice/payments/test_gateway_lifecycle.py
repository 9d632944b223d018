"""Installed gateways: the CLI listing, hidden example gateways, uninstalled ones."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import insert
from sqlalchemy.orm import Session

from backoffice.cli import cli
from backoffice.models import Order, Payment
from backoffice.payments import gateway_registry
from backoffice.payments.models import GatewayConfig
from backoffice.payments.services import PaymentRefused
from tests.backoffice.payments.test_refunds_and_pages import start


def uninstalled_gateway_paid(shop) -> int:
    """A store that set up "gone" (a plugin since removed) and was paid through it."""
    order_id = shop.order(1700, "EUR")
    with Session(shop.engine) as db, db.begin():
        db.add(GatewayConfig(gateway="gone", enabled=True, position=0, settings={}, secrets={}))
        db.execute(
            insert(Payment).values(
                order_id=order_id,
                gateway="gone",
                provider_reference="gone-1",
                kind="payment.succeeded",
                status="succeeded",
                amount_minor=1700,
                currency="EUR",
                raw={},
            )
        )
        db.get(Order, order_id).payment_status = "paid"
    return order_id


def test_cli_lists_gateways_versions_and_the_stores_using_them(shop, control, ini_for):
    shop.configure(
        "skrill", {"pay_to_email": "a@b.c", "merchant_id": "1", "secret_word": "w"}, enabled=False
    )
    uninstalled_gateway_paid(shop)
    config = ini_for(control.settings)
    env = {"BACKOFFICE_GATEWAYS_HIDDEN": "cod"}
    result = CliRunner(env=env).invoke(cli, ["--config", str(config), "gateways", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["gateways"]}
    slug = shop.tenant.slug
    assert {"skrill", "twocheckout", "bluesnap", "stripe", "example"} <= set(rows)
    assert (rows["skrill"]["distribution"], rows["skrill"]["installed"]) == ("backoffice", True)
    assert rows["skrill"]["version"] == "0.1.0"
    assert {"store": slug, "enabled": False} in rows["skrill"]["stores"]
    assert {"store": slug, "enabled": True} in rows["sandbox"]["stores"]
    assert rows["example"]["distribution"] == "bo-example-gateway"
    assert rows["cod"]["hidden"] is True and rows["stripe"]["hidden"] is False
    assert rows["gone"]["installed"] is False
    assert {"store": slug, "enabled": True} in rows["gone"]["stores"]

    text = CliRunner(env=env).invoke(cli, ["--config", str(config), "gateways", "list"])
    assert text.exit_code == 0
    [gone] = [line for line in text.stdout.splitlines() if line.startswith("gone ")]
    assert "NOT INSTALLED" in gone and slug in gone


def test_an_uninstalled_gateway_is_refused_with_a_message(shop, owner, web_app):
    order_id = uninstalled_gateway_paid(shop)
    assert owner.get(f"/orders/{order_id}/payments").status_int == 200
    assert owner.get("/payments").status_int == 200
    owner.get("/payments/gone", status=404)
    res = owner.post(f"/orders/{order_id}/refund", {"amount": ""}, status=303).follow()
    assert "no longer installed" in res.text
    assert [p.kind for p in shop.payments(order_id)] == ["payment.succeeded"]
    with pytest.raises(PaymentRefused, match="no longer installed"):
        start(shop, web_app, shop.order(1800, "EUR"), "gone")
    # The provider's late notification is recorded and refused, not a crash.
    shop.notify("gone", b"x=1", {"Content-Type": "application/x-www-form-urlencoded"}, status=404)


def test_example_gateways_are_offered_only_in_tests():
    production = gateway_registry({"backoffice.environment": "production"})
    assert "example" not in production.available()
    assert production.get("example").name == "example"  # a store that has it keeps working
    assert "example" in gateway_registry({"backoffice.environment": "test"}).available()


def test_gateways_hidden_setting(shop, owner, web_app):
    registry = web_app.app.registry
    before = registry.payment_gateways
    registry.payment_gateways = gateway_registry(
        {"backoffice.environment": "test", "backoffice.gateways_hidden": "paypal, stripe"}
    )
    try:
        page = owner.get("/payments")
        assert "PayPal" not in page.text and "Stripe" not in page.text and "Skrill" in page.text
        owner.get("/payments/paypal", status=404)
        shop.configure("stripe", {"secret_key": "sk_1", "webhook_secret": "wh_1"})  # set up before
        with pytest.raises(PaymentRefused, match="not available"):
            start(shop, web_app, shop.order(1900, "EUR"), "stripe")
    finally:
        registry.payment_gateways = before
