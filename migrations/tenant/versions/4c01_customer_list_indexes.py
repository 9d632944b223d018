"""back-office: the customer list's indexes, by name and by customer newest first

Revision ID: 4c01
Revises: 4s01

``ix_customers_name`` (name, id, e-mail) gives the customer list its page of
ids in order, searched or not, from the index alone. ``ix_orders_customer_id``
becomes ``ix_orders_customer_newest`` (customer, newest first): a customer's
order count, last order date and history are each one index range. Before,
the list grouped every order of the store by customer on every view (see
customers.services.customer_page). The new index on orders exists before the
old one goes: MariaDB keeps the foreign key on ``customer_id`` backed by an
index throughout.
"""

import sqlalchemy as sa
from alembic import op

revision = "4c01"
down_revision = "4s01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_name", "customers", ["name", "id", "email"])
    op.create_index("ix_orders_customer_newest", "orders",
                    ["customer_id", sa.text("created_at DESC"), sa.text("id DESC")])
    op.drop_index("ix_orders_customer_id", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.drop_index("ix_orders_customer_newest", table_name="orders")
    op.drop_index("ix_customers_name", table_name="customers")
