"""The embedded default: ``backoffice demo --no-serve`` in an empty directory."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from backoffice.cli.setup import DEMO_OWNER
from backoffice.config import make_app
from backoffice.models import Order, OrderLine, Product, StaffUser
from tenancy import settings as app_settings
from tenancy.db import make_engine
from tenancy.models import Tenant, TenantStatus
from tests.backoffice.conftest import run_cli
from tests.storefront.checkout_fixtures import Shopper

REPO = Path(__file__).resolve().parents[2]


def test_demo_creates_a_store_with_sample_orders(tmp_path):
    config = Path(shutil.copy(REPO / "development.ini", tmp_path / "development.ini"))
    result = run_cli(config, "demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "demo store 'demo' created with sample orders" in result.stdout
    assert "http://127.0.0.1:6543/s/demo/admin/" in result.stdout
    assert (tmp_path / "var" / "keys.txt").exists()

    control = make_engine(f"sqlite:///{tmp_path}/var/control.sqlite")
    with control.connect() as conn:
        tenant = conn.execute(
            select(Tenant.status, Tenant.database_name).where(Tenant.slug == "demo")
        ).one()
    control.dispose()
    assert tenant.status == TenantStatus.ACTIVE
    store_file = tmp_path / "var" / "stores" / f"{tenant.database_name}.sqlite"
    store = make_engine(f"sqlite:///{store_file}")
    with store.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Order)) == 120
        assert conn.scalar(select(func.count()).select_from(OrderLine)) >= 120
        assert conn.scalar(select(func.count()).select_from(Product)) == 8
        assert conn.scalar(select(StaffUser.email).where(StaffUser.role == "owner")) == (
            "owner@demo.example"
        )
    store.dispose()

    again = run_cli(config, "demo", "--no-serve")  # a second run keeps the store as it is
    assert again.exit_code == 0, again.output
    assert "created with sample orders" not in again.stdout
    store = make_engine(f"sqlite:///{store_file}")
    with store.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Order)) == 120
    store.dispose()


@pytest.fixture
def demo_app(tmp_path):
    config = Path(shutil.copy(REPO / "development.ini", tmp_path / "development.ini"))
    assert run_cli(config, "demo", "--no-serve").exit_code == 0
    app = make_app(app_settings.load(str(config)))
    yield TestApp(app, extra_environ={"HTTP_HOST": "127.0.0.1:6543"})
    app.registry.engines.dispose()
    app.registry.control.dispose()


def test_the_demo_store_s_pages_on_the_embedded_database(demo_app):
    """SQLite is the quick start: the pages' queries (the staff member with the
    store's settings in one statement among them) run on it too."""
    login = demo_app.get("/s/demo/admin/login")
    form = login.forms[0]
    form["email"], form["password"] = DEMO_OWNER
    home = form.submit(status=303).follow()
    assert "Dashboard" in home.text
    orders = demo_app.get("/s/demo/admin/orders")
    assert "Demo Tea Shop" in orders.text
    number = orders.html.select_one("tbody a strong").text
    detail = demo_app.get(orders.html.select_one("tbody a")["href"])
    assert number in detail.text
    settings = demo_app.get("/s/demo/admin/settings")
    assert settings.html.select_one("#f-name")["value"] == "Demo Tea Shop"
    # Not a default: read from store_settings, with the staff member.
    assert settings.html.select_one("#f-timezone option[selected]").text == "Europe/Kyiv"


def today(app) -> tuple[Decimal, int]:
    """The dashboard's revenue today and its number of orders today."""
    page = app.get("/s/demo/admin/dashboard").html
    revenue = page.select_one(".kpi .value").get_text().replace("€", "").replace(",", "")
    orders = page.select_one(".kpi .hint").get_text().split()[0]
    return Decimal(revenue), int(orders)


def test_a_shopper_pays_by_test_card_on_the_demo_and_the_owner_sees_it(demo_app):
    """The quick start's checkout offers the demo's payment methods (test card
    payments, cash on delivery); a test card payment marks the order paid, and
    the owner's pages on SQLite (orders, customers, dashboard) show it."""
    login = demo_app.get("/s/demo/admin/login")
    form = login.forms[0]
    form["email"], form["password"] = DEMO_OWNER
    form.submit(status=303)
    revenue, orders = today(demo_app)

    shopper = Shopper(demo_app, SimpleNamespace(prefix="/s/demo"))
    shopper.add("TEA-001", 2)
    shopper.details()
    methods = shopper.get("/payment").html.select("input[name='method']")
    assert [m["value"] for m in methods] == ["sandbox", "cod"]
    review = shopper.choose("sandbox").follow()
    res = shopper.form(review, "/checkout/place").submit(status=303)
    order_url = res.location.rsplit("/pay", 1)[0]
    card = res.follow(status=303)
    assert card.location.startswith("http://127.0.0.1:6543/s/demo/payments/sandbox?token=")
    card = card.follow()
    card.forms[0]["card"] = "4242 4242 4242 4242"
    assert card.forms[0].submit(status=303).location == order_url

    found = demo_app.get("/s/demo/admin/orders", params={"q": "Ann Example"})
    [row] = found.html.select("tbody tr")
    assert "Paid" in row.get_text() and "€25.80" in row.get_text()
    customers = demo_app.get("/s/demo/admin/customers", params={"q": "Ann Example"})
    [row] = customers.html.select("tbody tr")
    assert [td.get_text() for td in row.select("td")][3] == "1"
    assert today(demo_app) == (revenue + Decimal("25.80"), orders + 1)
