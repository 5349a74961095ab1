"""The Linear issues a pull request links, read for the review; never a reason to fail it.

    branch, title, body, commit messages ─► references (core) ─► drop false friends
      ─► none left: no call to Linear at all
      ─► the workspace's team keys (cached) ─► accepted references (at most 5)
      ─► one GraphQL request for the issues ─► ticket text and acceptance criteria

Every way Linear can fail (unreachable, a bad key, an unknown identifier, a rate limit) ends
as a line of missing context in the summary, and the review goes on without that issue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.github.repo import RepoClient
from app.github.types import GitHubError, PullRequest
from app.linear.client import LinearClient
from app.linear.errors import LinearError
from app.linear.types import LinearIssue
from app.review.criteria import acceptance_criteria
from app.review.prompt import TicketText
from app.review.repo_config import LinearConfig
from app.review.tickets import MAX_ISSUES_PER_PR, accept_refs, candidate_refs, find_issue_refs

log = logging.getLogger(__name__)

# Characters of issue descriptions in one prompt, all linked issues together (~8k tokens).
TICKETS_TEXT_CHARS = 24_000


@dataclass(frozen=True, slots=True)
class LinkedIssues:
    tickets: tuple[TicketText, ...] = ()
    missing_context: tuple[str, ...] = ()
    missing_issue: bool = False  # the repository requires a link and none was found
    commit_messages: tuple[str, ...] = ()


def wants_commits(linear: LinearClient | None, config: LinearConfig) -> bool:
    """Commit messages cost a call: read them when Linear can be asked about what they name, or
    when a link is required (one named only in a commit still counts)."""
    return config.enabled and (linear is not None or config.require_issue)


async def linked_issues(
    linear: LinearClient | None,
    config: LinearConfig,
    repo: RepoClient,
    pr: PullRequest,
    *,
    commits: tuple[str, ...] | None = None,
) -> LinkedIssues:
    """The pull request's linked issues; `commits`: its commit messages when already read (the
    gather step asks for them with the files), else they are listed here if wanted."""
    if not config.enabled:
        return LinkedIssues()
    if not wants_commits(linear, config):
        commits = ()
    elif commits is None:
        commits = await _commit_messages(repo, pr.number)
    refs = candidate_refs(
        find_issue_refs(branch=pr.head_ref, title=pr.title, body=pr.body, commits=commits)
    )
    if not refs:
        return LinkedIssues(
            missing_context=("No Linear issue is linked to this pull request.",),
            missing_issue=config.require_issue,
            commit_messages=commits,
        )
    if linear is None:
        names = ", ".join(r.identifier for r in refs[:MAX_ISSUES_PER_PR])
        return LinkedIssues(
            missing_context=(f"Linked issues not read ({names}): LINEAR_API_KEY is not set.",),
            commit_messages=commits,
        )
    try:
        teams = await linear.team_keys()
    except LinearError as exc:
        names = ", ".join(r.identifier for r in refs[:MAX_ISSUES_PER_PR])
        return LinkedIssues(
            missing_context=(f"Linked issues not read ({names}): {exc.reason}.",),
            commit_messages=commits,
        )
    accepted, notes = accept_refs(refs, teams)
    if not accepted:
        return LinkedIssues(
            missing_context=("No Linear issue is linked to this pull request.", *notes),
            missing_issue=config.require_issue,
            commit_messages=commits,
        )
    try:
        answers = await linear.issues([r.identifier for r in accepted])
    except LinearError as exc:
        names = ", ".join(r.identifier for r in accepted)
        return LinkedIssues(
            missing_context=(f"Linked issues not read ({names}): {exc.reason}.", *notes),
            commit_messages=commits,
        )
    tickets: list[TicketText] = []
    missing = list(notes)
    room = TICKETS_TEXT_CHARS // len(accepted)  # shared, so five long issues leave room for a diff
    for ref in accepted:
        answer = answers.get(ref.identifier)
        if isinstance(answer, LinearIssue):
            tickets.append(_ticket(answer, room))
        else:
            reason = answer.reason if answer is not None else "no answer"
            missing.append(f"{ref.identifier} could not be read: {reason}.")
    log.info("linked issues: %d read, %d not", len(tickets), len(accepted) - len(tickets))
    return LinkedIssues(
        tickets=tuple(tickets), missing_context=tuple(missing), commit_messages=commits
    )


async def _commit_messages(repo: RepoClient, number: int) -> tuple[str, ...]:
    try:
        return tuple(await repo.commit_messages(number))
    except GitHubError as exc:
        if exc.transient:
            raise
        return ()  # the branch, title and body still count


def _ticket(issue: LinearIssue, room: int) -> TicketText:
    meta = [f"State: {issue.state}", f"Priority: {issue.priority_label}"]
    if issue.labels:
        meta.append("Labels: " + ", ".join(issue.labels))
    if issue.parent is not None:
        meta.append(f"Parent: {issue.parent[0]} {issue.parent[1]}")
    if issue.project:
        meta.append(f"Project: {issue.project}")
    description = issue.description or "(no description)"
    if len(description) > room:
        # The criteria are kept whole (they are parsed from the full text); the prose is cut.
        description = description[:room] + "\n…[cut: the issue is longer]"
    text = "\n".join(meta) + "\n\n" + description
    return TicketText(
        identifier=issue.identifier,
        title=issue.title,
        url=issue.url,
        text=text,
        criteria=acceptance_criteria(issue.description),
    )
