"""``backoffice keys rotate``, store side: gateway secrets live in each store's DB.

``tenancy.operations.rotate_keys`` re-encrypts the control database only. This
walks every store whose database is in place (active or suspended), over the
store's own runtime user (UPDATE on its own tables is all it needs), and
re-encrypts its gateway secrets and its staff's TOTP secrets under the newest
key, one transaction per store. A store that fails is reported and the walk
goes on; running it again is safe (tokens already under the newest key are left
alone).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backoffice.payments.configs import rotate_gateway_secrets
from backoffice.security.twofactor import TwoFactor
from tenancy.control import ControlPlane
from tenancy.db import make_engine
from tenancy.keyring import KeyRingError
from tenancy.models import Tenant, TenantStatus

WALKED = (TenantStatus.ACTIVE, TenantStatus.SUSPENDED)


@dataclass(frozen=True)
class StoreRotation:
    slug: str
    rotated: int = 0
    error: str = ""
    two_factor: int = 0  # staff TOTP secrets (backoffice.security.twofactor)


def rotate_store_secrets(control: ControlPlane) -> list[StoreRotation]:
    with control.session() as session:
        tenants = list(
            session.scalars(select(Tenant).where(Tenant.status.in_(WALKED)).order_by(Tenant.id))
        )
        return [_rotate_one(control, tenant) for tenant in tenants]


def _rotate_one(control: ControlPlane, tenant: Tenant) -> StoreRotation:
    try:
        engine = make_engine(control.runtime_url(tenant), poolclass=NullPool)
    except KeyRingError as exc:
        return StoreRotation(tenant.slug, error=str(exc))
    try:
        with Session(engine) as db, db.begin():
            return StoreRotation(
                tenant.slug,
                rotate_gateway_secrets(db, control.keyring, tenant.id),
                two_factor=TwoFactor(db, control.keyring, tenant.id).rotate(),
            )
    except KeyRingError as exc:
        return StoreRotation(tenant.slug, error=str(exc))
    except SQLAlchemyError as exc:
        return StoreRotation(tenant.slug, error=f"database error: {type(exc).__name__}")
    finally:
        engine.dispose()
