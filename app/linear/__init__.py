"""The Linear adapter: team keys and issues from Linear's GraphQL API, for review context.

    async with LinearClient(api_key, url) as linear:
        keys = await linear.team_keys()               # frozenset({"ENG", "OPS"}), cached
        found = await linear.issues(["ENG-1", "ENG-2"])  # one request; per-issue LinearError

httpx's exceptions never leave this package: everything is a `LinearError`.
"""

from app.linear.client import LinearClient
from app.linear.errors import LinearError
from app.linear.types import LinearIssue

__all__ = ["LinearClient", "LinearError", "LinearIssue"]
