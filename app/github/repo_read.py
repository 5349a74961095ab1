"""RepoClient's reads: pull requests, diffs, comparisons, files, comments, check runs,
permissions. Each is retried by the policy of `app.github.retry`."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from app.github import parse
from app.github.files_diff import FILES_LIST_LIMIT, diff_from_files
from app.github.parse import read, read_data
from app.github.repo_base import RepoBase
from app.github.types import (
    CHECK_NAME,
    CheckRun,
    Comment,
    Comparison,
    GitHubError,
    Permission,
    PullDiff,
    PullRequest,
)

DIFF_MEDIA_TYPE = "application/vnd.github.diff"
MAX_FILE_BYTES = 1_000_000  # the contents API inlines files up to 1 MB


class RepoReads(RepoBase):
    async def pull(self, number: int) -> PullRequest:
        response = await self._call(
            lambda: self._rest.pulls.async_get(self.owner, self.name, number)
        )
        return read(f"pull request #{number}", parse.pull_request, response)

    async def pull_diff(self, number: int) -> PullDiff:
        """The diff media type; when GitHub refuses it (406, too large), the files list."""
        try:
            response = await self._call(
                lambda: self._rest.pulls.async_get(
                    self.owner, self.name, number, headers={"Accept": DIFF_MEDIA_TYPE}
                )
            )
        except GitHubError as exc:
            if exc.status != 406:
                raise
        else:
            return PullDiff(text=response.text, source="diff")
        entries = await self._list(
            self._rest.pulls.async_list_files,
            f"the files of #{number}",
            limit=FILES_LIST_LIMIT,
            pull_number=number,
        )
        return read_data(
            f"the files of #{number}",
            lambda data: diff_from_files(data, refused="406: too large for the diff media type"),
            entries,
        )

    async def compare(self, base: str, head: str) -> Comparison:
        """`base...head`. An unknown commit is a 404 GitHubError (not transient)."""
        response = await self._call(
            lambda: self._rest.repos.async_compare_commits(
                self.owner, self.name, f"{base}...{head}"
            )
        )
        return read(f"the comparison {base[:12]}...{head[:12]}", parse.comparison, response)

    async def file_text(
        self, ref: str, path: str, *, max_bytes: int = MAX_FILE_BYTES
    ) -> str | None:
        """The file's text at `ref`, or None when there is no file there (404, a directory,
        a symlink or submodule). A file over `max_bytes`, or not UTF-8 text, raises a
        non-transient GitHubError: a config file we cannot read must be reported, not taken for
        absent.
        """
        if "?" in path or "#" in path:
            # githubkit's App auth rebuilds the decoded path as a URL and fails on these.
            raise GitHubError(f"cannot read {path!r}: '?' and '#' in paths are not supported")
        response = await self._call_or_none(
            lambda: self._rest.repos.async_get_content(
                self.owner, self.name, quote(path.lstrip("/"), safe="/"), ref=ref
            )
        )
        if response is None:
            return None
        data = read(path, lambda d: d, response)
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        size = data.get("size")
        encoding = data.get("encoding")
        if (isinstance(size, int) and size > max_bytes) or encoding == "none":
            raise GitHubError(f"{path} at {ref[:12]} is too large to read ({size} bytes)")
        try:
            raw = base64.b64decode(str(data["content"]))
            if b"\x00" in raw:
                raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
            return raw.decode("utf-8")
        except (KeyError, binascii.Error):
            raise GitHubError(f"unexpected answer from GitHub for {path}") from None
        except UnicodeDecodeError:
            raise GitHubError(f"{path} at {ref[:12]} is not UTF-8 text") from None

    async def comments(self, number: int) -> list[Comment]:
        """The pull request's issue comments, then its review comments, every page of both."""
        return [*await self.issue_comments(number), *await self.review_comments(number)]

    async def issue_comments(self, number: int) -> list[Comment]:
        """The pull request's conversation comments, every page."""
        found = await self._list(
            self._rest.issues.async_list_comments,
            f"the comments of #{number}",
            issue_number=number,
        )
        return read_data(
            f"the comments of #{number}", lambda d: [parse.comment(c, "issue") for c in d], found
        )

    async def review_comments(self, number: int) -> list[Comment]:
        """The pull request's review comments (on lines and files), every page."""
        found = await self._list(
            self._rest.pulls.async_list_review_comments,
            f"the review comments of #{number}",
            pull_number=number,
        )
        return read_data(
            f"the review comments of #{number}",
            lambda d: [parse.comment(c, "review") for c in d],
            found,
        )

    async def commit_messages(self, number: int, *, limit: int = 250) -> list[str]:
        """The messages of the pull request's commits, oldest first (GitHub lists 250 at most)."""
        commits = await self._list(
            self._rest.pulls.async_list_commits,
            f"the commits of #{number}",
            limit=limit,
            pull_number=number,
        )
        return read_data(
            f"the commits of #{number}",
            lambda data: [str(c["commit"]["message"]) for c in data],
            commits,
        )

    async def check_runs(self, ref: str) -> list[CheckRun]:
        """Our check runs (named CHECK_NAME) on `ref`."""
        runs = await self._list(
            self._rest.checks.async_list_for_ref,
            f"the check runs of {ref[:12]}",
            key="check_runs",
            ref=quote(ref, safe="/"),
            check_name=CHECK_NAME,
        )
        return read_data(
            f"the check runs of {ref[:12]}",
            lambda d: [parse.check_run(r) for r in d if r.get("name") == CHECK_NAME],
            runs,
        )

    async def permission(self, login: str) -> Permission:
        """The user's role on the repository; "none" for someone GitHub does not know here."""
        try:
            response = await self._call(
                lambda: self._rest.repos.async_get_collaborator_permission_level(
                    self.owner, self.name, quote(login, safe="")
                )
            )
        except GitHubError as exc:
            if exc.status == 404:
                return "none"
            raise
        return read(f"the permission of {login}", parse.permission, response)

    async def pulls_for_commit(self, sha: str) -> list[int]:
        """Numbers of the pull requests that contain the commit, open or closed."""
        pulls = await self._list(
            self._rest.repos.async_list_pull_requests_associated_with_commit,
            f"the pulls of {sha[:12]}",
            commit_sha=sha,
        )
        return read_data(f"the pulls of {sha[:12]}", lambda d: [int(p["number"]) for p in d], pulls)
