"""a lease on each store's control row, for the sagas (tenancy/sagas.py)

Revision ID: 0003s
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003s"
down_revision = "0002"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_since", MOMENT, nullable=True))
        batch.add_column(sa.Column("lease_expires_at", MOMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_since")
        batch.drop_column("lease_owner")
