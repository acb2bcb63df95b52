"""API keys for machines, each with its roles (state/api_keys.py).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 hex
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=False), nullable=True),
    )
    op.create_table(
        "api_key_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("service", sa.String(80), nullable=True),  # NULL: every service
        sa.UniqueConstraint("key_id", "role", "service", name="uq_api_key_grant"),
    )
    op.create_index("ix_api_key_grants_key_id", "api_key_grants", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_api_key_grants_key_id", "api_key_grants")
    op.drop_table("api_key_grants")
    op.drop_table("api_keys")
