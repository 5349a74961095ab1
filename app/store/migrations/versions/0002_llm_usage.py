"""llm_usage

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.tables import RowId, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_usage",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("installation_id", sa.BigInteger()),
        sa.Column("repository", sa.String(255)),
        sa.Column("number", sa.Integer()),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("job_id", sa.BigInteger()),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_llm_usage"),
    )
    op.create_index(
        "ix_llm_usage_installation_id_created_at", "llm_usage", ["installation_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_llm_usage_installation_id_created_at", table_name="llm_usage")
    op.drop_table("llm_usage")
