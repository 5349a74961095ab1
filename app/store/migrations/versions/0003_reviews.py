"""pull_reviews and dismissals

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.tables import RowId, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_reviews",
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("base_sha", sa.String(64), nullable=False),
        sa.Column("model_findings", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.String(16), nullable=False),
        sa.Column("check_run_id", sa.BigInteger()),
        sa.Column("summary_comment_id", sa.BigInteger()),
        sa.Column("reviewed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", "number", name="pk_pull_reviews"),
    )
    op.create_table(
        "dismissals",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("by_login", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dismissals"),
        sa.UniqueConstraint(
            "repository_id",
            "number",
            "finding_id",
            name="uq_dismissals_repository_id_number_finding_id",
        ),
    )


def downgrade() -> None:
    op.drop_table("dismissals")
    op.drop_table("pull_reviews")
