"""Published service versions and what each service runs (state/published.py), the
publisher's comment on a draft, and shared lists written in the studio (state/lists.py).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_versions",
        sa.Column("service", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("tests", sa.Text, nullable=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("published_by", sa.String(254), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
    )
    op.create_table(
        "service_heads",
        sa.Column("service", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=False), nullable=False),
    )
    op.create_table(
        "shared_lists",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
    )
    with op.batch_alter_table("service_drafts") as batch:
        batch.add_column(sa.Column("comment", sa.Text, nullable=True))
        batch.add_column(sa.Column("published", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_drafts") as batch:
        batch.drop_column("published")
        batch.drop_column("comment")
    op.drop_table("shared_lists")
    op.drop_table("service_heads")
    op.drop_table("service_versions")
