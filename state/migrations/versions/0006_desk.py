"""The console: who an application is assigned to, what an officer returned for
correction, each application's timeline, why a document was revoked; and for accounts, a
one-time-code secret and the time before which their sessions no longer count.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as table:
        table.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        table.add_column(sa.Column("sessions_since", sa.DateTime(timezone=False), nullable=True))
    with op.batch_alter_table("submissions") as table:
        table.add_column(sa.Column("assigned_to", sa.Integer, nullable=True))
        table.add_column(sa.Column("correction", sa.JSON, nullable=True))
        table.create_foreign_key(
            "fk_submissions_assigned_to_accounts", "accounts", ["assigned_to"], ["id"]
        )
    op.create_index("ix_submissions_assigned_to", "submissions", ["assigned_to"])
    with op.batch_alter_table("documents") as table:
        table.add_column(sa.Column("revoked_reason", sa.Text, nullable=True))
    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(254), nullable=True),
        sa.Column("detail", sa.JSON, nullable=True),
    )
    op.create_index("ix_submission_events_submission_id", "submission_events", ["submission_id"])
    op.create_index("ix_submission_events_kind_at", "submission_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_submission_events_kind_at", "submission_events")
    op.drop_index("ix_submission_events_submission_id", "submission_events")
    op.drop_table("submission_events")
    with op.batch_alter_table("documents") as table:
        table.drop_column("revoked_reason")
    op.drop_index("ix_submissions_assigned_to", "submissions")
    with op.batch_alter_table("submissions") as table:
        table.drop_constraint("fk_submissions_assigned_to_accounts", type_="foreignkey")
        table.drop_column("correction")
        table.drop_column("assigned_to")
    with op.batch_alter_table("accounts") as table:
        table.drop_column("sessions_since")
        table.drop_column("totp_secret")
