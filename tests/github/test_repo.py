"""RepoClient's verbs against GitHub faked at the wire: what is sent, what comes back."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from app.github.types import CHECK_NAME, GitHubError, ReviewRejected
from app.review.diff import parse_diff
from app.review.plan import Annotation, InlineComment
from tests.github.respx_github import (
    API,
    BASE_SHA,
    HEAD_SHA,
    INSTALLATION,
    REPO,
    error,
    github,
    next_link,
    pull_json,
    user,
)

PULLS = f"/repos/{REPO}/pulls"


def sent(route: Any, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


# -- pull requests -----------------------------------------------------------------------------


async def test_pull_reads_the_fields_the_pipeline_needs() -> None:
    async with github() as (router, app, _, _):
        router.get(f"{PULLS}/7").mock(return_value=httpx.Response(200, json=pull_json()))
        router.get(f"{PULLS}/8").mock(
            return_value=httpx.Response(
                200,
                json=pull_json(
                    8,
                    body=None,
                    draft=True,
                    state="closed",
                    merged=True,
                    head={"ref": "gone", "sha": HEAD_SHA, "repo": None},
                ),
            )
        )
        repo = app.repo(INSTALLATION, REPO)
        pr = await repo.pull(7)
        deleted_fork = await repo.pull(8)

    assert (pr.number, pr.title, pr.body, pr.author) == (
        7,
        "Add refunds endpoint",
        "Implements PAY-12.",
        "octocat",
    )
    assert (pr.head_sha, pr.head_ref, pr.base_sha, pr.base_ref) == (
        HEAD_SHA,
        "refunds",
        BASE_SHA,
        "main",
    )
    assert pr.head_repo == "octocat/payments"
    assert (pr.state, pr.draft, pr.merged) == ("open", False, False)
    assert deleted_fork.head_repo is None
    assert deleted_fork.body == ""
    assert (deleted_fork.state, deleted_fork.draft, deleted_fork.merged) == ("closed", True, True)


async def test_pull_diff_asks_for_the_diff_media_type() -> None:
    diff = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a\n+b\n"
    async with github() as (router, app, _, _):
        route = router.get(f"{PULLS}/7").mock(
            return_value=httpx.Response(
                200, text=diff, headers={"content-type": "text/plain; charset=utf-8"}
            )
        )
        result = await app.repo(INSTALLATION, REPO).pull_diff(7)

    assert route.calls.last.request.headers["accept"] == "application/vnd.github.diff"
    assert result.text == diff
    assert result.source == "diff"
    assert result.unseen == {}
    assert result.note is None


def _file(name: str, status: str = "modified", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "sha": "c" * 40,
        "filename": name,
        "status": status,
        "additions": 1,
        "deletions": 1,
        "changes": 2,
        "blob_url": f"https://github.com/{REPO}/blob/{HEAD_SHA}/{name}",
        "patch": "@@ -1 +1 @@\n-old\n+new",
    }
    entry.update(extra)
    return {k: v for k, v in entry.items() if v is not None}


async def test_diff_too_large_falls_back_to_the_paginated_files_list() -> None:
    page2 = f"{API}/repositories/1296269/pulls/7/files?per_page=100&page=2"
    first = [_file(f"src/mod{i}.py") for i in range(99)] + [
        _file("assets/logo.png", "added", patch=None, additions=0, deletions=0, changes=0)
    ]
    second = [
        _file("db/dump.sql", patch=None, additions=30_000, deletions=0, changes=30_000),
        _file("new file.py", "added", patch="@@ -0,0 +1,2 @@\n+a\n+b", deletions=0),
        _file("gone.py", "removed", patch="@@ -1 +0,0 @@\n-x", additions=0),
        _file("pkg/new.py", "renamed", previous_filename="pkg/old.py"),
        _file("pkg/moved.py", "renamed", previous_filename="pkg/was.py", patch=None, changes=0),
    ]
    async with github() as (router, app, _, _):
        router.get(f"{PULLS}/7").mock(
            return_value=error(
                406,
                "Sorry, the diff exceeded the maximum number of files (300). Consider using "
                "'List pull requests files' API or locally cloning the repository instead.",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
            )
        )
        files = router.get(f"{PULLS}/7/files").mock(
            return_value=httpx.Response(200, json=first, headers=next_link(page2))
        )
        later = router.get("/repositories/1296269/pulls/7/files").mock(
            return_value=httpx.Response(200, json=second)
        )
        result = await app.repo(INSTALLATION, REPO).pull_diff(7)

    assert files.calls.last.request.url.params["per_page"] == "100"
    assert later.calls.last.request.url.params["page"] == "2"
    assert result.source == "files"
    assert result.note is not None
    assert "files list (105 files)" in result.note
    assert result.unseen == {
        "assets/logo.png": "GitHub sent no patch (binary file)",
        "db/dump.sql": "GitHub sent no patch (too large to show)",
    }
    parsed = parse_diff(result.text)
    by_path = {f.path: f for f in parsed.files}
    assert len(by_path) == 105
    assert by_path["new file.py"].status == "added"
    assert [ln.new_no for ln in by_path["new file.py"].lines()] == [1, 2]
    assert by_path["gone.py"].status == "removed"
    assert by_path["pkg/new.py"].status == "renamed"
    assert by_path["pkg/new.py"].old_path == "pkg/old.py"
    assert by_path["pkg/moved.py"].old_path == "pkg/was.py"
    assert by_path["src/mod0.py"].added == 1
    assert by_path["assets/logo.png"].hunks == ()


async def test_other_diff_errors_are_not_hidden_by_the_fallback() -> None:
    async with github() as (router, app, _, _):
        router.get(f"{PULLS}/7").mock(return_value=error(404, "Not Found"))
        files = router.get(f"{PULLS}/7/files").mock(return_value=httpx.Response(200, json=[]))

        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).pull_diff(7)

    assert caught.value.status == 404
    assert files.call_count == 0


async def test_files_list_page_failing_once_is_fetched_again_not_restarted() -> None:
    page2 = f"{API}/repos/{REPO}/pulls/7/files?per_page=100&page=2"
    async with github() as (router, app, _, sleeps):
        router.get(f"{PULLS}/7").mock(return_value=error(406, "too large"))
        router.get(f"{PULLS}/7/files", params={"page": "2"}).mock(
            side_effect=[httpx.Response(502), httpx.Response(200, json=[_file("b.py")])]
        )
        first = router.get(f"{PULLS}/7/files").mock(
            return_value=httpx.Response(200, json=[_file("a.py")], headers=next_link(page2))
        )
        result = await app.repo(INSTALLATION, REPO).pull_diff(7)

    assert [f.path for f in parse_diff(result.text).files] == ["a.py", "b.py"]
    assert first.call_count == 1
    assert sleeps.waits == [1.0]


# -- comparisons and files ----------------------------------------------------------------


async def test_compare_reads_status_counts_and_files() -> None:
    answer = {
        "url": f"{API}/repos/{REPO}/compare/{BASE_SHA}...{HEAD_SHA}",
        "status": "ahead",
        "ahead_by": 2,
        "behind_by": 0,
        "total_commits": 2,
        "commits": [],
        "files": [_file("app.py"), _file("new.py", "renamed", previous_filename="old.py")],
    }
    async with github() as (router, app, _, _):
        route = router.get(f"/repos/{REPO}/compare/{BASE_SHA}...{HEAD_SHA}").mock(
            return_value=httpx.Response(200, json=answer)
        )
        result = await app.repo(INSTALLATION, REPO).compare(BASE_SHA, HEAD_SHA)

    assert route.call_count == 1
    assert (result.status, result.ahead_by, result.behind_by) == ("ahead", 2, 0)
    assert result.files == ("app.py", "new.py")
    assert not result.files_truncated


async def test_compare_unknown_commit_is_a_404_not_transient() -> None:
    async with github() as (router, app, _, _):
        router.get(f"/repos/{REPO}/compare/{BASE_SHA}...{HEAD_SHA}").mock(
            return_value=error(404, "No commit found for SHA: " + HEAD_SHA)
        )
        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).compare(BASE_SHA, HEAD_SHA)

    assert caught.value.status == 404
    assert not caught.value.transient


def _content(text: bytes, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(text),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        # GitHub wraps the base64 at 60 columns
        "content": "\n".join(
            base64.b64encode(text).decode()[i : i + 60]
            for i in range(0, len(base64.b64encode(text)), 60)
        ),
        "sha": "d" * 40,
        **extra,
    }


async def test_file_text_decodes_base64_at_the_ref() -> None:
    text = "fail_on: major\nignore:\n  - 'docs/**'\n" * 10
    async with github() as (router, app, _, _):
        route = router.get(f"/repos/{REPO}/contents/.github/backend-review.yml").mock(
            return_value=httpx.Response(
                200, json=_content(text.encode(), ".github/backend-review.yml")
            )
        )
        got = await app.repo(INSTALLATION, REPO).file_text("main", ".github/backend-review.yml")

    assert got == text
    assert route.calls.last.request.url.params["ref"] == "main"


async def test_file_path_with_spaces_and_unicode_is_url_quoted() -> None:
    path = "docs/design notes/café 100%.md"
    async with github() as (router, app, _, _):
        route = router.get(url__regex=r"/contents/").mock(
            return_value=httpx.Response(200, json=_content(b"ok", path))
        )
        assert await app.repo(INSTALLATION, REPO).file_text(HEAD_SHA, path) == "ok"

    url = route.calls.last.request.url
    assert url.raw_path.decode() == (
        f"/repos/{REPO}/contents/docs/design%20notes/caf%C3%A9%20100%25.md?ref={HEAD_SHA}"
    )


async def test_file_path_with_question_mark_or_hash_is_refused_before_sending() -> None:
    async with github() as (router, app, _, _):
        route = router.get(url__regex=r"/contents/").mock(return_value=httpx.Response(500))
        for path in ("notes#1.md", "why?.md"):
            with pytest.raises(GitHubError, match="not supported") as caught:
                await app.repo(INSTALLATION, REPO).file_text("main", path)
            assert not caught.value.transient

    assert route.call_count == 0


async def test_file_text_none_for_missing_file_or_directory() -> None:
    async with github() as (router, app, _, _):
        router.get(f"/repos/{REPO}/contents/missing.yml").mock(return_value=error(404, "Not Found"))
        router.get(f"/repos/{REPO}/contents/docs").mock(
            return_value=httpx.Response(
                200, json=[{"type": "file", "name": "a.md", "path": "docs/a.md"}]
            )
        )
        repo = app.repo(INSTALLATION, REPO)
        assert await repo.file_text("main", "missing.yml") is None
        assert await repo.file_text("main", "docs") is None


async def test_file_text_too_large_or_binary_is_an_error_not_absence() -> None:
    big = {"type": "file", "encoding": "none", "size": 5_000_000, "content": "", "path": "big.yml"}
    async with github() as (router, app, _, _):
        router.get(f"/repos/{REPO}/contents/big.yml").mock(
            return_value=httpx.Response(200, json=big)
        )
        router.get(f"/repos/{REPO}/contents/small.yml").mock(
            return_value=httpx.Response(200, json=_content(b"x: 1\n" * 100, "small.yml"))
        )
        router.get(f"/repos/{REPO}/contents/logo.png").mock(
            return_value=httpx.Response(
                200, json=_content(b"\x89PNG\r\n\x1a\n\x00\x00", "logo.png")
            )
        )
        repo = app.repo(INSTALLATION, REPO)
        with pytest.raises(GitHubError, match="too large") as too_large:
            await repo.file_text("main", "big.yml")
        with pytest.raises(GitHubError, match="too large"):
            await repo.file_text("main", "small.yml", max_bytes=100)
        with pytest.raises(GitHubError, match="not UTF-8") as binary:
            await repo.file_text("main", "logo.png")

    assert not too_large.value.transient
    assert not binary.value.transient


# -- comments ----------------------------------------------------------------------------------


async def test_comments_are_issue_and_review_comments_from_every_page() -> None:
    issue_p2 = f"{API}/repositories/1296269/issues/7/comments?page=2"
    review_p2 = f"{API}/repositories/1296269/pulls/7/comments?page=2"
    bot = user("backend-review[bot]", bot=True)
    async with github() as (router, app, _, _):
        router.get(f"/repos/{REPO}/issues/7/comments").mock(
            return_value=httpx.Response(
                200,
                json=[{"id": 1, "body": "/backend-review help", "user": user("octocat")}],
                headers=next_link(issue_p2),
            )
        )
        router.get("/repositories/1296269/issues/7/comments").mock(
            return_value=httpx.Response(
                200, json=[{"id": 2, "body": "<!-- backend-review:summary -->", "user": bot}]
            )
        )
        router.get(f"/repos/{REPO}/pulls/7/comments").mock(
            return_value=httpx.Response(
                200,
                json=[{"id": 10, "body": "finding", "user": bot, "path": "app.py", "line": 3}],
                headers=next_link(review_p2),
            )
        )
        router.get("/repositories/1296269/pulls/7/comments").mock(
            return_value=httpx.Response(
                200,
                json=[
                    {"id": 11, "body": "why?", "user": None, "path": "app.py", "in_reply_to_id": 10}
                ],
            )
        )
        comments = await app.repo(INSTALLATION, REPO).comments(7)

    assert [(c.id, c.kind, c.author, c.author_is_bot) for c in comments] == [
        (1, "issue", "octocat", False),
        (2, "issue", "backend-review[bot]", True),
        (10, "review", "backend-review[bot]", True),
        (11, "review", "ghost", False),
    ]
    assert comments[0].body == "/backend-review help"
    assert (comments[0].path, comments[2].path) == (None, "app.py")
    assert comments[3].in_reply_to == 10


async def test_issue_comment_create_update_react_and_reply() -> None:
    async with github() as (router, app, _, _):
        create = router.post(f"/repos/{REPO}/issues/7/comments").mock(
            return_value=httpx.Response(201, json={"id": 555, "body": "summary"})
        )
        update = router.patch(f"/repos/{REPO}/issues/comments/555").mock(
            return_value=httpx.Response(200, json={"id": 555, "body": "summary v2"})
        )
        react = router.post(f"/repos/{REPO}/issues/comments/555/reactions").mock(
            return_value=httpx.Response(201, json={"id": 1, "content": "eyes"})
        )
        reply = router.post(f"{PULLS}/7/comments/10/replies").mock(
            return_value=httpx.Response(201, json={"id": 777, "body": "dismissed"})
        )
        repo = app.repo(INSTALLATION, REPO)

        assert await repo.create_issue_comment(7, "summary") == 555
        await repo.update_issue_comment(555, "summary v2")
        await repo.react(555, "eyes")
        assert await repo.reply_to_review_comment(7, 10, "dismissed") == 777
        with pytest.raises(ValueError, match="no reaction"):
            await repo.react(555, "thumbsup")

    assert sent(create) == {"body": "summary"}
    assert sent(update) == {"body": "summary v2"}
    assert sent(react) == {"content": "eyes"}
    assert react.call_count == 1
    assert sent(reply) == {"body": "dismissed"}


# -- check runs ---------------------------------------------------------------------------------


def _annotation(i: int, **extra: Any) -> Annotation:
    values: dict[str, Any] = {
        "path": f"src/mod{i}.py",
        "start_line": i + 1,
        "end_line": i + 1,
        "annotation_level": "warning",
        "title": f"[major] finding {i}",
        "message": "evidence",
    }
    values.update(extra)
    return Annotation(**values)


async def test_create_check_run_names_it_and_returns_the_id() -> None:
    async with github() as (router, app, _, _):
        route = router.post(f"/repos/{REPO}/check-runs").mock(
            return_value=httpx.Response(
                201, json={"id": 4, "name": CHECK_NAME, "status": "in_progress"}
            )
        )
        repo = app.repo(INSTALLATION, REPO)
        run_id = await repo.create_check_run(
            HEAD_SHA, title="Reviewing", summary="In progress", external_id="job-9"
        )
        await repo.create_check_run(
            HEAD_SHA, title="Skipped", summary="draft", conclusion="skipped"
        )

    assert run_id == 4
    first, second = sent(route, 0), sent(route, 1)
    assert first == {
        "name": CHECK_NAME,
        "head_sha": HEAD_SHA,
        "status": "in_progress",
        "external_id": "job-9",
        "output": {"title": "Reviewing", "summary": "In progress"},
    }
    assert (second["status"], second["conclusion"]) == ("completed", "skipped")


async def test_body_githubkit_refuses_is_a_github_error_and_nothing_is_sent() -> None:
    async with github() as (router, app, _, _):
        route = router.post(f"/repos/{REPO}/check-runs").mock(
            return_value=httpx.Response(201, json={"id": 4})
        )
        with pytest.raises(GitHubError, match="refused before sending") as caught:
            await app.repo(INSTALLATION, REPO).create_check_run(
                HEAD_SHA,
                status="paused",  # type: ignore[arg-type]
                title="t",
                summary="s",
            )

    assert not caught.value.transient
    assert route.call_count == 0


async def test_complete_check_run_sends_annotations_fifty_at_a_time() -> None:
    annotations = [_annotation(i) for i in range(120)]
    summary = "s" * 70_000
    async with github() as (router, app, _, _):
        route = router.patch(f"/repos/{REPO}/check-runs/4").mock(
            return_value=httpx.Response(200, json={"id": 4, "status": "completed"})
        )
        await app.repo(INSTALLATION, REPO).complete_check_run(
            4,
            conclusion="failure",
            title="3 blocking findings",
            summary=summary,
            text="details",
            annotations=annotations,
        )

    bodies = [sent(route, i) for i in range(route.call_count)]
    assert [len(b["output"]["annotations"]) for b in bodies] == [50, 50, 20]
    assert (bodies[0]["status"], bodies[0]["conclusion"]) == ("completed", "failure")
    assert all("conclusion" not in b for b in bodies[1:])
    paths = [a["path"] for b in bodies for a in b["output"]["annotations"]]
    assert paths == [f"src/mod{i}.py" for i in range(120)]
    for body in bodies:
        assert len(body["output"]["summary"]) == 65_535
        assert body["output"]["summary"].endswith("(truncated: GitHub's limit)")
        assert body["output"]["text"] == "details"
        assert body["output"]["title"] == "3 blocking findings"


async def test_complete_check_run_without_annotations_is_one_request_and_long_text_clipped() -> (
    None
):
    async with github() as (router, app, _, _):
        route = router.patch(f"/repos/{REPO}/check-runs/4").mock(
            return_value=httpx.Response(200, json={"id": 4})
        )
        await app.repo(INSTALLATION, REPO).complete_check_run(
            4,
            conclusion="success",
            title="No blocking findings",
            summary="ok",
            text="t" * 100_000,
            annotations=[_annotation(0, message="m" * 70_000)],
        )

    [body] = [sent(route)]
    assert route.call_count == 1
    assert body["output"]["summary"] == "ok"
    assert len(body["output"]["text"]) == 65_535
    assert len(body["output"]["annotations"][0]["message"]) == 65_535


async def test_complete_check_run_failing_after_the_first_batch_says_so() -> None:
    async with github() as (router, app, _, _):
        route = router.patch(f"/repos/{REPO}/check-runs/4").mock(
            side_effect=[httpx.Response(200, json={"id": 4}), error(500, "Server Error")]
        )
        with pytest.raises(GitHubError, match="completed, but annotations after the first 50"):
            await app.repo(INSTALLATION, REPO).complete_check_run(
                4,
                conclusion="failure",
                title="t",
                summary="s",
                annotations=[_annotation(i) for i in range(60)],
            )

    assert route.call_count == 2  # a PATCH that may have appended is not repeated


async def test_check_runs_are_ours_only() -> None:
    runs = {
        "total_count": 2,
        "check_runs": [
            {
                "id": 4,
                "name": CHECK_NAME,
                "head_sha": HEAD_SHA,
                "status": "completed",
                "conclusion": "failure",
                "output": {"title": "1 blocking finding", "summary": "..."},
                "app": {"slug": "backend-review"},
            },
            {
                "id": 5,
                "name": "ci/tests",
                "head_sha": HEAD_SHA,
                "status": "queued",
                "conclusion": None,
            },
        ],
    }
    async with github() as (router, app, _, _):
        route = router.get(f"/repos/{REPO}/commits/{HEAD_SHA}/check-runs").mock(
            return_value=httpx.Response(200, json=runs)
        )
        found = await app.repo(INSTALLATION, REPO).check_runs(HEAD_SHA)

    assert route.calls.last.request.url.params["check_name"] == CHECK_NAME
    assert [(r.id, r.status, r.conclusion, r.title) for r in found] == [
        (4, "completed", "failure", "1 blocking finding")
    ]


# -- reviews ------------------------------------------------------------------------------------


def _comments() -> list[InlineComment]:
    return [
        InlineComment(
            path="app.py", line=12, side="RIGHT", body="one", finding_id="br-000000000001"
        ),
        InlineComment(
            path="db.py",
            line=20,
            side="RIGHT",
            start_line=15,
            start_side="RIGHT",
            body="range",
            finding_id="br-000000000002",
        ),
        InlineComment(
            path="old.py", line=4, side="LEFT", body="deleted", finding_id="br-000000000003"
        ),
    ]


async def test_create_review_posts_every_comment_in_one_request() -> None:
    async with github() as (router, app, _, _):
        route = router.post(f"{PULLS}/7/reviews").mock(
            return_value=httpx.Response(200, json={"id": 80, "state": "COMMENTED"})
        )
        review_id = await app.repo(INSTALLATION, REPO).create_review(
            7,
            commit_id=HEAD_SHA,
            body="backend-review: 3 findings",
            event="COMMENT",
            comments=_comments(),
        )

    assert review_id == 80
    assert route.call_count == 1
    assert sent(route) == {
        "commit_id": HEAD_SHA,
        "body": "backend-review: 3 findings",
        "event": "COMMENT",
        "comments": [
            {"path": "app.py", "body": "one", "line": 12, "side": "RIGHT"},
            {
                "path": "db.py",
                "body": "range",
                "line": 20,
                "side": "RIGHT",
                "start_line": 15,
                "start_side": "RIGHT",
            },
            {"path": "old.py", "body": "deleted", "line": 4, "side": "LEFT"},
        ],
    }


async def test_review_rejected_with_422_carries_githubs_message() -> None:
    async with github() as (router, app, _, sleeps):
        route = router.post(f"{PULLS}/7/reviews").mock(
            return_value=error(422, "Unprocessable Entity", errors=["Line could not be resolved"])
        )
        with pytest.raises(ReviewRejected) as caught:
            await app.repo(INSTALLATION, REPO).create_review(
                7, commit_id=HEAD_SHA, body="b", event="REQUEST_CHANGES", comments=_comments()
            )

    assert caught.value.status == 422
    assert not caught.value.transient
    assert "Line could not be resolved" in caught.value.reason
    assert route.call_count == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    "answer",
    [
        error(500, "Server Error"),
        error(403, "You have exceeded a secondary rate limit.", headers={"retry-after": "3"}),
        httpx.ReadTimeout("read timed out"),
    ],
    ids=["500", "secondary-limit", "timeout"],
)
async def test_create_review_is_never_repeated_automatically(answer: Any) -> None:
    async with github() as (router, app, _, sleeps):
        route = router.post(f"{PULLS}/7/reviews").mock(side_effect=[answer])
        with pytest.raises(GitHubError) as caught:
            await app.repo(INSTALLATION, REPO).create_review(
                7, commit_id=HEAD_SHA, body="b", event="COMMENT", comments=_comments()
            )

    assert caught.value.transient
    assert not isinstance(caught.value, ReviewRejected)
    assert route.call_count == 1
    assert sleeps.waits == []


async def test_create_review_is_sent_again_only_after_a_refused_token() -> None:
    async with github() as (router, app, tokens, _):
        route = router.post(f"{PULLS}/7/reviews").mock(
            side_effect=[error(401, "Bad credentials"), httpx.Response(200, json={"id": 81})]
        )
        review_id = await app.repo(INSTALLATION, REPO).create_review(
            7, commit_id=HEAD_SHA, body="b", event="COMMENT", comments=_comments()
        )

    assert review_id == 81
    assert len(tokens.issued) == 2
    assert route.calls[1].request.headers["authorization"] == f"token {tokens.issued[1]}"


# -- permissions and commits -------------------------------------------------------------------


async def test_permission_prefers_the_role_name_and_404_is_none() -> None:
    async with github() as (router, app, _, _):
        router.get(f"/repos/{REPO}/collaborators/alice/permission").mock(
            return_value=httpx.Response(
                200, json={"permission": "write", "role_name": "maintain", "user": user("alice")}
            )
        )
        router.get(f"/repos/{REPO}/collaborators/bob/permission").mock(
            return_value=httpx.Response(
                200,
                json={"permission": "read", "role_name": "security-reviewer", "user": user("bob")},
            )
        )
        router.get(f"/repos/{REPO}/collaborators/nobody/permission").mock(
            return_value=error(404, "Not Found")
        )
        repo = app.repo(INSTALLATION, REPO)

        assert await repo.permission("alice") == "maintain"
        assert await repo.permission("bob") == "read"  # a custom role: its base permission
        assert await repo.permission("nobody") == "none"


async def test_pulls_for_commit_lists_their_numbers() -> None:
    async with github() as (router, app, _, _):
        router.get(f"/repos/{REPO}/commits/{HEAD_SHA}/pulls").mock(
            return_value=httpx.Response(200, json=[pull_json(7), pull_json(9, state="closed")])
        )
        assert await app.repo(INSTALLATION, REPO).pulls_for_commit(HEAD_SHA) == [7, 9]
