"""The embedded default: ``backoffice demo --no-serve`` in an empty directory."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from backoffice.models import Order, OrderLine, Product, StaffUser
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
