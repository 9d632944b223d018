"""backups: where the off-site copy is (object key)

Revision ID: 0003o
Revises: 0003s
"""

import sqlalchemy as sa
from alembic import op

revision = "0003o"
down_revision = "0003s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backups") as batch:
        batch.add_column(sa.Column("offsite_key", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backups") as batch:
        batch.drop_column("offsite_key")
