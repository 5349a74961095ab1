"""Alembic environment: runs on the connection `app.store.migrate` hands over.

Alembic's async template calls asyncio.run(), which fails inside a running loop (the web
app's lifespan), so the caller opens the connection and runs us inside `run_sync`.
"""

from __future__ import annotations

from alembic import context

from app.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `backend-review db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
