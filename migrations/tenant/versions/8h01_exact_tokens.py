"""tokens, keys and references compared byte for byte (binary collation on MariaDB)

Revision ID: 8h01
Revises: 8s01

The default collation (utf8mb4_unicode_ci) ignores case: ``/order-status/<TOKEN>``
found the order of ``<token>``, and external references or idempotency keys that
differ in case collided. Values that differ only in case cannot exist yet (the
columns are unique, or compared through unique keys), so the change is safe on
existing data. SQLite compares bytes already: nothing to do there.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import VARCHAR

revision = "8h01"
down_revision = "8s01"
branch_labels = None
depends_on = None

# (table, column, length, nullable)
COLUMNS = (
    ("orders", "status_token", 64, True),
    ("orders", "external_reference", 100, True),
    ("idempotency_records", "scope", 40, False),
    ("idempotency_records", "key", 200, False),
    ("api_keys", "prefix", 32, False),
    ("checkouts", "token_hash", 64, False),
    ("webhook_deliveries", "event_id", 40, False),
    ("payments", "provider_reference", 128, False),
)


def _collate(collation: str | None) -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for table, column, length, nullable in COLUMNS:
        op.alter_column(
            table,
            column,
            existing_type=sa.String(length),
            type_=VARCHAR(length, collation=collation),
            existing_nullable=nullable,
        )


def upgrade() -> None:
    _collate("utf8mb4_bin")


def downgrade() -> None:
    _collate(None)
