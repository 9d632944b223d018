"""Which stores use which gateway: read from each active store's own database.

``backoffice gateways list`` shows it beside the installed gateways, so an
operator sees before uninstalling a plugin which stores still have it set up
(and a configured gateway that is no longer installed).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.payments.models import GatewayConfig
from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.keyring import KeyRingError
from tenancy.models import Tenant, TenantStatus


@dataclass(frozen=True)
class StoreGateways:
    slug: str
    gateways: dict[str, bool]  # configured gateway -> enabled
    error: str = ""


def store_gateways(control: ControlPlane) -> list[StoreGateways]:
    with control.session() as session:
        tenants = list(
            session.scalars(
                select(Tenant).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.slug)
            )
        )
        return [_read_one(control, tenant) for tenant in tenants]


def _read_one(control: ControlPlane, tenant: Tenant) -> StoreGateways:
    try:
        engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
    except KeyRingError as exc:
        return StoreGateways(tenant.slug, {}, str(exc))
    try:
        with Session(engine) as db:
            rows = db.execute(select(GatewayConfig.gateway, GatewayConfig.enabled)).all()
        return StoreGateways(tenant.slug, {name: bool(enabled) for name, enabled in rows})
    except SQLAlchemyError as exc:
        return StoreGateways(tenant.slug, {}, f"database error: {type(exc).__name__}")
    finally:
        engine.dispose()
