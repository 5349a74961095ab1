"""Check runs: created and updated by the App, annotations appended across updates, and the
run's `actions` (buttons) kept as last given.

Validation follows the Checks API: `name` and `head_sha` on create, `conclusion` whenever the
run is completed, `output.title` and `output.summary` (summary and text at most 65,535
characters), at most 50 annotations per request, each with path, lines, level and message.
Errors read `"Invalid request.\\n\\n..."` as GitHub's do (`No more than 50 items are allowed;
51 were supplied.` is GitHub's wording; the over-long summary wording is a guess).
"""

from __future__ import annotations

from typing import Any

from tests.fakes import github_json as js
from tests.fakes.github_http import Ctx, Fail, Reply, Route, not_found, paginate, route
from tests.fakes.github_objects import CheckRun
from tests.fakes.github_routes import repo_of
from tests.fakes.github_state import GitHubState

ROUTES: list[Route] = []
CONCLUSIONS = (
    "action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale",
    "timed_out",
)  # fmt: skip
STATUSES = ("queued", "in_progress", "completed")
ANNOTATION_LEVELS = ("notice", "warning", "failure")
MAX_OUTPUT = 65535  # summary and text
MAX_ANNOTATIONS = 50
MAX_ACTIONS = 3
ACTION_LIMITS = {"label": 20, "description": 40, "identifier": 20}


def _check_run_problems(body: dict[str, Any], *, creating: bool) -> list[str]:
    problems: list[str] = []

    def supplied(names: list[str]) -> None:
        if names:
            quoted = ", ".join(f'"{n}"' for n in names)
            problems.append(f"{quoted} {'wasn' if len(names) == 1 else 'weren'}'t supplied.")

    if creating:
        supplied([k for k in ("name", "head_sha") if not body.get(k)])
    status, conclusion = body.get("status"), body.get("conclusion")
    if status is not None and status not in STATUSES:
        problems.append(f"For 'properties/status', \"{status}\" is not a valid value.")
    if conclusion is not None and conclusion not in CONCLUSIONS:
        problems.append(f"For 'properties/conclusion', \"{conclusion}\" is not a valid value.")
    if status == "completed" and conclusion is None:
        supplied(["conclusion"])
    problems += _action_problems(body.get("actions"))
    output = body.get("output")
    if output is None:
        return problems
    if not isinstance(output, dict):
        return [*problems, "For 'properties/output', it is not an object."]
    supplied([k for k in (("title", "summary") if creating else ("summary",)) if not output.get(k)])
    for key in ("summary", "text"):
        if isinstance(output.get(key), str) and len(output[key]) > MAX_OUTPUT:
            problems.append(
                f"Only {MAX_OUTPUT} characters are allowed in '{key}'; "
                f"{len(output[key])} were supplied."
            )
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        problems.append(
            f"No more than {MAX_ANNOTATIONS} items are allowed; {len(annotations)} were supplied."
        )
        return problems
    for a in annotations:
        supplied(
            [
                k
                for k in ("path", "start_line", "end_line", "annotation_level", "message")
                if a.get(k) is None
            ]
        )
        if a.get("annotation_level") is not None and a["annotation_level"] not in ANNOTATION_LEVELS:
            problems.append(
                f"For 'properties/annotation_level', \"{a['annotation_level']}\" "
                "is not a valid value."
            )
        if len(a.get("title") or "") > 255:
            problems.append("Only 255 characters are allowed in 'title'.")
        columns = a.get("start_column") is not None or a.get("end_column") is not None
        if columns and a.get("start_line") != a.get("end_line"):
            problems.append(
                "start_column and end_column may only be used when start_line equals end_line."
            )
    return problems


def _action_problems(actions: Any) -> list[str]:
    """The Checks API's rules for `actions`: at most 3, each with a label (20 characters), a
    description (40) and an identifier (20)."""
    if actions is None:
        return []
    if not isinstance(actions, list):
        return ["For 'properties/actions', it is not an array."]
    if len(actions) > MAX_ACTIONS:
        return [f"No more than {MAX_ACTIONS} items are allowed; {len(actions)} were supplied."]
    problems = []
    for action in actions:
        if not isinstance(action, dict):
            problems.append("For 'items', it is not an object.")
            continue
        for key, limit in ACTION_LIMITS.items():
            value = action.get(key)
            if not isinstance(value, str) or not value:
                problems.append('"' + key + "\" wasn't supplied.")
            elif len(value) > limit:
                problems.append(f"Only {limit} characters are allowed in '{key}'.")
    return problems


