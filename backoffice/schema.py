"""The store schema as the control plane sees it (``tenancy.provisioning.StoreSchema``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from backoffice.models import StaffUser, metadata
from backoffice.security.passwords import hash_password, password_problem
from tenancy import migrate


class StoreSchema:
    def create(self, connection: Connection, *, fresh: bool) -> str:
        # A fresh database skips the per-table existence checks (one query each).
        metadata.create_all(connection, checkfirst=not fresh)
        return migrate.stamp(connection, "tenant")

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
