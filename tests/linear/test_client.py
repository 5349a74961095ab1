"""LinearClient against Linear faked at the wire: requests as Linear expects them, answers as
Linear gives them, every failure a LinearError with a safe reason, and the key never shown."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx

from app.errors import BackendReviewError
from app.linear import LinearClient, LinearError, LinearIssue
from app.linear.client import MAX_IDENTIFIERS
from tests.fakes.linear_api import KEY, URL, FakeLinear, issue_json, not_found


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def api() -> AsyncIterator[respx.MockRouter]:
    async with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def fake(api: respx.MockRouter) -> FakeLinear:
    linear = FakeLinear()
    api.post(URL).mock(side_effect=linear)
    return linear


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(clock: Clock) -> AsyncIterator[LinearClient]:
    async with LinearClient(KEY, URL, clock=clock) as linear:
        yield linear


def answer(api: respx.MockRouter, response: httpx.Response) -> respx.Route:
    return api.post(URL).mock(return_value=response)


# --- the request ------------------------------------------------------------------------------


async def test_the_key_goes_bare_in_authorization_and_the_body_is_json(
    fake: FakeLinear, client: LinearClient
) -> None:
    await client.team_keys()
    (request,) = fake.requests
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["authorization"] == KEY  # no "Bearer ": that is for OAuth tokens
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("backend-review/")
    assert set(json.loads(request.content)) == {"query", "variables"}


async def test_a_wrong_key_is_refused_by_the_fake_as_linear_does(fake: FakeLinear) -> None:
    async with LinearClient("not-the-key", URL) as linear:
        with pytest.raises(LinearError) as caught:
            await linear.team_keys()
    assert caught.value.reason == "Linear refused the API key (401): check LINEAR_API_KEY"
    assert caught.value.status == 401
    assert not caught.value.transient


def test_an_empty_key_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="LINEAR_API_KEY"):
        LinearClient("", URL)


# --- team keys --------------------------------------------------------------------------------


async def test_team_keys_follow_the_cursor_across_pages(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.teams = [f"T{i}" for i in range(150)]
    keys = await client.team_keys()
    assert keys == frozenset(fake.teams)
    first, second = fake.bodies()
    assert first["variables"] == {"first": 100, "after": None}
    assert second["variables"] == {"first": 100, "after": "100"}


async def test_team_keys_are_cached_until_the_ttl_passes(
    fake: FakeLinear, client: LinearClient, clock: Clock
) -> None:
    assert await client.team_keys() == {"ENG", "OPS"}
    fake.teams.append("NEW")
    clock.now += 3599
    assert await client.team_keys() == {"ENG", "OPS"}
    assert len(fake.requests) == 1
    clock.now += 1
    assert await client.team_keys() == {"ENG", "OPS", "NEW"}
    assert len(fake.requests) == 2


async def test_the_ttl_is_the_instances_own(fake: FakeLinear, clock: Clock) -> None:
    async with LinearClient(KEY, URL, clock=clock, team_ttl_seconds=60) as linear:
        await linear.team_keys()
        clock.now += 60
        await linear.team_keys()
    async with LinearClient(KEY, URL, clock=clock) as other:
        await other.team_keys()
    assert len(fake.requests) == 3


async def test_concurrent_callers_share_one_fetch(
    api: respx.MockRouter, client: LinearClient
) -> None:
    linear = FakeLinear()

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # the other callers arrive while this one waits
        return linear(request)

    api.post(URL).mock(side_effect=slow)
    results = await asyncio.gather(*(client.team_keys() for _ in range(5)))
    assert set(results) == {frozenset({"ENG", "OPS"})}
    assert len(linear.requests) == 1


async def test_a_failure_is_not_cached(api: respx.MockRouter, client: LinearClient) -> None:
    linear = FakeLinear()
    outage = iter([httpx.Response(503, text="upstream connect error")])
    api.post(URL).mock(side_effect=lambda request: next(outage, None) or linear(request))
    with pytest.raises(LinearError):
        await client.team_keys()
    assert await client.team_keys() == {"ENG", "OPS"}


async def test_a_next_page_without_a_new_cursor_is_an_error(
    api: respx.MockRouter, client: LinearClient
) -> None:
    page = {"nodes": [{"key": "ENG"}], "pageInfo": {"hasNextPage": True, "endCursor": None}}
    answer(api, httpx.Response(200, json={"data": {"teams": page}}))
    with pytest.raises(LinearError, match="no new cursor"):
        await client.team_keys()


# --- issues -----------------------------------------------------------------------------------


async def test_several_issues_come_in_one_request_under_aliases(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.issues["ENG-1"] = issue_json(
        "ENG-1",
        title="Idempotent refunds",
        description="Retries must not refund twice.",
        state=("In Review", "started"),
        priority=1.0,
        priority_label="Urgent",
        labels=("backend", "payments"),
        parent=("ENG-0", "Refunds epic"),
        project="Payments v2",
    )
    fake.add("ENG-2", "OPS-7")
    found = await client.issues(["ENG-1", "ENG-2", "OPS-7"])

    (body,) = fake.bodies()
    assert body["variables"] == {"id0": "ENG-1", "id1": "ENG-2", "id2": "OPS-7"}
    for alias, variable in (("issue0", "id0"), ("issue1", "id1"), ("issue2", "id2")):
        assert f"{alias}: issue(id: ${variable})" in body["query"]
    assert "ENG-1" not in body["query"]  # identifiers travel as variables only
    assert list(found) == ["ENG-1", "ENG-2", "OPS-7"]
    assert found["ENG-1"] == LinearIssue(
        identifier="ENG-1",
        title="Idempotent refunds",
        description="Retries must not refund twice.",
        url="https://linear.app/acme/issue/eng-1/slug",
        state="In Review",
        state_type="started",
        priority=1,
        priority_label="Urgent",
        labels=("backend", "payments"),
        parent=("ENG-0", "Refunds epic"),
        project="Payments v2",
    )
    assert isinstance(found["OPS-7"], LinearIssue)
    assert found["OPS-7"].identifier == "OPS-7"


async def test_empty_fields_read_as_empty(fake: FakeLinear, client: LinearClient) -> None:
    fake.issues["ENG-3"] = issue_json("ENG-3", description=None, labels=(), priority=0)
    found = await client.issues(["ENG-3"])
    issue = found["ENG-3"]
    assert isinstance(issue, LinearIssue)
    assert (issue.description, issue.labels, issue.parent, issue.project, issue.priority) == (
        "",
        (),
        None,
        None,
        0,
    )


async def test_an_unknown_identifier_fails_alone(fake: FakeLinear, client: LinearClient) -> None:
    fake.add("ENG-1", "ENG-2")
    found = await client.issues(["ENG-1", "ENG-404", "ENG-2"])
    assert len(fake.requests) == 1
    assert isinstance(found["ENG-1"], LinearIssue)
    assert isinstance(found["ENG-2"], LinearIssue)
    missing = found["ENG-404"]
    assert isinstance(missing, LinearError)
    assert missing.reason == "not found"
    assert not missing.transient


async def test_an_answer_nulled_by_an_unknown_identifier_is_asked_again_without_it(
    fake: FakeLinear, client: LinearClient
) -> None:
    fake.null_propagation = True
    fake.add("ENG-1", "ENG-2")
    found = await client.issues(["ENG-1", "ENG-404", "ENG-2"])
    assert isinstance(found["ENG-1"], LinearIssue)
    assert isinstance(found["ENG-2"], LinearIssue)
    assert isinstance(found["ENG-404"], LinearError)
    assert found["ENG-404"].reason == "not found"
    first, second = fake.bodies()
    assert first["variables"] == {"id0": "ENG-1", "id1": "ENG-404", "id2": "ENG-2"}
    assert second["variables"] == {"id0": "ENG-1", "id1": "ENG-2"}


async def test_follow_ups_are_bounded(api: respx.MockRouter, client: LinearClient) -> None:
    # Each answer nulls everything and names one more unknown alias: the client gives up
    # after three requests instead of asking once per identifier.
    def one_error_at_a_time(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": None, "errors": [not_found("issue0")]})

    route = api.post(URL).mock(side_effect=one_error_at_a_time)
    found = await client.issues([f"ENG-{i}" for i in range(6)])
    assert route.call_count == 3
    for i in range(6):
        error = found[f"ENG-{i}"]
        assert isinstance(error, LinearError)
        # Three were named unknown; the rest were never answered for.
        assert (error.reason == "not found") is (i < 3)
        assert error.transient is (i >= 3)


async def test_a_malformed_issue_fails_alone(api: respx.MockRouter, client: LinearClient) -> None:
    broken = issue_json("ENG-2")
    del broken["title"]
    data = {"issue0": issue_json("ENG-1"), "issue1": broken}
    answer(api, httpx.Response(200, json={"data": data}))
    found = await client.issues(["ENG-1", "ENG-2"])
    assert isinstance(found["ENG-1"], LinearIssue)
    assert isinstance(found["ENG-2"], LinearError)
    assert "not shaped as asked" in found["ENG-2"].reason


async def test_a_refusal_on_one_issue_fails_that_issue_alone(
    api: respx.MockRouter, client: LinearClient
) -> None:
    refused = {
        "message": "You don't have access to this team",
        "path": ["issue1"],
        "extensions": {"code": "FORBIDDEN"},
    }
    data = {"issue0": issue_json("ENG-1"), "issue1": None}
    answer(api, httpx.Response(200, json={"data": data, "errors": [refused]}))
    found = await client.issues(["ENG-1", "SEC-9"])
    assert isinstance(found["ENG-1"], LinearIssue)
    error = found["SEC-9"]
    assert isinstance(error, LinearError)
    assert error.reason == "You don't have access to this team"


async def test_no_identifiers_no_request_and_duplicates_asked_once(
    fake: FakeLinear, client: LinearClient
) -> None:
    assert await client.issues([]) == {}
    assert fake.requests == []
    fake.add("ENG-1")
    found = await client.issues(["ENG-1", "ENG-1"])
    assert list(found) == ["ENG-1"]
    assert fake.bodies()[0]["variables"] == {"id0": "ENG-1"}


async def test_too_many_identifiers_is_the_callers_mistake(client: LinearClient) -> None:
    with pytest.raises(ValueError, match=str(MAX_IDENTIFIERS)):
        await client.issues([f"ENG-{i}" for i in range(MAX_IDENTIFIERS + 1)])


# --- failures of the whole request ------------------------------------------------------------

RATE_LIMITED_BODY = {
    "errors": [
        {
            "message": "Rate limit exceeded",
            "extensions": {"type": "ratelimited", "code": "RATELIMITED", "userError": True},
        }
    ]
}


@pytest.mark.parametrize(
    ("response", "reason", "status", "transient"),
    [
        (
            httpx.Response(401, json={"errors": [{"message": "Authentication required"}]}),
            "Linear refused the API key (401): check LINEAR_API_KEY",
            401,
            False,
        ),
        (
            httpx.Response(
                400,
                json={
                    "errors": [
                        {
                            "message": "Authentication required, not authenticated",
                            "extensions": {"code": "AUTHENTICATION_ERROR"},
                        }
                    ]
                },
            ),
            "Linear refused the API key (400): check LINEAR_API_KEY",
            400,
            False,
        ),
        (
            httpx.Response(403, json={"errors": [{"message": "Forbidden"}]}),
            "Linear refused access (403): check LINEAR_API_KEY",
            403,
            False,
        ),
        (
            httpx.Response(429, headers={"Retry-After": "30"}, text="Too Many Requests"),
            "Linear rate limit (429), retry after 30 s",
            429,
            True,
        ),
        (httpx.Response(429), "Linear rate limit (429)", 429, True),
        (
            httpx.Response(400, json=RATE_LIMITED_BODY),
            "Linear rate limit (RATELIMITED)",
            400,
            True,
        ),
        (httpx.Response(500, json={"errors": [{"message": "boom"}]}), None, 500, True),
        (httpx.Response(502, text="<html>Bad gateway</html>"), None, 502, True),
        (
            httpx.Response(400, json={"errors": [{"message": 'Cannot query field "nme"'}]}),
            'Linear refused the query (400): Cannot query field "nme"',
            400,
            False,
        ),
        (httpx.Response(404, text="Not Found"), "Linear answered 404", 404, False),
        (
            httpx.Response(200, text="<html>maintenance</html>"),
            "Linear's answer was not GraphQL as expected (200, not a JSON object)",
            200,
            False,
        ),
        (
            httpx.Response(200, json=["data"]),
            "Linear's answer was not GraphQL as expected (200, not a JSON object)",
            200,
            False,
        ),
        (
            httpx.Response(200, json={"data": None}),
            "Linear's answer was not GraphQL as expected (200, no data)",
            200,
            False,
        ),
    ],
)
@pytest.mark.parametrize("verb", ["team_keys", "issues"])
async def test_http_failures(
    api: respx.MockRouter,
    client: LinearClient,
    verb: str,
    response: httpx.Response,
    reason: str | None,
    status: int,
    transient: bool,
) -> None:
    answer(api, response)
    with pytest.raises(LinearError) as caught:
        await call(client, verb)
    assert isinstance(caught.value, BackendReviewError)
    if reason is None:
        assert caught.value.reason == f"Linear answered {status} (server error)"
    else:
        assert caught.value.reason == reason
    assert caught.value.status == status
    assert caught.value.transient is transient


async def test_a_rate_limit_carries_linears_wait(
    api: respx.MockRouter, client: LinearClient
) -> None:
    answer(api, httpx.Response(400, headers={"Retry-After": "12"}, json=RATE_LIMITED_BODY))
    with pytest.raises(LinearError) as caught:
        await client.issues(["ENG-1"])
    assert caught.value.retry_after == 12
    assert caught.value.reason == "Linear rate limit (RATELIMITED), retry after 12 s"


async def test_graphql_errors_without_data_give_the_first_message_clipped(
    api: respx.MockRouter, client: LinearClient
) -> None:
    long = "Something went wrong " + "x" * 500 + "\n    at resolver (/srv/app.js:1:1)"
    body = {"errors": [{"message": long}, {"message": "second"}], "data": None}
    answer(api, httpx.Response(200, json=body))
    with pytest.raises(LinearError) as caught:
        await client.team_keys()
    reason = caught.value.reason
    assert reason.startswith("Linear answered with an error (200): Something went wrong xxx")
    assert reason.endswith("…")
    assert len(reason) < 250
    assert "resolver" not in reason
    assert "second" not in reason
    assert not caught.value.transient


async def test_graphql_errors_not_tied_to_an_issue_fail_the_whole_call(
    api: respx.MockRouter, client: LinearClient
) -> None:
    body = {"errors": [{"message": "Query too complex", "path": None}], "data": None}
    answer(api, httpx.Response(200, json=body))
    with pytest.raises(LinearError, match="Query too complex"):
        await client.issues(["ENG-1", "ENG-2"])


@pytest.mark.parametrize(
    ("effect", "reason"),
    [
        (httpx.ReadTimeout("timed out"), "Linear did not answer within 10 s"),
        (httpx.ConnectTimeout("timed out"), "Linear did not answer within 10 s"),
        (
            httpx.ConnectError("Name or service not known"),
            "connection to Linear failed (ConnectError)",
        ),
        (
            httpx.RemoteProtocolError("peer closed"),
            "connection to Linear failed (RemoteProtocolError)",
        ),
    ],
)
@pytest.mark.parametrize("verb", ["team_keys", "issues"])
async def test_network_failures_are_transient(
    api: respx.MockRouter, client: LinearClient, verb: str, effect: Exception, reason: str
) -> None:
    api.post(URL).mock(side_effect=effect)
    with pytest.raises(LinearError) as caught:
        await call(client, verb)
    assert caught.value.reason == reason
    assert caught.value.transient
    assert caught.value.status is None


async def test_the_timeout_bounds_the_whole_request(api: respx.MockRouter, clock: Clock) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={"data": {}})

    api.post(URL).mock(side_effect=slow)
    async with LinearClient(KEY, URL, timeout=0.05, clock=clock) as linear:
        with pytest.raises(LinearError) as caught:
            await asyncio.wait_for(linear.team_keys(), timeout=2)
    assert caught.value.reason == "Linear did not answer within 0.05 s"
    assert caught.value.transient


# --- the key is never shown -------------------------------------------------------------------


def echoing(response: Callable[[str], httpx.Response]) -> Callable[[httpx.Request], Any]:
    """A side effect whose answer repeats the Authorization header it was sent."""
    return lambda request: response(request.headers["authorization"])


LEAKS = [
    echoing(lambda key: httpx.Response(401, json={"errors": [{"message": f"bad key {key}"}]})),
    echoing(lambda key: httpx.Response(200, json={"errors": [{"message": f"no {key}"}]})),
    echoing(lambda key: httpx.Response(400, json={"errors": [{"message": f"{key} is odd"}]})),
    echoing(lambda key: httpx.Response(500, text=f"trace: Authorization={key}")),
    echoing(lambda key: httpx.Response(200, text=f"<html>{key}</html>")),
    echoing(
        lambda key: httpx.Response(
            200,
            json={"data": None, "errors": [{"message": f"Entity {key} not", "path": ["issue0"]}]},
        )
    ),
    httpx.ReadTimeout("timed out"),
    httpx.ConnectError("refused"),
]


@pytest.mark.parametrize("effect", LEAKS)
@pytest.mark.parametrize("verb", ["team_keys", "issues"])
async def test_the_key_is_in_no_reason_repr_or_log_line(
    api: respx.MockRouter,
    client: LinearClient,
    caplog: pytest.LogCaptureFixture,
    verb: str,
    effect: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    api.post(URL).mock(side_effect=effect)
    shown: list[str] = [repr(client)]
    try:
        result = await call(client, verb)
    except LinearError as exc:
        shown += [str(exc), repr(exc), exc.reason]
        # As the pipeline would log it: the traceback must not carry the key either.
        logging.getLogger("tests.linear").exception("Linear failed: %s", exc.reason)
    else:
        assert isinstance(result, dict)
        shown += [f"{v!s} {v!r}" for v in result.values()]
    shown.append(caplog.text)
    for text in shown:
        assert KEY not in text


async def test_a_key_cut_by_the_clip_is_still_redacted(
    api: respx.MockRouter, client: LinearClient
) -> None:
    echo = "x" * 190 + " " + KEY
    answer(api, httpx.Response(200, json={"errors": [{"message": echo}], "data": None}))
    with pytest.raises(LinearError) as caught:
        await client.team_keys()
    assert KEY[:6] not in caught.value.reason


# --- the HTTP client's lifetime ---------------------------------------------------------------


async def test_a_passed_in_http_client_is_left_open(fake: FakeLinear) -> None:
    async with httpx.AsyncClient() as http:
        async with LinearClient(KEY, URL, http_client=http) as linear:
            await linear.team_keys()
        assert not http.is_closed
        assert "authorization" not in http.headers  # the key is sent per request only


async def test_its_own_http_client_is_closed(fake: FakeLinear) -> None:
    linear = LinearClient(KEY, URL)
    await linear.team_keys()
    await linear.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await linear.issues(["ENG-1"])


async def call(client: LinearClient, verb: str) -> object:
    if verb == "team_keys":
        return await client.team_keys()
    return await client.issues(["ENG-1", "ENG-2"])
