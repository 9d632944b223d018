"""store API: ``updated_after`` on every list, so each list has an indexed updated_at

Revision ID: 8a01
Revises: 4c01

Customers and webhook endpoints get an ``updated_at`` (existing rows start at
their ``created_at``); products and orders had one, without an index. A
reseller site syncing "what changed since my last run" reads one index range.
"""

import sqlalchemy as sa
from alembic import op

revision = "8a01"
down_revision = "4c01"
branch_labels = None
depends_on = None

NEW = ("customers", "webhook_endpoints")
INDEXED = ("products", "orders", "customers", "webhook_endpoints")


def upgrade() -> None:
    for table in NEW:
        op.add_column(table, sa.Column("updated_at", sa.DateTime(), nullable=True))
        op.execute(f"UPDATE {table} SET updated_at = created_at")
        # Batch mode: SQLite (the embedded demo) cannot alter a column in place.
        with op.batch_alter_table(table) as batch:
            batch.alter_column("updated_at", existing_type=sa.DateTime(), nullable=False)
    for table in INDEXED:
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])


def downgrade() -> None:
    for table in INDEXED:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
    for table in NEW:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("updated_at")
