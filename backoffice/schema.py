"""The store schema as the control plane sees it (``tenancy.provisioning.StoreSchema``).

It pairs the store's tables (``backoffice.models.metadata``) with the Alembic
scripts that migrate them (``migrations/tenant``, named as a package resource:
``migrations.tenant`` imports the models, so the models' side never imports it).
"""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.engine import Connection

from backoffice.models import StaffUser, metadata
from backoffice.security.passwords import hash_password, password_problem
from tenancy import migrate

TENANT_SCRIPTS = "migrations:tenant"


class StoreSchema:
    metadata = metadata

    def __init__(self, location: str | os.PathLike = TENANT_SCRIPTS):
        # Another location: a copy of the scripts with extra revisions (tests, benches).
        self.location = str(location)

    def create(self, connection: Connection, *, fresh: bool) -> str:
        # A fresh database skips the per-table existence checks (one query each).
        metadata.create_all(connection, checkfirst=not fresh)
        return migrate.stamp(connection, self.location)

    def head(self) -> str:
        return migrate.head(self.location)

    def upgrade(self, connection: Connection, target: str = "head") -> str | None:
        return migrate.upgrade(connection, self.location, target)

    def owner_problem(self, email: str, password: str) -> str | None:
        if "@" not in (email or "").strip():
            return "the owner e-mail is not an e-mail address"
        return password_problem(password)

    def create_owner(self, connection: Connection, email: str, password: str) -> None:
        email = email.strip().lower()
        exists = connection.scalar(select(StaffUser.id).where(StaffUser.email == email))
        if exists is None:
            connection.execute(
                StaffUser.__table__.insert().values(
                    email=email,
                    name="",
                    role="owner",
                    password_hash=hash_password(password),
                    is_active=True,
                    failed_logins=0,
                )
            )


store_schema = StoreSchema()