def _apply(state: GitHubState, run: CheckRun, body: dict[str, Any]) -> None:
    for key in ("name", "details_url", "external_id"):
        if key in body:
            setattr(run, key, body[key])
    if "actions" in body:
        run.actions = [dict(a) for a in body["actions"]]
    if body.get("status"):
        run.status = body["status"]
    if body.get("conclusion"):
        run.conclusion, run.status = body["conclusion"], "completed"
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = state.now()
    output = body.get("output") or {}
    run.output.update({k: output[k] for k in ("title", "summary", "text") if k in output})
    run.annotations.extend(dict(a) for a in output.get("annotations") or [])


def _check_run_fail(problems: list[str], doc: str) -> Fail:
    return Fail(Reply(422, js.error("Invalid request.\n\n" + "\n".join(problems), doc, 422)))


@route(ROUTES, "POST", "/repos/{owner}/{repo}/check-runs", "token", ("checks", "write"))
def create_check_run(state: GitHubState, ctx: Ctx) -> Reply:
    doc = "/checks/runs#create-a-check-run"
    repo = repo_of(ctx)
    body = ctx.json_body()
    problems = _check_run_problems(body, creating=True)
    if problems:
        raise _check_run_fail(problems, doc)
    if body["head_sha"] not in repo.commits:
        raise Fail(Reply(422, js.error(f"No commit found for SHA: {body['head_sha']}", doc, 422)))
    run = CheckRun(
        state.next_id(30000000000), repo.full_name, body["name"], body["head_sha"], "queued", None,
        None, None, state.now(), None, {"title": None, "summary": None, "text": None},
    )  # fmt: skip
    _apply(state, run, body)
    state.check_runs.append(run)
    return Reply(201, js.check_run(ctx.api, state, run))


def _find_run(state: GitHubState, ctx: Ctx) -> CheckRun:
    repo = repo_of(ctx)
    for run in state.check_runs:
        if str(run.id) == ctx.params["run_id"] and run.repo == repo.full_name:
            return run
    raise not_found("/checks/runs#get-a-check-run")


@route(ROUTES, "PATCH", "/repos/{owner}/{repo}/check-runs/{run_id}", "token", ("checks", "write"))
def update_check_run(state: GitHubState, ctx: Ctx) -> Reply:
    run = _find_run(state, ctx)
    body = ctx.json_body()
    problems = _check_run_problems(body, creating=False)
    if problems:
        raise _check_run_fail(problems, "/checks/runs#update-a-check-run")
    _apply(state, run, body)
    run.updates += 1
    return Reply(200, js.check_run(ctx.api, state, run))


@route(ROUTES, "GET", "/repos/{owner}/{repo}/check-runs/{run_id}", "token", ("checks", "read"))
def get_check_run(state: GitHubState, ctx: Ctx) -> Reply:
    return Reply(200, js.check_run(ctx.api, state, _find_run(state, ctx)))


@route(
    ROUTES,
    "GET",
    "/repos/{owner}/{repo}/check-runs/{run_id}/annotations",
    "token",
    ("checks", "read"),
)
def list_annotations(state: GitHubState, ctx: Ctx) -> Reply:
    run = _find_run(state, ctx)
    return paginate(ctx, [js.annotation(run.repo, run.head_sha, a) for a in run.annotations])


@route(ROUTES, "GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", "token", ("checks", "read"))
def list_check_runs(state: GitHubState, ctx: Ctx) -> Reply:
    repo = repo_of(ctx)
    sha = state.resolve(repo, ctx.params["ref"])
    if sha is None:
        message = f"No commit found for SHA: {ctx.params['ref']}"
        raise Fail(
            Reply(422, js.error(message, "/checks/runs#list-check-runs-for-a-git-reference", 422))
        )
    runs = state.check_runs_for(repo, sha, ctx.query.get("check_name"))
    if ctx.query.get("status"):
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("filter", "latest") == "latest":
        latest = {r.name: r for r in sorted(runs, key=lambda r: r.id)}
        runs = list(latest.values())
    runs = sorted(runs, key=lambda r: r.id, reverse=True)
    return paginate(ctx, [js.check_run(ctx.api, state, r) for r in runs], wrap="check_runs")
