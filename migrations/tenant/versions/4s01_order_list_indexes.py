"""back-office: the order list's indexes, newest first with the searched columns

Revision ID: 4s01
Revises: 7c01

``ix_orders_created_at`` and ``ix_orders_status_created_at`` become
``ix_orders_newest`` and ``ix_orders_status_newest``: descending keys (the
newest-first page is a forward scan) followed by every column the order list
shows, so that a page, searched or not, is read from the index alone (see
backoffice.models.orders). InnoDB builds them online; the new ones exist
before the old ones go, so the list never runs without an index.
"""

import sqlalchemy as sa
from alembic import op

revision = "4s01"
down_revision = "7c01"
branch_labels = None
depends_on = None

LISTED = ("number", "customer_email", "customer_name", "payment_status", "currency",
          "total_minor")
NEWEST = (sa.text("created_at DESC"), sa.text("id DESC"))


def upgrade() -> None:
    op.create_index("ix_orders_newest", "orders", [*NEWEST, "status", *LISTED])
    op.create_index("ix_orders_status_newest", "orders", ["status", *NEWEST, *LISTED])
    op.drop_index("ix_orders_status_created_at", table_name="orders")
    op.drop_index("ix_orders_created_at", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index("ix_orders_status_created_at", "orders", ["status", "created_at"])
    op.drop_index("ix_orders_status_newest", table_name="orders")
    op.drop_index("ix_orders_newest", table_name="orders")
