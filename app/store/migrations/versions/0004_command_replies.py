"""command_replies; dismissals.by_role; pull_reviews.severities

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_replies",
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(255), nullable=False),
        sa.Column("replied_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", "number", "login", name="pk_command_replies"),
    )
    op.create_index("ix_command_replies_replied_at", "command_replies", ["replied_at"])
    with op.batch_alter_table("dismissals") as batch:
        batch.add_column(sa.Column("by_role", sa.String(16)))
    with op.batch_alter_table("pull_reviews") as batch:
        batch.add_column(sa.Column("severities", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("pull_reviews") as batch:
        batch.drop_column("severities")
    with op.batch_alter_table("dismissals") as batch:
        batch.drop_column("by_role")
    op.drop_index("ix_command_replies_replied_at", table_name="command_replies")
    op.drop_table("command_replies")
