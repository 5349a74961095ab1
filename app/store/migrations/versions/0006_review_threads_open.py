"""pull_reviews.threads_open: fixed findings whose threads the review could not close

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pull_reviews") as batch:
        batch.add_column(sa.Column("threads_open", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("pull_reviews") as batch:
        batch.drop_column("threads_open")
