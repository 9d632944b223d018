"""back-office: server-side staff sessions and staff two-factor sign-in

Revision ID: 8s01
Revises: 8o01

``staff_sessions``: one row per signed-in browser, keyed by the SHA-256 of the
token its cookie carries; sign-out, a password or role change and disabling an
account delete rows, so a copied cookie ends with them. ``staff_two_factor``:
each member's TOTP secret (encrypted with the key ring), its last accepted time
step and the hashes of the recovery codes.
"""

import sqlalchemy as sa
from alembic import op

revision = "8s01"
down_revision = "8o01"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", Id, nullable=False),
        sa.Column("two_factor", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"],
                                name=op.f("fk_staff_sessions_staff_user_id_staff_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_staff_sessions_staff_user_id", "staff_sessions", ["staff_user_id"])
    op.create_table(
        "staff_two_factor",
        sa.Column("staff_user_id", Id, nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("recovery_codes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"],
                                name=op.f("fk_staff_two_factor_staff_user_id_staff_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_user_id", name=op.f("pk_staff_two_factor")),
    )


def downgrade() -> None:
    op.drop_table("staff_two_factor")
    op.drop_index("ix_staff_sessions_staff_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
