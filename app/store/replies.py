"""How often a user is answered with a refusal on a pull request: at most once per window
(an hour by default), so a stranger posting `/backend-review` a thousand times costs a thousand
reactions, not a thousand comments under the bot's name.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.db import run_transaction
from app.store.tables import command_replies

REPLY_WINDOW = timedelta(hours=1)
_KEEP = timedelta(days=1)  # rows older than this cannot throttle anything: pruned

_C = command_replies.c
_KEY = (
    (_C.repository_id == bindparam("p_repository_id"))
    & (_C.number == bindparam("p_number"))
    & (_C.login == bindparam("p_login"))
)
_RENEW = (
    update(command_replies)
    .where(_KEY, _C.replied_at <= bindparam("p_before"))
    .values(replied_at=bindparam("p_now"))
    .returning(_C.login)
)
_PRUNE = delete(command_replies).where(_C.replied_at < bindparam("p_stale"))


@functools.cache
def _insert(dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(command_replies)
        .on_conflict_do_nothing(index_elements=["repository_id", "number", "login"])
        .returning(_C.login)
    )


async def may_reply(
    engine: AsyncEngine,
    repository_id: int,
    number: int,
    login: str,
    *,
    now: datetime,
    window: timedelta = REPLY_WINDOW,
) -> bool:
    """True (and the reply recorded at `now`) when `login` has not been answered on this PR
    within `window`; False otherwise. Two jobs asking at once: one gets True."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    key = {"p_repository_id": repository_id, "p_number": number, "p_login": login.casefold()}
    row: dict[str, Any] = {
        "repository_id": repository_id,
        "number": number,
        "login": login.casefold(),
        "replied_at": now,
    }

    def work(conn: Connection) -> bool:
        conn.execute(_PRUNE, {"p_stale": now - max(_KEEP, window)})
        if conn.execute(_RENEW, key | {"p_before": now - window, "p_now": now}).first():
            return True
        return conn.execute(_insert(conn.dialect.name), row).first() is not None

    return await run_transaction(engine, work)
