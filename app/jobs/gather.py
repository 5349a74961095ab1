"""The gather step of a review: everything it needs from GitHub, the database and Linear, read
in one place (`gather_review`) and returned as one value (`ReviewInputs`). The config and
persona readers and what the bot already said are shared with the commands.

The changed files' whole texts are read in one GitHub call (two with a module one import
away; `app.jobs.files`). The config and a repository persona are read at the **base** commit:
a pull request must not be able to switch its own gate off or rewrite its reviewer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import PermanentJobError
from app.github.repo import RepoClient
from app.github.types import Comment, GitHubError, PullDiff, PullRequest
from app.jobs.context import JobContext
from app.jobs.context_limits import context_limits
from app.jobs.cpu_budget import CpuRunner, InlineCpu
from app.jobs.cpu_pool import CpuTaskError, OverBudget
from app.jobs.files import read_files
from app.jobs.payloads import FULL_REVIEW_TRIGGER, ReviewJob
from app.jobs.persona_files import load_persona_file
from app.jobs.tickets import LinkedIssues, linked_issues, wants_commits
from app.jobs.usage import tokens_left_today
from app.review.diff import Diff, DiffParseError, parse_diff
from app.review.dismissal import DismissalRecord
from app.review.file_context import EMPTY, FileContext
from app.review.findings import Finding
from app.review.markers import finding_ids, is_summary
from app.review.persona import (
    DEFAULT_PERSONA,
    REPO_PERSONAS_DIR,
    Checklist,
    Persona,
    PersonaError,
    checklists_for,
    parse_persona,
    persona_file_name,
)
from app.review.render import posted_title
from app.review.repo_config import CONFIG_PATH, RepoConfig, RepoConfigError, parse_repo_config
from app.store.reviews import StoredReview

log = logging.getLogger(__name__)

INLINE_PARSE_CHARS = 32_768


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    config: RepoConfig
    problem: str | None  # the file exists but cannot be used: the defaults apply, and we say so


async def load_config(repo: RepoClient, base_sha: str) -> LoadedConfig:
    try:
        text = await repo.file_text(base_sha, CONFIG_PATH)
    except GitHubError as exc:
        if exc.transient:
            raise
        return LoadedConfig(RepoConfig(), f"{CONFIG_PATH} could not be read: {exc.reason}")
    if text is None:
        return LoadedConfig(RepoConfig(), None)
    try:
        return LoadedConfig(parse_repo_config(text), None)
    except RepoConfigError as exc:
        return LoadedConfig(RepoConfig(), f"{CONFIG_PATH}: {'; '.join(exc.problems)}")


@dataclass(frozen=True, slots=True)
class LoadedPersona:
    persona: Persona
    checklists: tuple[Checklist, ...]
    problem: str | None  # the configured persona could not be used: the default applies


async def load_persona(
    repo: RepoClient, base_sha: str, name: str | None, bundled_dir: Path
) -> LoadedPersona:
    """The configured persona: the repository's file at the base commit, else a bundled one.

    Without a name, the bundled default (no API call). A persona that cannot be found or
    parsed is reported and the default used, so a typo does not stop the review.
    """
    default = _bundled(DEFAULT_PERSONA, bundled_dir)
    if name is None:
        return LoadedPersona(default, default.checklists, None)
    try:
        persona = await _named(repo, base_sha, name, bundled_dir)
    except PersonaError as exc:
        return LoadedPersona(default, default.checklists, f"persona {name!r}: {exc}")
    return LoadedPersona(persona, checklists_for(persona, default.checklists).checklists, None)


async def _named(repo: RepoClient, base_sha: str, name: str, bundled_dir: Path) -> Persona:
    file_name = persona_file_name(name)
    path = f"{REPO_PERSONAS_DIR}/{file_name}"
    try:
        text = await repo.file_text(base_sha, path)
    except GitHubError as exc:
        if exc.transient:
            raise
        raise PersonaError(f"{path} could not be read: {exc.reason}") from None
    if text is not None:
        return parse_persona(text, source=path)
    return _bundled(name, bundled_dir)


def _bundled(name: str, bundled_dir: Path) -> Persona:
    path = bundled_dir / persona_file_name(name)
    if not path.is_file():
        raise PersonaError(f"not found in {REPO_PERSONAS_DIR}/ nor among the bundled personas")
    return load_persona_file(path, label=f"{bundled_dir.name}/{path.name}")


@dataclass(frozen=True, slots=True)
class OnThePr:
    """What the bot already said on the pull request (GitHub is the record, not our database)."""

    previous: dict[str, str] = field(default_factory=dict)  # finding id -> title ("" unknown)
    summary_comment_id: int | None = None
    # Our finding comments that start a review thread: comment id -> finding id.
    threads: dict[int, str] = field(default_factory=dict)


def read_our_comments(comments: list[Comment], bot_login: str) -> OnThePr:
    """Finding ids from our comments' markers and our summary; other people's are ignored:
    anyone can write a marker into their own comment."""
    previous: dict[str, str] = {}
    summary_id: int | None = None
    threads: dict[int, str] = {}
    for comment in comments:
        if comment.author != bot_login:
            continue
        if comment.kind == "issue" and is_summary(comment.body):
            summary_id = summary_id or comment.id
            for finding_id in finding_ids(comment.body):
                previous.setdefault(finding_id, "")
        elif comment.kind == "review":
            title = posted_title(comment.body)
            ids = finding_ids(comment.body)
            for finding_id in ids:
                if title or finding_id not in previous:
                    previous[finding_id] = title
            if len(ids) == 1 and comment.in_reply_to is None:
                threads[comment.id] = next(iter(ids))
    return OnThePr(previous, summary_id, threads)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which files the model sees this time, and the last review's findings to keep."""

    files: frozenset[str] | None  # None: all (a full review)
    carried: tuple[Finding, ...]
    why: str  # for the log


