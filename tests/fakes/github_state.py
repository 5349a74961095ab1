"""What the fake GitHub knows: plain objects a test sets up and inspects.

`GitHubState` holds the App (id, slug, RSA key pair), installations and their tokens,
repositories (branches, a commit graph, files per ref, diffs per commit pair, collaborators),
pull requests (a diff per head SHA), and everything posted to them: reviews and their comments,
issue comments, reactions, check runs with every annotation. The scenario helpers
(`add_repo`, `add_pull`, `push`, `force_push`, `set_file`, `set_permission`, ...) build that
state the way GitHub would have it; `github_server.FakeGitHub` serves it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import secrets
import string
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.github_objects import (
    DEFAULT_APP_EVENTS,
    DEFAULT_APP_PERMISSIONS,
    PERMISSION_LEVELS,
    CheckRun,
    Commit,
    Installation,
    IssueComment,
    Pull,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    Token,
    User,
)

_TOKEN_CHARS = string.ascii_letters + string.digits


@functools.cache
def shared_key() -> rsa.RSAPrivateKey:
    """One key per test process: generating 2048-bit keys costs ~0.1 s each."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class GitHubState:
    APP_ID = 424242
    APP_SLUG = "backend-review"

    def __init__(
        self,
        *,
        app_id: int = APP_ID,
        app_slug: str = APP_SLUG,
        private_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        key = private_key or shared_key()
        self.private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_key_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.token_ttl = timedelta(hours=1)
        self.clock_offset = timedelta()  # added to the real time: the fake's clock only
        self.lock = threading.RLock()  # the uvicorn thread and the test share this state
        self._ids = itertools.count(1)
        self._users: dict[str, User] = {}
        self.bot = User(f"{app_slug}[bot]", 41898282 + app_id % 1000, "Bot")
        self._users[self.bot.login] = self.bot
        self.app_owner = self.user("acme-platform", "Organization")
        self.app_permissions = dict(DEFAULT_APP_PERMISSIONS)  # what the App asks installs for
        self.app_events: list[str] = list(DEFAULT_APP_EVENTS)  # what the App subscribes to
        self.missing_users: set[str] = set()  # logins GitHub would not know (404)
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}  # lower-cased full name -> repo
        self.pulls: dict[tuple[str, int], Pull] = {}
        self.reviews: list[Review] = []
        self.issue_comments: list[IssueComment] = []
        self.check_runs: list[CheckRun] = []
        self.review_reactions: dict[int, list[Reaction]] = {}
        self.resolved_threads: dict[int, str] = {}  # root review comment id -> who resolved it

    # --- clock and ids -------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.clock_offset

    def advance(self, seconds: float) -> None:
        self.clock_offset += timedelta(seconds=seconds)

    def next_id(self, base: int = 0) -> int:
        return base + next(self._ids)

    def user(self, login: str, type: str = "User") -> User:
        if login not in self._users:
            digest = int(hashlib.sha256(login.encode()).hexdigest()[:6], 16)
            self._users[login] = User(login, 100000 + digest, type)
        return self._users[login]

    # --- the App's side ------------------------------------------------------------------------

    def add_installation(
        self,
        account: str,
        *,
        installation_id: int | None = None,
        repositories: Iterable[str] | None = None,
        permissions: dict[str, str] | None = None,
        account_type: str = "Organization",
    ) -> Installation:
        install = Installation(
            id=installation_id or self.next_id(40000000),
            account=self.user(account, account_type),
            repository_selection="all" if repositories is None else "selected",
            repositories=list(repositories or []),
            permissions=dict(permissions or self.app_permissions),
        )
        self.installations[install.id] = install
        return install

    def issue_token(
        self,
        installation: Installation,
        permissions: dict[str, str] | None = None,
        repositories: list[str] | None = None,
    ) -> Token:
        body = "".join(secrets.choice(_TOKEN_CHARS) for _ in range(36))
        token = Token(
            token=f"ghs_{body}",
            installation_id=installation.id,
            expires_at=self.now() + self.token_ttl,
            permissions=dict(permissions or installation.permissions),
            repositories=repositories,
        )
        self.tokens[token.token] = token
        return token

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    def revoke_all_tokens(self) -> None:
        for token in self.tokens.values():
            token.revoked = True

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = self.now() - timedelta(seconds=1)

    def installation_for(self, repo: Repo) -> Installation | None:
        for install in self.installations.values():
            if install.account.login.lower() != repo.owner.login.lower():
                continue
            if install.repository_selection == "all" or repo.full_name in install.repositories:
                return install
        return None

    # --- repositories --------------------------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        private: bool = True,
        installation_id: int | None = None,
        repo_id: int | None = None,
    ) -> Repo:
        owner, name = full_name.split("/")
        install = self.installations.get(installation_id or 0)
        if install is None:
            install = next(
                (i for i in self.installations.values() if i.account.login == owner), None
            ) or self.add_installation(owner, installation_id=installation_id)
        if install.repository_selection == "selected":
            install.repositories.append(full_name)
        repo = Repo(
            id=repo_id or self.next_id(700000000),
            owner=self.user(owner, install.account.type),
            name=name,
            default_branch=default_branch,
            private=private,
            installation_id=install.id,
        )
        self.repos[full_name.lower()] = repo
        root = self.commit(repo, "Initial commit", parents=[])
        repo.branches[default_branch] = root
        return repo

    def repo(self, full_name: str | Repo) -> Repo:
        if isinstance(full_name, Repo):
            return full_name
        return self.repos[full_name.lower()]

    def commit(
        self,
        repo: Repo,
        message: str,
        *,
        parents: list[str],
        sha: str | None = None,
        author: str = "octocat",
    ) -> str:
        if sha is None:
            seed = f"{repo.full_name}:{message}:{parents}:{self.next_id()}"
            sha = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        repo.commits[sha] = Commit(sha, message, list(parents), author, self.now())
        return sha

    def set_file(self, repo: str | Repo, ref: str, path: str, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.repo(repo).files.setdefault(ref, {})[path] = data

    def remove_file(self, repo: str | Repo, ref: str, path: str) -> None:
        self.repo(repo).files.get(ref, {}).pop(path, None)

    def files_at(self, repo: Repo, ref: str) -> dict[str, bytes] | None:
        """The files at `ref` (branch, `refs/heads/...` or SHA, matched to each other)."""
        ref = ref.removeprefix("refs/heads/")
        names = [ref]
        if ref in repo.branches:
            names.append(repo.branches[ref])
        names += [branch for branch, tip in repo.branches.items() if tip == ref]
        for name in names:
            if name in repo.files:
                return repo.files[name]
        if ref in repo.branches or ref in repo.commits:
            return {}
        return None

    def set_diff(self, repo: str | Repo, base: str, head: str, diff: str) -> None:
        """The diff `compare/{base}...{head}` answers (and its `files`)."""
        self.repo(repo).diffs[(base, head)] = diff

    def set_permission(self, repo: str | Repo, login: str, level: str) -> None:
        if level not in PERMISSION_LEVELS:
            raise ValueError(f"permission must be one of {PERMISSION_LEVELS}")
        self.user(login)
        self.repo(repo).permissions[login] = level

    def resolve(self, repo: Repo, ref: str) -> str | None:
        """The commit SHA a branch name or SHA (full or 7+ characters) names."""
        ref = ref.removeprefix("refs/heads/")
        if ref in repo.branches:
            return repo.branches[ref]
        if ref in repo.commits:
            return ref
        if len(ref) >= 7:
            found = [sha for sha in repo.commits if sha.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    # --- pull requests -------------------------------------------------------------------------

    def add_pull(
        self,
        repo: str | Repo,
        *,
        diff: str,
        number: int | None = None,
        title: str = "Add refunds endpoint",
        body: str | None = "",
        author: str = "octocat",
        head_ref: str = "feature",
        base_ref: str | None = None,
        commits: Iterable[str] = ("Add refunds endpoint",),
        head_sha: str | None = None,
        draft: bool = False,
    ) -> Pull:
        target = self.repo(repo)
        base_ref = base_ref or target.default_branch
        base_sha = target.branches.get(base_ref) or self.commit(
            target, f"Start {base_ref}", parents=[target.branches[target.default_branch]]
        )
        target.branches[base_ref] = base_sha
        shas: list[str] = []
        messages = list(commits) or ["Change"]
        for index, message in enumerate(messages):
            last = index == len(messages) - 1
            parent = shas[-1] if shas else base_sha
            sha = head_sha if last and head_sha else None
            shas.append(self.commit(target, message, parents=[parent], sha=sha, author=author))
        number = number or max((n for (_, n) in self.pulls), default=0) + 1
        pull = Pull(
            repo=target,
            number=number,
            id=self.next_id(1500000000),
            title=title,
            body=body,
            author=self.user(author),
            head_ref=head_ref,
            base_ref=base_ref,
            base_sha=base_sha,
            commit_shas=shas,
            draft=draft,
            created_at=self.now(),
        )
        self._set_head_diff(pull, diff)
        self.pulls[(target.full_name.lower(), number)] = pull
        return pull

    def pull(self, repo: str | Repo, number: int) -> Pull:
        return self.pulls[(self.repo(repo).full_name.lower(), number)]

    def push(
        self,
        pull: Pull,
        diff: str,
        *,
        message: str = "Address review",
        sha: str | None = None,
        delta: str | None = None,
        base_sha: str | None = None,
    ) -> str:
        """A new commit on the PR branch; `diff` is the PR's whole diff at it, `delta` the
        diff from the previous head (what `compare/{old}...{new}` answers)."""
        repo = pull.repo
        old = pull.head_sha
        if base_sha is not None:
            self._move_base(pull, base_sha)
        new = self.commit(repo, message, parents=[old], sha=sha, author=pull.author.login)
        pull.commit_shas.append(new)
        self._set_head_diff(pull, diff)
        if delta is not None:
            repo.diffs[(old, new)] = delta
        return new

    def force_push(
        self,
        pull: Pull,
        diff: str,
        *,
        messages: Iterable[str] = ("Rewrite history",),
        sha: str | None = None,
        base_sha: str | None = None,
    ) -> str:
        """New history for the PR branch from its base: the old head is no ancestor of it."""
        repo = pull.repo
        if base_sha is not None:
            self._move_base(pull, base_sha)
        shas: list[str] = []
        messages = list(messages) or ["Rewrite history"]
        for index, message in enumerate(messages):
            parent = shas[-1] if shas else pull.base_sha
            own = sha if index == len(messages) - 1 else None
            shas.append(self.commit(repo, message, parents=[parent], sha=own))
        pull.commit_shas = shas
        self._set_head_diff(pull, diff)
        return pull.head_sha

    def _move_base(self, pull: Pull, base_sha: str) -> None:
        repo = pull.repo
        if base_sha not in repo.commits:
            self.commit(repo, f"Advance {pull.base_ref}", parents=[pull.base_sha], sha=base_sha)
        pull.base_sha = base_sha
        repo.branches[pull.base_ref] = base_sha

    def _set_head_diff(self, pull: Pull, diff: str) -> None:
        pull.diffs[pull.head_sha] = diff
        pull.repo.diffs[(pull.base_sha, pull.head_sha)] = diff
        pull.repo.branches[pull.head_ref] = pull.head_sha

    # --- what people and the bot posted --------------------------------------------------------

    def add_issue_comment(
        self, repo: str | Repo, number: int, author: str, body: str
    ) -> IssueComment:
        """A comment by someone other than the bot (a slash command, say)."""
        moment = self.now()
        comment = IssueComment(
            self.next_id(2000000000), number, self.repo(repo).full_name,
            self.user(author), body, moment, moment,
        )  # fmt: skip
        self.issue_comments.append(comment)
        return comment

    def add_thread_reply(self, parent: ReviewComment, author: str, body: str) -> ReviewComment:
        """Someone's reply in the thread of `parent` (a review of its own, as on GitHub)."""
        root_id = parent.in_reply_to_id or parent.id
        moment = self.now()
        user = self.user(author)
        review = Review(
            self.next_id(80000000), parent.pull_number, parent.repo, user, "", "COMMENTED",
            parent.commit_id, moment,
        )  # fmt: skip
        reply = dataclasses.replace(
            parent, id=self.next_id(2100000000), review_id=review.id, user=user, body=body,
            in_reply_to_id=root_id, created_at=moment, updated_at=moment,
        )  # fmt: skip
        review.comments.append(reply)
        self.reviews.append(review)
        return reply

    def resolve_thread(self, root: ReviewComment, by: str = "octocat") -> None:
        """A person clicks "Resolve conversation"."""
        self.resolved_threads[root.in_reply_to_id or root.id] = by

    def reviews_on(self, repo: str | Repo, number: int, *, by_bot: bool = True) -> list[Review]:
        name = self.repo(repo).full_name
        return [
            r for r in self.reviews
            if r.repo == name and r.pull_number == number and (not by_bot or r.user == self.bot)
        ]  # fmt: skip

    def review_comments_on(
        self, repo: str | Repo, number: int, *, by_bot: bool = True
    ) -> list[ReviewComment]:
        return [c for r in self.reviews_on(repo, number, by_bot=by_bot) for c in r.comments]

    def issue_comments_on(
        self, repo: str | Repo, number: int, *, by_bot: bool = True
    ) -> list[IssueComment]:
        name = self.repo(repo).full_name
        return [
            c for c in self.issue_comments
            if c.repo == name and c.issue_number == number and (not by_bot or c.user == self.bot)
        ]  # fmt: skip

    def check_runs_for(
        self, repo: str | Repo, head_sha: str | None = None, name: str | None = None
    ) -> list[CheckRun]:
        full = self.repo(repo).full_name
        return [
            run for run in self.check_runs
            if run.repo == full
            and (head_sha is None or run.head_sha == head_sha)
            and (name is None or run.name == name)
        ]  # fmt: skip
