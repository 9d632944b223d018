"""back-office: login attempts for sign-in throttling

Revision ID: 0002
Revises: 6p01 (chained after the store-API and payments revisions)
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '6p01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    op.create_index('ix_login_attempts_email_created_at', 'login_attempts', ['email', 'created_at'], unique=False)
    op.create_index('ix_login_attempts_ip_created_at', 'login_attempts', ['ip', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_attempts_ip_created_at', table_name='login_attempts')
    op.drop_index('ix_login_attempts_email_created_at', table_name='login_attempts')
    op.drop_table('login_attempts')