@dataclass(frozen=True, slots=True)
class ReviewInputs:
    """Everything one review reads from outside the core, read in one step (`gather_review`):
    after it the review is pure until it publishes."""

    pr: PullRequest
    config: LoadedConfig  # from the base commit
    persona: LoadedPersona
    diff: Diff
    pull_diff: PullDiff  # what GitHub could not give a patch for, and how the diff was read
    on_pr: OnThePr  # our previous comments and summary on the pull request
    last: StoredReview | None  # our previous review of the pull request
    scope: Scope
    dismissals: tuple[DismissalRecord, ...]  # who dismissed what, their role, when, why
    linked: LinkedIssues
    tokens_left: int  # the installation's model budget left today (may be < 0)
    # The changed files' whole texts at head and base (and the modules their routes import),
    # within the settings' limits; its notes say what could not be read (then: the hunks).
    files: FileContext = EMPTY


async def gather_review(
    ctx: JobContext,
    repo: RepoClient,
    request: ReviewJob,
    pr: PullRequest,
    loaded: LoadedConfig,
    cpu: CpuRunner | None = None,
) -> ReviewInputs:
    """Read what the review of `pr` needs from GitHub, the database and Linear.

    A diff GitHub sends that we cannot parse is a PermanentJobError: retrying reads the same.
    """
    config = loaded.config
    persona = await load_persona(repo, pr.base_sha, config.persona, ctx.personas_dir)
    pull_diff = await repo.pull_diff(pr.number)
    diff = await _parse(cpu, pull_diff.text)
    last = await ctx.store.last_review(request.repository_id, pr.number)
    on_pr = await _our_comments(ctx, repo, pr.number, last)
    read = await read_files(
        repo,
        diff,
        head_sha=pr.head_sha,
        base_sha=pr.base_sha,
        ignore=config.ignore,
        limits=context_limits(ctx.settings),
        commits_of=pr.number if wants_commits(ctx.linear, config.linear) else None,
    )
    log.info("read %d whole file(s) in %d GitHub call(s)", len(read.context.files), read.calls)
    linked = await linked_issues(ctx.linear, config.linear, repo, pr, commits=read.commit_messages)
    if any(t.criteria for t in linked.tickets):
        # Acceptance criteria are judged on the whole change, not on the last push alone.
        scope = Scope(None, (), "full review: linked issues have acceptance criteria")
    elif request.trigger in ("command.review", "pull_request.edited", FULL_REVIEW_TRIGGER):
        scope = Scope(None, (), f"full review: {request.trigger}")
    else:
        scope = await _scope(repo, pr, last)
    return ReviewInputs(
        pr=pr,
        config=loaded,
        persona=persona,
        diff=diff,
        pull_diff=pull_diff,
        on_pr=on_pr,
        last=last,
        scope=scope,
        dismissals=tuple(await ctx.store.dismissal_records(request.repository_id, pr.number)),
        linked=linked,
        tokens_left=await tokens_left_today(
            ctx.store,
            request.installation_id,
            daily_cap=ctx.settings.llm_daily_tokens,
            now=ctx.now(),
        ),
        files=read.context,
    )


