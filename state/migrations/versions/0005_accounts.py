"""Civil servants' accounts and their roles (the console's embedded sign-in).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=False), nullable=True),
    )
    op.create_table(
        "account_roles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("service", sa.String(80), nullable=True),  # NULL: every service
        sa.UniqueConstraint("account_id", "role", "service", name="uq_account_role"),
    )
    op.create_index("ix_account_roles_account_id", "account_roles", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_account_roles_account_id", "account_roles")
    op.drop_table("account_roles")
    op.drop_table("accounts")
