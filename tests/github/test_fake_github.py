"""The fake GitHub, driven by the real githubkit client: if these pass, the app's GitHub adapter
meets the same rules over the same wire (auth, shapes githubkit's models accept, 4xx answers)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    SecondaryRateLimitExceeded,
)
from githubkit.retry import RetryOption

from tests.fakes.github_diff import parse_diff
from tests.fakes.github_server import FakeGitHub, serve
from tests.fakes.github_state import Pull, Repo

OWNER, NAME = "acme", "payments"
BASE_URL = "http://github.test"
REFUNDS = """\
diff --git a/app/api/refunds.py b/app/api/refunds.py
index 83db48f..bf2a3c1 100644
--- a/app/api/refunds.py
+++ b/app/api/refunds.py
@@ -1,6 +1,9 @@
 from fastapi import APIRouter
 
 router = APIRouter()
+
+@router.post("/refunds")
+def create_refund(): ...
 
 def helper():
     return 1
@@ -20,4 +23,4 @@ def other():
 a = 1
-b = 2
+b = 3
 c = 4
 d = 5
diff --git a/docs/old.md b/docs/new.md
similarity index 90%
rename from docs/old.md
rename to docs/new.md
index 1111111..2222222 100644
--- a/docs/old.md
+++ b/docs/new.md
@@ -1,2 +1,2 @@
 # Title
-old text
+new text
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..e69de29
Binary files /dev/null and b/logo.png differ
"""  # noqa: W293 - a blank source line is a context line of one space
FIX = """\
diff --git a/app/api/refunds.py b/app/api/refunds.py
--- a/app/api/refunds.py
+++ b/app/api/refunds.py
@@ -25,2 +25,3 @@ def other():
 c = 4
 d = 5