async def _parse(cpu: CpuRunner | None, text: str) -> Diff:
    """The diff, parsed off the event loop (`cpu`) within the review's budget. A small one is
    parsed in place: the parser is linear, a few milliseconds at INLINE_PARSE_CHARS, less than
    the hop to a worker process and back."""
    if len(text) <= INLINE_PARSE_CHARS:
        cpu = InlineCpu()
    try:
        return await (cpu or InlineCpu()).run(parse_diff, text)
    except DiffParseError as exc:
        raise PermanentJobError(f"the diff GitHub sent could not be read: {exc}") from None
    except CpuTaskError as exc:
        if exc.kind != "DiffParseError":
            raise
        raise PermanentJobError(f"the diff GitHub sent could not be read: {exc}") from None
    except OverBudget as exc:
        raise PermanentJobError(
            f"the diff could not be read within the review's CPU budget ({exc})"
        ) from None


async def _our_comments(
    ctx: JobContext, repo: RepoClient, number: int, last: StoredReview | None
) -> OnThePr:
    """Our summary (by the id the last review stored, when there is one) and our own review
    comments: a bounded number of reads, however many comments others add. On a pull request
    with no summary of ours that is one read, and the App's name (`GET /app`, once per process)
    is not needed: publishing posts the summary before anything else."""
    ours = await repo.our_comments(
        number,
        bot_login=ctx.github.bot_login,
        is_summary=is_summary,
        summary_id=last.summary_comment_id if last else None,
    )
    if ours.truncated:
        log.warning("#%d: more comments or reviews than we read back; some may be missed", number)
    if not ours.comments:
        return OnThePr()
    return read_our_comments(ours.comments, await ctx.github.bot_login())


async def _scope(repo: RepoClient, pr: PullRequest, stored: StoredReview | None) -> Scope:
    """Full review unless the last one was of an ancestor of this head (a plain push)."""
    if stored is None:
        return Scope(None, (), "full review: none before")
    if stored.head_sha == pr.head_sha:
        return Scope(frozenset(), stored.model_findings, "same head: the model is not asked")
    try:
        comparison = await repo.compare(stored.head_sha, pr.head_sha)
    except GitHubError as exc:
        if exc.transient:
            raise
        return Scope(None, (), f"full review: {stored.head_sha[:12]} is gone ({exc.reason})")
    if comparison.status != "ahead":
        why = f"full review: {comparison.status} from {stored.head_sha[:12]} (force-push or rebase)"
        return Scope(None, (), why)
    if comparison.files_truncated:
        return Scope(None, (), "full review: the push changed more files than GitHub lists")
    files = frozenset(comparison.files)
    why = f"incremental: {len(files)} file(s) changed since {stored.head_sha[:12]}"
    return Scope(files, stored.model_findings, why)
