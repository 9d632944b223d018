"""payments: per-store gateway settings and raw provider notifications

Revision ID: 6p01
Revises: 5a01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "6p01"
down_revision = "5a01"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Body = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql")


def upgrade() -> None:
    # "partially_refunded" (18 characters) did not fit.
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("payment_status", existing_type=sa.String(length=16),
                           type_=sa.String(length=20), existing_nullable=False)
    op.create_table(
        "gateway_configs",
        sa.Column("id", Id, nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_configs")),
        sa.UniqueConstraint("gateway", name=op.f("uq_gateway_configs_gateway")),
    )
    op.create_table(
        "payment_notifications",
        sa.Column("id", Id, nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("query_string", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", Body, nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_payment_notifications_order_id_orders"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notifications")),
    )
    op.create_index("ix_payment_notifications_gateway_received_at", "payment_notifications",
                    ["gateway", "received_at"], unique=False)
    op.create_index(op.f("ix_payment_notifications_order_id"), "payment_notifications",
                    ["order_id"], unique=False)
    op.create_index(op.f("ix_payment_notifications_status"), "payment_notifications",
                    ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("payment_notifications")
    op.drop_table("gateway_configs")
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("payment_status", existing_type=sa.String(length=20),
                           type_=sa.String(length=16), existing_nullable=False)
