"""Trust: documents' check codes, who applied (ID and proved number) and repeat flags;
opt-outs kept durably.

Revision ID: 0004
Revises: 0003
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As state.submissions.new_check_code: unambiguous letters and digits, 50 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _check_code() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{code[:5]}-{code[5:]}"


def upgrade() -> None:
    with op.batch_alter_table("submissions") as table:
        table.add_column(sa.Column("check_code", sa.String(16), nullable=True))
        table.add_column(sa.Column("applicant_id", sa.String(40), nullable=True))
        table.add_column(sa.Column("phone", sa.String(20), nullable=True))
        table.add_column(sa.Column("flags", sa.JSON, nullable=True))
    op.create_index("ix_submissions_applicant_id", "submissions", ["applicant_id"])
    op.create_index("ix_submissions_phone", "submissions", ["phone"])
    # Documents issued before have a code too, or their pages could never be verified.
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM submissions")).scalars().all()
    for submission_id in ids:
        connection.execute(
            sa.text("UPDATE submissions SET check_code = :code WHERE id = :id"),
            {"code": _check_code(), "id": submission_id},
        )
    op.create_table(
        "opt_outs",
        sa.Column("address", sa.String(80), primary_key=True),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
    op.drop_index("ix_submissions_phone", "submissions")
    op.drop_index("ix_submissions_applicant_id", "submissions")
    with op.batch_alter_table("submissions") as table:
        table.drop_column("flags")
        table.drop_column("phone")
        table.drop_column("applicant_id")
        table.drop_column("check_code")