+e = 6
"""
CONFIG = "fail_on: major\n"


def many_files(count: int) -> str:
    return "".join(
        f"diff --git a/f{i}.py b/f{i}.py\n--- a/f{i}.py\n+++ b/f{i}.py\n@@ -1 +1 @@\n-a\n+b\n"
        for i in range(count)
    )


def client(fake: FakeGitHub, **options: Any) -> GitHub[AppAuthStrategy]:
    """githubkit as GITHUB-FACTS says to use it: own token cache, timeout, no HTTP cache."""
    settings: dict[str, Any] = {
        "base_url": BASE_URL + fake.api_prefix + "/",
        "async_transport": fake.transport(),
        "cache_strategy": MemCacheStrategy(),
        "http_cache": False,
        "timeout": 5.0,
        "auto_retry": False,
    } | options
    return GitHub(AppAuthStrategy(fake.app_id, fake.private_key_pem), **settings)


def installed(gh: GitHub[AppAuthStrategy], fake: FakeGitHub, repo: Repo) -> GitHub[Any]:
    assert repo.installation_id is not None
    return gh.with_auth(gh.auth.as_installation(repo.installation_id))


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def repo(fake: FakeGitHub) -> Repo:
    repo = fake.add_repo(f"{OWNER}/{NAME}", installation_id=42)
    fake.set_file(repo, "main", ".github/backend-review.yml", CONFIG)
    return repo


@pytest.fixture
def pr(fake: FakeGitHub, repo: Repo) -> Pull:
    return fake.add_pull(repo, number=7, diff=REFUNDS, commits=["Add refunds", "Tests"])


@pytest.fixture
async def gh(fake: FakeGitHub, repo: Repo) -> AsyncIterator[GitHub[Any]]:
    app_gh = client(fake)
    inst = installed(app_gh, fake, repo)
    async with inst:
        yield inst
    assert fake.errors == []  # nothing the fake could not answer


def error_json(exc: RequestFailed) -> dict[str, Any]:
    body = exc.response.json()
    assert isinstance(body, dict)
    return body


# --- tokens and the App's JWT ---------------------------------------------------------------


async def test_installation_token_is_issued_then_used(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    got = (await gh.rest.pulls.async_get(OWNER, NAME, 7)).parsed_data
    assert (got.head.sha, got.base.sha, got.commits) == (pr.head_sha, pr.base_sha, 2)
    assert (got.additions, got.deletions, got.changed_files) == (5, 2, 3)
    await gh.rest.pulls.async_get(OWNER, NAME, 7)
    assert [(c.method, c.path, c.auth, c.status) for c in fake.calls] == [
        ("POST", f"/app/installations/{pr.repo.installation_id}/access_tokens", "jwt", 201),
        ("GET", "/repos/acme/payments/pulls/7", "token", 200),
        ("GET", "/repos/acme/payments/pulls/7", "token", 200),  # the token was cached
    ]
    assert len(fake.tokens) == 1


async def test_token_answer_has_githubs_exact_expiry_format(fake: FakeGitHub, repo: Repo) -> None:
    gh = client(fake)
    assert repo.installation_id is not None
    answer = await gh.rest.apps.async_create_installation_access_token(repo.installation_id)
    body = answer.json()
    assert answer.status_code == 201
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["expires_at"])
    assert body["token"].startswith("ghs_")
    assert body["token"] in fake.tokens
    assert body["repository_selection"] == "all"
    assert body["permissions"]["checks"] == "write"


def _jwt(fake: FakeGitHub, key: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": str(fake.app_id), "iat": now - 60, "exp": now + 540} | claims
    return jwt.encode(payload, key or fake.private_key_pem, algorithm="RS256")


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": int(time.time()) + 1200}, "too far in the future"),
        ({"iat": int(time.time()) + 300}, "time in the past"),
        ({"exp": int(time.time()) - 10}, "future time"),
        ({"iss": "999"}, "Issuer"),
    ],
)
async def test_app_jwt_outside_githubs_rules_is_refused(
    fake: FakeGitHub, repo: Repo, claims: dict[str, Any], message: str
) -> None:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL) as http:
        good = await http.get("/app", headers={"Authorization": f"Bearer {_jwt(fake)}"})
        bad = await http.get("/app", headers={"Authorization": f"Bearer {_jwt(fake, **claims)}"})
    assert good.status_code == 200
    assert bad.status_code == 401
    assert message in bad.json()["message"]


async def test_jwt_signed_with_another_key_gets_401(fake: FakeGitHub, repo: Repo) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = FakeGitHub(app_id=fake.app_id, private_key=key)  # same id, another key
    gh = GitHub(
        AppAuthStrategy(fake.app_id, other.private_key_pem),
        base_url=BASE_URL + "/",
        async_transport=fake.transport(),
        cache_strategy=MemCacheStrategy(),
        http_cache=False,
        timeout=5.0,
        auto_retry=False,
    )
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.apps.async_get_authenticated()
    assert caught.value.response.status_code == 401
    inst = installed(gh, fake, repo)  # a reference: githubkit's namespaces hold a weakref
    # The token is fetched inside httpx's auth flow, so its 401 arrives wrapped.
    with pytest.raises(RequestError) as wrapped:
        await inst.rest.repos.async_get(OWNER, NAME)
    assert isinstance(wrapped.value.__cause__, RequestFailed)
    assert wrapped.value.__cause__.response.status_code == 401
    assert fake.tokens == {}


async def test_app_routes_answer_the_app_with_its_jwt(fake: FakeGitHub, repo: Repo) -> None:
    gh = client(fake)
    app = (await gh.rest.apps.async_get_authenticated()).parsed_data
    assert app is not None
    assert (app.id, app.slug) == (fake.app_id, "backend-review")
    found = (await gh.rest.apps.async_get_repo_installation(OWNER, NAME)).parsed_data
    assert found.id == repo.installation_id


async def test_revoked_token_gets_bad_credentials(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    await gh.rest.repos.async_get(OWNER, NAME)
    fake.revoke_all_tokens()
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.repos.async_get(OWNER, NAME)
    assert caught.value.response.status_code == 401
    assert error_json(caught.value)["message"] == "Bad credentials"


async def test_app_can_revoke_its_own_token(fake: FakeGitHub, pr: Pull, gh: GitHub[Any]) -> None:
    await gh.rest.apps.async_revoke_installation_access_token()
    assert [t.revoked for t in fake.tokens.values()] == [True]
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_get(OWNER, NAME, 7)
    assert caught.value.response.status_code == 401


async def test_expired_token_gets_bad_credentials(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    await gh.rest.repos.async_get(OWNER, NAME)
    fake.expire_token(next(iter(fake.tokens)))
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.repos.async_get(OWNER, NAME)
    assert caught.value.response.status_code == 401


async def test_token_reaches_only_its_installations_repos_and_permissions(
    fake: FakeGitHub, pr: Pull
) -> None:
    fake.add_repo("globex/ledger")  # another organisation, another installation
    gh = client(fake)
    assert pr.repo.installation_id is not None
    narrow = gh.with_auth(
        gh.auth.as_installation(pr.repo.installation_id, permissions={"pull_requests": "read"})
    )
    assert (await narrow.rest.pulls.async_get(OWNER, NAME, 7)).status_code == 200
    assert (await narrow.rest.repos.async_get(OWNER, NAME)).parsed_data.default_branch == "main"
    with pytest.raises(RequestFailed) as other_org:
        await narrow.rest.repos.async_get("globex", "ledger")
    with pytest.raises(RequestFailed) as no_checks:
        await narrow.rest.checks.async_create(
            OWNER, NAME, name="backend-review", head_sha=pr.head_sha, status="in_progress"
        )
    assert other_org.value.response.status_code == 404
    assert no_checks.value.response.status_code == 403
    assert error_json(no_checks.value)["message"] == "Resource not accessible by integration"
    assert fake.check_runs == []


# --- reading a pull request -----------------------------------------------------------------


@pytest.mark.parametrize(
    "accept", ["application/vnd.github.diff", "application/vnd.github.v3.diff"]
)
async def test_diff_media_type_answers_the_diff_text(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any], accept: str
) -> None:
    answer = await gh.rest.pulls.async_get(OWNER, NAME, 7, headers={"Accept": accept})
    assert answer.text == REFUNDS
    assert answer.headers["content-type"].startswith("application/vnd.github.diff")


async def test_too_large_diff_gets_406_and_the_files_list_pages_through_it(
    fake: FakeGitHub, repo: Repo, gh: GitHub[Any]
) -> None:
    fake.add_pull(repo, number=8, diff=many_files(301))
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_get(
            OWNER, NAME, 8, headers={"Accept": "application/vnd.github.diff"}
        )
    assert caught.value.response.status_code == 406
    body = error_json(caught.value)
    assert body["message"].startswith("Sorry, the diff exceeded the maximum number of files (300)")
    assert body["errors"] == [{"resource": "PullRequest", "field": "diff", "code": "too_large"}]

    files = [
        f
        async for f in gh.rest.paginate(
            gh.rest.pulls.async_list_files, owner=OWNER, repo=NAME, pull_number=8, per_page=100
        )
    ]
    assert [f.filename for f in files] == [f"f{i}.py" for i in range(301)]
    assert {(f.additions, f.deletions, f.patch) for f in files} == {(1, 1, "@@ -1 +1 @@\n-a\n+b")}
    pages = fake.calls_to("GET", r"/pulls/8/files$")
    assert [c.query.get("page") for c in pages] == [None, "2", "3", "4"]


async def test_diff_over_20000_lines_or_forced_gets_406(
    fake: FakeGitHub, repo: Repo, pr: Pull, gh: GitHub[Any]
) -> None:
    body = "".join(f"+line {i}\n" for i in range(20_001))
    huge = (
        f"diff --git a/big.txt b/big.txt\n--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,20001 @@\n{body}"
    )
    fake.add_pull(repo, number=9, diff=huge)
    pr.force_too_large = True
    for number, words in ((9, "maximum number of lines (20000)"), (7, "maximum number of files")):
        with pytest.raises(RequestFailed) as caught:
            await gh.rest.pulls.async_get(
                OWNER, NAME, number, headers={"Accept": "application/vnd.github.diff"}
            )
        assert caught.value.response.status_code == 406
        assert words in error_json(caught.value)["message"]


async def test_files_list_shapes_renames_binaries_and_links(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    pr.omitted_patches.add("app/api/refunds.py")  # as GitHub does for a very large file
    first = await gh.rest.pulls.async_list_files(OWNER, NAME, 7, per_page=2)
    entries = {f.filename: f for f in first.parsed_data}
    assert entries["docs/new.md"].status == "renamed"
    assert entries["docs/new.md"].previous_filename == "docs/old.md"
    assert "patch" not in first.json()[0]
    assert entries["app/api/refunds.py"].changes == 5
    assert first.headers["link"] == (
        f'<{BASE_URL}/repos/acme/payments/pulls/7/files?per_page=2&page=2>; rel="next", '
        f'<{BASE_URL}/repos/acme/payments/pulls/7/files?per_page=2&page=2>; rel="last"'
    )
    second_raw = await gh.rest.pulls.async_list_files(OWNER, NAME, 7, per_page=2, page=2)
    second = second_raw.parsed_data
    assert [(f.filename, f.status) for f in second] == [("logo.png", "added")]
    assert "patch" not in second_raw.json()[0]
    middle = await gh.rest.pulls.async_list_files(OWNER, NAME, 7, per_page=1, page=2)
    rels = re.findall(r'page=(\d)>; rel="(\w+)"', middle.headers["link"])
    assert rels == [("1", "prev"), ("3", "next"), ("3", "last"), ("1", "first")]
    capped = await gh.rest.pulls.async_list_files(OWNER, NAME, 7, per_page=500)
    assert len(capped.parsed_data) == 3
    assert "link" not in capped.headers


async def test_commits_and_the_pulls_of_a_commit(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    commits = (await gh.rest.pulls.async_list_commits(OWNER, NAME, 7)).parsed_data
    assert [c.commit.message for c in commits] == ["Add refunds", "Tests"]
    assert commits[0].parents[0].sha == pr.base_sha
    pulls = await gh.rest.repos.async_list_pull_requests_associated_with_commit(
        OWNER, NAME, pr.head_sha
    )
    assert [p.number for p in pulls.parsed_data] == [7]


async def test_contents_read_base64_at_a_ref_with_an_encoded_path(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    path = "personas/café notes.md"
    fake.set_file(pr.repo, "main", path, "# Persona\n")
    config = await gh.rest.repos.async_get_content(
        OWNER, NAME, ".github/backend-review.yml", ref=pr.base_sha
    )
    data = config.parsed_data
    assert not isinstance(data, list)
    assert data.type == "file"
    assert base64.b64decode(data.content) == CONFIG.encode()
    persona = await gh.rest.repos.async_get_content(OWNER, NAME, quote(path), ref="main")
    assert base64.b64decode(persona.json()["content"]) == b"# Persona\n"
    # githubkit 0.16.1: the installation auth flow rebuilds the URL from the decoded path, so
    # an encoded "?" or "#" fails before anything is sent.
    fake.set_file(pr.repo, "main", "odd?.md", "x")
    with pytest.raises(RequestError, match="Invalid URL component 'path'"):
        await gh.rest.repos.async_get_content(OWNER, NAME, quote("odd?.md"), ref="main")
    with pytest.raises(RequestFailed) as missing:
        await gh.rest.repos.async_get_content(OWNER, NAME, "nope.yml", ref=pr.head_sha)
    assert missing.value.response.status_code == 404
    assert error_json(missing.value)["message"] == "Not Found"
    listing = await gh.rest.repos.async_get_content(OWNER, NAME, ".github")
    assert [e["path"] for e in listing.json()] == [".github/backend-review.yml"]


# --- reviews --------------------------------------------------------------------------------


async def test_review_with_a_multi_line_and_a_left_comment_is_stored(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    answer = await gh.rest.pulls.async_create_review(
        OWNER, NAME, 7, commit_id=pr.head_sha, body="Summary", event="COMMENT",
        comments=[
            {"path": "app/api/refunds.py", "start_line": 4, "start_side": "RIGHT", "line": 6,
             "side": "RIGHT", "body": "Who may refund?"},
            {"path": "app/api/refunds.py", "line": 21, "side": "LEFT", "body": "Why drop b?"},
        ],
    )  # fmt: skip
    review = answer.parsed_data
    assert (review.state, review.commit_id, review.user and review.user.type) == (
        "COMMENTED", pr.head_sha, "Bot"
    )  # fmt: skip
    [stored] = fake.reviews_on(pr.repo, 7)
    assert [(c.line, c.side, c.start_line) for c in stored.comments] == [
        (6, "RIGHT", 4), (21, "LEFT", None)
    ]  # fmt: skip
    listed = [
        c async for c in gh.rest.paginate(
            gh.rest.pulls.async_list_review_comments, owner=OWNER, repo=NAME, pull_number=7
        )
    ]  # fmt: skip
    assert {c.pull_request_review_id for c in listed} == {review.id}
    assert {c.user.login for c in listed if c.user} == {"backend-review[bot]"}
    assert listed[0].diff_hunk.splitlines()[-1] == "+def create_refund(): ..."
    assert listed[1].diff_hunk.splitlines()[-1] == "-b = 2"
    reviews = (await gh.rest.pulls.async_list_reviews(OWNER, NAME, 7)).parsed_data
    assert [r.id for r in reviews] == [review.id]


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        ({"line": 15}, "Line could not be resolved"),  # between the two hunks
        ({"line": 7, "side": "LEFT"}, "Line could not be resolved"),  # old file has 1-6, 20-23
        ({"line": 24, "start_line": 24}, "start line must precede the end line"),
        ({"line": 24, "start_line": 5}, "start line must be part of the same hunk"),
        ({"path": "app/other.py", "line": 1}, "Path could not be resolved"),
    ],
)
async def test_review_with_one_comment_off_the_diff_is_refused_whole(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any], comment: dict[str, Any], error: str
) -> None:
    good = {"path": "app/api/refunds.py", "line": 5, "body": "ok"}
    bad = {"path": "app/api/refunds.py", "body": "off"} | comment
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_create_review(
            OWNER, NAME, 7, commit_id=pr.head_sha, body="s", event="COMMENT", comments=[good, bad]
        )
    body = error_json(caught.value)
    assert caught.value.response.status_code == 422
    assert body["message"] == "Unprocessable Entity"
    assert len(body["errors"]) == 1
    assert error in body["errors"][0]
    assert fake.reviews == []


async def test_review_without_event_stays_pending_and_only_one_may(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    first = await gh.rest.pulls.async_create_review(OWNER, NAME, 7, body="draft")
    assert first.parsed_data.state == "PENDING"
    assert "submitted_at" not in first.json()
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_create_review(OWNER, NAME, 7, body="again")
    assert caught.value.response.status_code == 422


async def test_review_comments_are_checked_against_the_commit_they_name(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    old = pr.head_sha
    fake.push(pr, FIX, delta=FIX)
    comment = {"path": "app/api/refunds.py", "line": 5, "body": "on the old diff only"}
    await gh.rest.pulls.async_create_review(
        OWNER, NAME, 7, commit_id=old, event="COMMENT", body="s", comments=[comment]
    )
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_create_review(
            OWNER,
            NAME,
            7,
            event="COMMENT",
            body="s",
            comments=[comment],  # the new head
        )
    assert caught.value.response.status_code == 422
    assert [r.commit_id for r in fake.reviews_on(pr.repo, 7)] == [old]


async def test_file_level_comment_and_replies(fake: FakeGitHub, pr: Pull, gh: GitHub[Any]) -> None:
    made = await gh.rest.pulls.async_create_review_comment(
        OWNER, NAME, 7, commit_id=pr.head_sha, path="logo.png", body="Binary?", subject_type="file"
    )
    assert made.status_code == 201
    assert (made.parsed_data.subject_type, made.parsed_data.line) == ("file", None)
    reply = await gh.rest.pulls.async_create_reply_for_review_comment(
        OWNER, NAME, 7, made.parsed_data.id, body="Yes."
    )
    assert reply.parsed_data.in_reply_to_id == made.parsed_data.id
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_create_review_comment(
            OWNER, NAME, 7, commit_id=pr.head_sha, path="README.md", body="x", subject_type="file"
        )
    assert caught.value.response.status_code == 422
    with pytest.raises(RequestFailed) as off:
        await gh.rest.pulls.async_create_review_comment(
            OWNER, NAME, 7, commit_id=pr.head_sha, path="app/api/refunds.py", line=15, body="x"
        )
    assert error_json(off.value)["errors"][0]["field"] == "pull_request_review_thread.line"
    assert [c.body for c in fake.review_comments_on(pr.repo, 7)] == ["Binary?", "Yes."]


# --- summary comment, reactions -------------------------------------------------------------


async def test_summary_comment_is_created_then_edited_in_place(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    fake.add_issue_comment(pr.repo, 7, "alice", "/backend-review help")
    made = await gh.rest.issues.async_create_comment(OWNER, NAME, 7, body="<!-- s -->\nfirst")
    assert made.status_code == 201
    edited = await gh.rest.issues.async_update_comment(
        OWNER, NAME, made.parsed_data.id, body="<!-- s -->\nsecond"
    )
    assert edited.parsed_data.body == "<!-- s -->\nsecond"
    [ours] = fake.issue_comments_on(pr.repo, 7)
    assert (ours.body, ours.edits) == ("<!-- s -->\nsecond", ["<!-- s -->\nfirst"])
    listed = [
        c.user.login async for c in gh.rest.paginate(
            gh.rest.issues.async_list_comments, owner=OWNER, repo=NAME, issue_number=7
        ) if c.user
    ]  # fmt: skip
    assert listed == ["alice", "backend-review[bot]"]
    with pytest.raises(RequestFailed) as too_long:
        await gh.rest.issues.async_create_comment(OWNER, NAME, 7, body="x" * 65537)
    assert too_long.value.response.status_code == 422


async def test_reaction_is_created_once(fake: FakeGitHub, pr: Pull, gh: GitHub[Any]) -> None:
    command = fake.add_issue_comment(pr.repo, 7, "alice", "/backend-review")
    first = await gh.rest.reactions.async_create_for_issue_comment(
        OWNER, NAME, command.id, content="eyes"
    )
    again = await gh.rest.reactions.async_create_for_issue_comment(
        OWNER, NAME, command.id, content="eyes"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.parsed_data.id == again.parsed_data.id
    with pytest.raises(RequestFailed) as caught:
        await gh.arequest(
            "POST",
            f"/repos/{OWNER}/{NAME}/issues/comments/{command.id}/reactions",
            json={"content": "thumbsup"},
        )
    assert caught.value.response.status_code == 422
    assert [r.content for r in command.reactions] == ["eyes"]


# --- check runs -----------------------------------------------------------------------------


def annotations(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"path": "app/api/refunds.py", "start_line": i + 1, "end_line": i + 1,
         "annotation_level": "warning", "message": f"finding {i}"}
        for i in range(start, start + count)
    ]  # fmt: skip


async def test_check_run_collects_annotations_over_several_updates(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    made = await gh.rest.checks.async_create(
        OWNER, NAME, name="backend-review", head_sha=pr.head_sha, status="in_progress",
        output={"title": "Reviewing", "summary": "…", "annotations": annotations(50)},
    )  # fmt: skip
    run_id = made.parsed_data.id
    await gh.rest.checks.async_update(
        OWNER, NAME, run_id, output={"title": "Reviewing", "summary": "…",
                                     "annotations": annotations(50, 50)},
    )  # fmt: skip
    url = f"/repos/{OWNER}/{NAME}/check-runs/{run_id}"
    with pytest.raises(RequestFailed) as too_many:  # githubkit refuses 51 itself: send it raw
        await gh.arequest(
            "PATCH", url, json={"output": {"summary": "s", "annotations": annotations(51)}}
        )
    assert error_json(too_many.value)["message"] == (
        "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
    )
    with pytest.raises(RequestFailed) as long_summary:
        await gh.arequest("PATCH", url, json={"output": {"summary": "x" * 65536}})
    with pytest.raises(RequestFailed) as no_conclusion:
        await gh.arequest("PATCH", url, json={"status": "completed"})
    assert (
        long_summary.value.response.status_code == no_conclusion.value.response.status_code == 422
    )
    done = await gh.rest.checks.async_update(
        OWNER, NAME, run_id, conclusion="failure",
        output={"title": "2 major", "summary": "Blocked", "annotations": annotations(20, 100)},
    )  # fmt: skip
    assert (done.parsed_data.status, done.parsed_data.conclusion) == ("completed", "failure")
    assert done.parsed_data.output.annotations_count == 120
    [run] = fake.check_runs_for(pr.repo, pr.head_sha, "backend-review")
    assert [a["message"] for a in run.annotations] == [f"finding {i}" for i in range(120)]
    assert (run.output["title"], run.updates) == ("2 major", 2)
    listed = await gh.rest.checks.async_list_for_ref(
        OWNER, NAME, pr.head_sha, check_name="backend-review"
    )
    assert [r.id for r in listed.parsed_data.check_runs] == [run_id]
    assert [p.number for p in listed.parsed_data.check_runs[0].pull_requests] == [7]
    got = await gh.rest.checks.async_get(OWNER, NAME, run_id)
    assert got.parsed_data.completed_at is not None


# --- pushes ---------------------------------------------------------------------------------


async def test_compare_after_a_push_and_after_a_force_push(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    old = pr.head_sha
    new = fake.push(pr, REFUNDS + FIX, delta=FIX)
    ahead = (await gh.rest.repos.async_compare_commits(OWNER, NAME, f"{old}...{new}")).parsed_data
    assert (ahead.status, ahead.ahead_by, ahead.behind_by) == ("ahead", 1, 0)
    assert [f.filename for f in ahead.files or []] == ["app/api/refunds.py"]
    text = await gh.rest.repos.async_compare_commits(
        OWNER, NAME, f"{old}...{new}", headers={"Accept": "application/vnd.github.diff"}
    )
    assert text.text == FIX

    forced = fake.force_push(pr, FIX)
    diverged = await gh.rest.repos.async_compare_commits(OWNER, NAME, f"{new}...{forced}")
    data = diverged.parsed_data
    assert (data.status, data.ahead_by, data.behind_by) == ("diverged", 1, 3)
    assert data.merge_base_commit.sha == pr.base_sha
    assert (await gh.rest.pulls.async_get(OWNER, NAME, 7)).parsed_data.head.sha == forced
    with pytest.raises(RequestFailed) as unknown:
        await gh.rest.repos.async_compare_commits(OWNER, NAME, f"{old}...{'f' * 40}")
    assert unknown.value.response.status_code == 404


# --- permissions ----------------------------------------------------------------------------


async def test_collaborator_permission_levels(fake: FakeGitHub, pr: Pull, gh: GitHub[Any]) -> None:
    for login, level in (("ada", "admin"), ("mo", "maintain"), ("tri", "triage"), ("ro", "read")):
        fake.set_permission(pr.repo, login, level)
    fake.missing_users.add("ghost-user")
    seen = {}
    for login in ("ada", "mo", "tri", "ro", "stranger"):
        got = await gh.rest.repos.async_get_collaborator_permission_level(OWNER, NAME, login)
        seen[login] = (got.parsed_data.permission, got.parsed_data.role_name)
    assert seen == {
        "ada": ("admin", "admin"), "mo": ("write", "maintain"), "tri": ("read", "triage"),
        "ro": ("read", "read"), "stranger": ("none", "none"),
    }  # fmt: skip
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.repos.async_get_collaborator_permission_level(OWNER, NAME, "ghost-user")
    assert caught.value.response.status_code == 404


# --- faults, rate limits --------------------------------------------------------------------


async def test_injected_502_answers_once_and_is_logged(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    fake.fail_next("GET", r"/pulls/7$", 502)
    with pytest.raises(RequestFailed) as caught:
        await gh.rest.pulls.async_get(OWNER, NAME, 7)
    assert caught.value.response.status_code == 502
    assert "x-ratelimit-remaining" in caught.value.response.headers
    assert (await gh.rest.pulls.async_get(OWNER, NAME, 7)).status_code == 200
    assert [(c.status, c.fault) for c in fake.calls_to("GET", r"/pulls/7$")] == [
        (502, True), (200, False)
    ]  # fmt: skip


async def test_githubkit_retry_sees_the_fault_then_the_answer(fake: FakeGitHub, pr: Pull) -> None:
    def once(exc: Exception, count: int) -> RetryOption:
        # timedelta(0) would be falsy, and githubkit then sleeps 60 s.
        return RetryOption(count < 1, timedelta(milliseconds=1))

    gh = installed(client(fake, auto_retry=once), fake, pr.repo)
    fake.fail_next("POST", r"/reviews$", 500)
    await gh.rest.pulls.async_create_review(OWNER, NAME, 7, body="s", event="COMMENT")
    assert [c.status for c in fake.calls_to("POST", r"/reviews$")] == [500, 200]
    assert len(fake.reviews_on(pr.repo, 7)) == 1


async def test_secondary_rate_limit_carries_retry_after(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    fake.secondary_rate_limit_next("POST", r"/reviews$", retry_after=1)
    with pytest.raises(SecondaryRateLimitExceeded) as caught:
        await gh.rest.pulls.async_create_review(OWNER, NAME, 7, body="s", event="COMMENT")
    assert caught.value.retry_after == timedelta(seconds=1)
    assert "secondary rate limit" in error_json(caught.value)["message"]
    assert fake.reviews == []


async def test_primary_rate_limit_when_the_budget_is_spent(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    first = await gh.rest.pulls.async_get(OWNER, NAME, 7)
    remaining = int(first.headers["x-ratelimit-remaining"])
    assert remaining == fake.rate_limit - 1
    fake.rate_remaining = 0
    with pytest.raises(PrimaryRateLimitExceeded):
        await gh.rest.pulls.async_get(OWNER, NAME, 7)
    fake.rate_remaining = 10
    fake.primary_rate_limit_next("GET", r"/files$", reset_in=30)
    with pytest.raises(PrimaryRateLimitExceeded) as caught:
        await gh.rest.pulls.async_list_files(OWNER, NAME, 7)
    assert timedelta(seconds=25) < caught.value.retry_after <= timedelta(seconds=30)


async def test_bad_json_and_unknown_routes(fake: FakeGitHub, pr: Pull, gh: GitHub[Any]) -> None:
    await gh.rest.repos.async_get(OWNER, NAME)
    token = next(iter(fake.tokens))
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL) as http:
        auth = {"Authorization": f"token {token}"}
        broken = await http.post(
            f"/repos/{OWNER}/{NAME}/issues/7/comments", content=b"{", headers=auth
        )
        unknown = await http.get(f"/repos/{OWNER}/{NAME}/nothing-here", headers=auth)
    assert (broken.status_code, unknown.status_code) == (400, 404)
    assert broken.json()["message"] == "Problems parsing JSON"


async def test_ghes_style_prefix(repo: Repo) -> None:
    fake = FakeGitHub(api_prefix="/api/v3")
    fake.add_repo(f"{OWNER}/{NAME}")
    fake.add_pull(f"{OWNER}/{NAME}", number=3, diff=many_files(3))
    gh = installed(client(fake), fake, fake.repo(f"{OWNER}/{NAME}"))
    files = await gh.rest.pulls.async_list_files(OWNER, NAME, 3, per_page=2)
    assert files.headers["link"].startswith(f"<{BASE_URL}/api/v3/repos/")
    assert [c.path for c in fake.calls][-1] == f"/repos/{OWNER}/{NAME}/pulls/3/files"


# --- over real HTTP -------------------------------------------------------------------------


async def test_over_real_http_through_the_uvicorn_thread(fake: FakeGitHub, pr: Pull) -> None:
    with serve(fake) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        app_gh = client(fake, base_url=base_url + "/", async_transport=None)
        gh = installed(app_gh, fake, pr.repo)
        async with gh:
            diff = await gh.rest.pulls.async_get(
                OWNER, NAME, 7, headers={"Accept": "application/vnd.github.diff"}
            )
            files = [
                f.filename async for f in gh.rest.paginate(
                    gh.rest.pulls.async_list_files, owner=OWNER, repo=NAME, pull_number=7,
                    per_page=1,
                )
            ]  # fmt: skip
            await gh.rest.pulls.async_create_review(
                OWNER, NAME, 7, commit_id=pr.head_sha, body="s", event="COMMENT",
                comments=[{"path": "app/api/refunds.py", "line": 24, "body": "b = 3?"}],
            )  # fmt: skip
        fake.hang_next("GET", r"/pulls/7$")
        token = next(iter(fake.tokens))
        async with httpx.AsyncClient(base_url=base_url, timeout=0.3) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(
                    f"/repos/{OWNER}/{NAME}/pulls/7", headers={"Authorization": f"token {token}"}
                )
    assert diff.text == REFUNDS
    assert files == ["app/api/refunds.py", "docs/new.md", "logo.png"]
    assert [len(r.comments) for r in fake.reviews_on(pr.repo, 7)] == [1]
    assert (fake.calls[-1].fault, fake.calls[-1].status) == (True, 504)  # released at shutdown


# --- the fake's own diff reading ------------------------------------------------------------


def test_diff_reader_handles_quoted_paths_no_newline_markers_and_plain_diffs() -> None:
    text = (
        'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\n'
        '--- "a/caf\\303\\251.txt"\n+++ "b/caf\\303\\251.txt"\n'
        "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n"
        "--- a/plain.txt\n+++ b/plain.txt\n@@ -1,2 +1,2 @@\n-1\n+2\n \n"
        "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n"
        "--- a/gone.txt\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-bye\n"
    )
    files = parse_diff(text)
    assert [(f.path, f.status, f.additions, f.deletions) for f in files] == [
        ("café.txt", "modified", 1, 1), ("plain.txt", "modified", 1, 1),
        ("gone.txt", "removed", 0, 1),
    ]  # fmt: skip
    assert (files[0].hunk_index(1, "RIGHT"), files[0].hunk_index(1, "LEFT")) == (0, 0)
    assert files[1].hunk_index(2, "RIGHT") == 0  # the blank context line kept its place
    assert files[2].hunk_index(1, "RIGHT") is None


async def test_other_routes_answer_what_githubkit_models_accept(
    fake: FakeGitHub, pr: Pull, gh: GitHub[Any]
) -> None:
    listing = (await gh.rest.repos.async_get_content(OWNER, NAME, ".github")).parsed_data
    assert isinstance(listing, list)
    assert [e.name for e in listing] == ["backend-review.yml"]
    review = await gh.rest.pulls.async_create_review(
        OWNER, NAME, 7, event="COMMENT", body="s",
        comments=[{"path": "docs/new.md", "line": 2, "body": "typo"}],
    )  # fmt: skip
    got = await gh.rest.pulls.async_get_review(OWNER, NAME, 7, review.parsed_data.id)
    assert got.parsed_data.body == "s"
    [comment] = fake.review_comments_on(pr.repo, 7)
    edited = await gh.rest.pulls.async_update_review_comment(OWNER, NAME, comment.id, body="fix")
    assert edited.parsed_data.body == "fix"
    reaction = await gh.rest.reactions.async_create_for_pull_request_review_comment(
        OWNER, NAME, comment.id, content="rocket"
    )
    assert reaction.parsed_data.content == "rocket"
    made = await gh.rest.issues.async_create_comment(OWNER, NAME, 7, body="summary")
    again = await gh.rest.issues.async_get_comment(OWNER, NAME, made.parsed_data.id)
    assert again.parsed_data.body == "summary"
    run = await gh.rest.checks.async_create(
        OWNER, NAME, name="backend-review", head_sha=pr.head_sha, status="completed",
        conclusion="success", output={"title": "t", "summary": "s", "annotations": annotations(3)},
    )  # fmt: skip
    notes = await gh.rest.checks.async_list_annotations(OWNER, NAME, run.parsed_data.id)
    assert [n.message for n in notes.parsed_data] == ["finding 0", "finding 1", "finding 2"]
    app_gh = client(fake)
    installation = (await app_gh.rest.apps.async_get_installation(42)).parsed_data
    assert installation.id == 42
