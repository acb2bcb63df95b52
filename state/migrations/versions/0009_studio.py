"""Service drafts written in the studio.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_drafts",
        sa.Column("service", sa.String(80), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("tests", sa.Text, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("submitted_by", sa.String(254), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("service_drafts")
