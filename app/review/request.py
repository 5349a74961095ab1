"""What one review is of: the diff and everything the core needs beside it.

Built by the review job (from GitHub, the database and Linear) and by the CLI (from a local
diff); the core turns it into a plan, with the model's answers when there are any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.review.diff import Diff
from app.review.dismissal import DismissalRecord
from app.review.file_context import EMPTY, FileContext
from app.review.findings import Finding
from app.review.persona import Checklist, Persona
from app.review.prompt import PullRequestText, TicketText
from app.review.repo_config import RepoConfig


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    diff: Diff
    config: RepoConfig
    persona: Persona
    checklists: tuple[Checklist, ...]  # the persona's, or the default persona's if it has none
    pr: PullRequestText | None = None
    tickets: tuple[TicketText, ...] = ()
    dismissed: Mapping[str, str] = field(default_factory=dict)  # id -> who and why
    not_reviewed: Mapping[str, str] = field(default_factory=dict)  # the caller could not fetch
    notices: tuple[str, ...] = ()
    previous: Mapping[str, str] = field(default_factory=dict)  # ids on the PR -> their titles
    resolved_in: str | None = None  # the head commit, for "resolved in"
    # Incremental re-review: only these paths go to the model (None: all), and the model's
    # findings of the last review on the other files are kept as they were.
    model_scope: frozenset[str] | None = None
    carried: tuple[Finding, ...] = ()
    # `model.verify`'s verdicts of the last review (id -> None: confirmed, or why it does not
    # block): a carried finding keeps its verdict instead of being verified again, so a
    # verifier's second opinion cannot flip it on a push that leaves its file alone.
    verdicts: Mapping[str, str | None] = field(default_factory=dict)
    # Linked issues: what could not be read (for the summary's missing context), and whether
    # the repository requires a link and the pull request has none.
    missing_context: tuple[str, ...] = ()
    missing_issue: bool = False
    # Stored dismissals, judged against `config.dismiss` once every finding's severity is known
    # (`dismissed` above: already decided, e.g. by the CLI), and whose pull request it is.
    dismissals: tuple[DismissalRecord, ...] = ()
    pr_author: str | None = None
    # The changed files' whole texts (and modules one import away), where they were gathered:
    # the rules read them, the prompt shows each hunk in its function; without them both read
    # the hunks alone. Its notes (what could not be read) are missing context.
    files: FileContext = EMPTY

    def missing(self) -> tuple[str, ...]:
        """What the review could not read: linked issues, whole files."""
        return (*self.missing_context, *self.files.notes)
