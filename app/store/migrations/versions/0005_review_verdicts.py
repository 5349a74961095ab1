"""pull_reviews.verdicts: the verification verdicts of the last review's model findings

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pull_reviews") as batch:
        batch.add_column(sa.Column("verdicts", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("pull_reviews") as batch:
        batch.drop_column("verdicts")
