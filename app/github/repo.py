"""The verbs the pipeline uses on one repository, as one installation of the App.

Every method returns our own types (app.github.types) and raises only GitHubError (or its
ReviewRejected): githubkit's and httpx's exceptions are translated in `app.github.caller`.
Reads (`app.github.repo_read`; many files at once: `app.github.blobs`) are retried by the
policy of `app.github.retry`; writes (`app.github.repo_write`) are not repeated once they may
have reached GitHub, and a review is never repeated at all. Review threads (read and
resolved through GraphQL): `app.github.threads`.
"""

from __future__ import annotations

from app.github.blobs import RepoBlobs
from app.github.repo_comments import RepoComments
from app.github.repo_read import RepoReads
from app.github.repo_write import RepoWrites
from app.github.threads import RepoThreads


class RepoClient(RepoReads, RepoBlobs, RepoComments, RepoWrites, RepoThreads):
    """`GitHubApp.repo(installation_id, "owner/name")` makes one; see docs/github.md."""
