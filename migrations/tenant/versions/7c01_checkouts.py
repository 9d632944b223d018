"""hosted checkout: the shoppers' carts until they become orders

Revision ID: 7c01
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "7c01"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "checkouts",
        sa.Column("id", Id, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("payment_method", sa.String(length=64), nullable=True),
        sa.Column("payment_instructions", sa.Text(), nullable=True),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_checkouts_order_id_orders"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkouts")),
        sa.UniqueConstraint("order_id", name=op.f("uq_checkouts_order_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_checkouts_token_hash")),
    )
    op.create_index("ix_checkouts_state_updated_at", "checkouts", ["state", "updated_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_checkouts_state_updated_at", table_name="checkouts")
    op.drop_table("checkouts")
