"""The message log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("address", sa.String(80), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("segments", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_messages_at", "messages", ["at"])
    op.create_index("ix_messages_address", "messages", ["address"])
    op.create_index("ix_messages_provider_id", "messages", ["provider_id"])


def downgrade() -> None:
    op.drop_table("messages")
