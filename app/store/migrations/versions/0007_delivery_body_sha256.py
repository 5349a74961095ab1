"""deliveries.body_sha256: the replay guard's memory of signed bodies, across restarts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("body_sha256", sa.LargeBinary(32)))
    op.create_index("ix_deliveries_body_sha256", "deliveries", ["body_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_deliveries_body_sha256", table_name="deliveries")
    # Not batch mode: on SQLite it would copy `deliveries` and drop the old table, and with
    # foreign keys on that drop sets every job's delivery_id to NULL. SQLite 3.35+ drops a
    # column in place.
    op.drop_column("deliveries", "body_sha256")
