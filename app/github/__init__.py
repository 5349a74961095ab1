"""The GitHub adapter: the App's identity and the verbs the pipeline uses on a repository.

`GitHubApp` (auth, token cache, connection pool, retry policy) hands out a `RepoClient` per
installation and repository; both return the types of `app.github.types` and raise only
`GitHubError` / `ReviewRejected`. Webhook signatures are checked in `app.github.webhooks`.
See docs/github.md.
"""

from app.github.client import GitHubApp
from app.github.repo import RepoClient
from app.github.types import (
    CHECK_NAME,
    CheckRun,
    Comment,
    Comparison,
    GitHubError,
    PullDiff,
    PullRequest,
    ReviewRejected,
)

__all__ = [
    "CHECK_NAME",
    "CheckRun",
    "Comment",
    "Comparison",
    "GitHubApp",
    "GitHubError",
    "PullDiff",
    "PullRequest",
    "RepoClient",
    "ReviewRejected",
]
