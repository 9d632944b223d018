"""The embedded default: ``backoffice demo --no-serve`` in an empty directory."""

from __future__ import annotations

import shutil
from pathlib import Path

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
        tenant = conn.execute(select(Tenant.status, Tenant.database_name)
                              .where(Tenant.slug == "demo")).one()
    control.dispose()
    assert tenant.status == TenantStatus.ACTIVE
    store_file = tmp_path / "var" / "stores" / f"{tenant.database_name}.sqlite"
    store = make_engine(f"sqlite:///{store_file}")
    with store.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Order)) == 120
        assert conn.scalar(select(func.count()).select_from(OrderLine)) >= 120
        assert conn.scalar(select(func.count()).select_from(Product)) == 8
        assert conn.scalar(select(StaffUser.email).where(StaffUser.role == "owner")) == (
            "owner@demo.example")
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
    app.registry["engines"].dispose()
    app.registry["control"].dispose()


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
