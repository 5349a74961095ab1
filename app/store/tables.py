"""The schema, as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL.

Alembic migrations in `migrations/versions/` create exactly this; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on both dialects.

    SQLite keeps no zone, so values are stored as naive UTC and made aware on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
RowId = BigInteger().with_variant(Integer(), "sqlite")
JobId = RowId  # the name migration 0001 uses

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(64), primary_key=True),  # X-GitHub-Delivery
    Column("event", String(64), nullable=False),
    Column("action", String(64)),
    Column("installation_id", BigInteger),
    Column("repository", String(255)),
    Column("outcome", String(16), nullable=False),  # queued | ignored
    Column("received_at", UtcDateTime(), nullable=False),
    # sha256 of the signed body (null: stored before 0007). GitHub's signature covers only the
    # body, so a body seen before under another delivery id is a replay (anyone reading a
    # webhook channel has every signed body); unique, so the insert itself refuses it.
    Column("body_sha256", LargeBinary(32)),
    Index("ix_deliveries_body_sha256", "body_sha256", unique=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", JobId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), ForeignKey("deliveries.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    # queued | running | done | dead | superseded
    Column("status", String(16), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("coalesce_key", String(255)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", UtcDateTime(), nullable=False),
    Column("lease_expires_at", UtcDateTime()),
    Column("locked_by", String(128)),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Index("ix_jobs_status_run_after", "status", "run_after"),
    Index("ix_jobs_coalesce_key_status", "coalesce_key", "status"),
    Index("ix_jobs_delivery_id", "delivery_id"),
)

# One row per review that called the model, or was kept from calling it (over budget, model
# unavailable): what the daily token cap of an installation is counted from.
llm_usage = Table(
    "llm_usage",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("installation_id", BigInteger),  # none for the CLI
    Column("repository", String(255)),  # owner/name
    Column("number", Integer),
    Column("head_sha", String(64)),
    # No foreign key: jobs rows may be pruned, their usage must stay counted.
    Column("job_id", BigInteger),
    Column("model", Text, nullable=False),  # provider ids and ARNs vary in length
    Column("calls", Integer, nullable=False, default=0),
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
    Column("cache_read_tokens", BigInteger, nullable=False, default=0),
    Column("cache_write_tokens", BigInteger, nullable=False, default=0),
    # complete | partial | unusable | unavailable | over-budget | rules-only | explain
    Column("outcome", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_llm_usage_installation_id_created_at", "installation_id", "created_at"),
)

# The last review published on each pull request: what an incremental re-review compares
# against, and where it finds the model's findings on files the new push did not touch.
pull_reviews = Table(
    "pull_reviews",
    metadata,
    Column("repository_id", BigInteger, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("repository", String(255), nullable=False),  # owner/name
    Column("head_sha", String(64), nullable=False),
    Column("base_sha", String(64), nullable=False),
    Column("model_findings", Text, nullable=False),  # JSON list of findings
    Column("conclusion", String(16), nullable=False),  # the check run's
    Column("check_run_id", BigInteger),
    Column("summary_comment_id", BigInteger),
    Column("reviewed_at", UtcDateTime(), nullable=False),
    # JSON: finding id -> severity for every finding of that review, so a dismissal can be
    # judged when it is asked for (null: written before 0004, or not known).
    Column("severities", Text),
    # JSON: model finding id -> null (its verification confirmed it) or why it does not block
    # (refuted), with `model.verify`; reused for the findings the next review carries over.
    Column("verdicts", Text),
    # JSON list: the fixed findings whose threads this review could not close (GitHub refused
    # or failed); the next review tries them again. NULL: none.
    Column("threads_open", Text),
)

# Findings dismissed on a pull request (`/backend-review ignore <id> <reason>`): one row per
# finding id, kept across pushes because the id is a content fingerprint, not a position.
dismissals = Table(
    "dismissals",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("repository_id", BigInteger, nullable=False),
    Column("number", Integer, nullable=False),
    Column("finding_id", String(64), nullable=False),
    Column("by_login", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The dismisser's role on the repository then (null: dismissed before 0004, when write
    # was required): a review applies the base branch's `dismiss` policy to it.
    Column("by_role", String(16)),
    UniqueConstraint("repository_id", "number", "finding_id"),
)

# When each user was last answered with a refusal on a pull request: at most one such reply
# per user per PR per hour, a reaction after that. Rows older than a day are pruned.
command_replies = Table(
    "command_replies",
    metadata,
    Column("repository_id", BigInteger, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("login", String(255), primary_key=True),
    Column("replied_at", UtcDateTime(), nullable=False),
    Index("ix_command_replies_replied_at", "replied_at"),
)
