"""Conversation events, archived from the Redis stream for analytics.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("stream_id", sa.String(32), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("service", sa.String(80), nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("step", sa.String(80), nullable=True),
        sa.Column("channel", sa.String(40), nullable=True),
        sa.Column("conversation", sa.String(64), nullable=True),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_events_service_at", "events", ["service", "at"])


def downgrade() -> None:
    op.drop_table("events")
