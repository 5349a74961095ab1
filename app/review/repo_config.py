"""`.github/backend-review.yml`: the repository's review policy, one pydantic model.

Read from the base branch by the caller (a PR must not switch its own gate off), parsed here.
Every key has a default, so an empty file is a valid config; an unknown key or a wrong type is
an error naming the key path, because a typo must never silently disable a check.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.review.config_yaml import YamlProblem, load_yaml, shown_key
from app.review.findings import Severity
from app.review.globs import glob_problem, match_glob, set_problem
from app.review.rules import ALL_RULES, RuleContext

CONFIG_PATH = ".github/backend-review.yml"
# Where the committed copy of `config_schema()` is published (docs/backend-review.schema.json).
SCHEMA_URL = (
    "https://raw.githubusercontent.com/backend-review/backend-review/main/"
    "docs/backend-review.schema.json"
)

# Limits far above real configs (a few dozen globs of a few dozen characters), so that what a
# review compiles stays small: RE2 compiles the whole `ignore` list as one set within 8 MB, which
# about 2,000 globs such as `vendor/**/*.py[co]` fill (45,000 characters), or 8,000 `?`. A list
# within these limits can still be too large together; that is checked by compiling it
# (`_a_glob_list`), which the total keeps under a fifth of a second even when it fails.
MAX_IGNORE_GLOBS = 500
# Each `path_instructions` glob is compiled on its own and kept in `compile_globs`' cache of 256:
# more globs than that would be compiled again for every file of every review.
MAX_PATH_INSTRUCTIONS = 200
MAX_GLOB_CHARS = 1_000
MAX_GLOBS_TOTAL_CHARS = 20_000  # of one key's globs, counted before any is compiled
# A hostile file could otherwise fill megabytes with problems (40,000 duplicated keys).
MAX_PROBLEMS = 50


class RepoConfigError(ValueError):
    """The config file is not valid; `problems` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _a_glob(pattern: str) -> str:
    problem = glob_problem(pattern)
    if problem is not None:
        raise ValueError(f"not a usable glob: {problem}")
    return pattern


def _a_positive_glob(pattern: str) -> str:
    if pattern.strip().startswith("!"):
        raise ValueError("a '!' glob matches nothing here (it only brings back in `ignore`)")
    return _a_glob(pattern)


def _within_total(most: int) -> BeforeValidator:
    """Globs (a list, or a mapping's keys) no longer in all than MAX_GLOBS_TOTAL_CHARS; any
    other value is left to the type's own checks, and more than `most` entries to the count's."""

    def check(value: object) -> object:
        if not isinstance(value, list | dict) or len(value) > most:
            return value
        total = sum(len(glob) for glob in value if isinstance(glob, str))
        if total > MAX_GLOBS_TOTAL_CHARS:
            raise ValueError(
                f"at most {MAX_GLOBS_TOTAL_CHARS:,} characters of globs in all (this has {total:,})"
            )
        return value

    return BeforeValidator(check)


def _a_glob_list(patterns: list[str]) -> list[str]:
    problem = set_problem(patterns)
    if problem is not None:
        raise ValueError(problem)
    return patterns


_GlobText = Annotated[str, StringConstraints(max_length=MAX_GLOB_CHARS)]
Glob = Annotated[_GlobText, AfterValidator(_a_glob)]
PositiveGlob = Annotated[_GlobText, AfterValidator(_a_positive_glob)]
# The length is checked before the items are: a list of 40,000 globs is not compiled one by one.
IgnoreList = Annotated[
    list[Glob],
    Field(max_length=MAX_IGNORE_GLOBS),
    _within_total(MAX_IGNORE_GLOBS),
    AfterValidator(_a_glob_list),
]
InstructionMap = Annotated[
    dict[PositiveGlob, str],
    Field(max_length=MAX_PATH_INSTRUCTIONS),
    _within_total(MAX_PATH_INSTRUCTIONS),
]


class LinearConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    enabled: bool = Field(default=True, description="read the Linear issues a PR links")
    require_issue: bool = Field(
        default=False, description="report a finding when a PR links no Linear issue"
    )


# The roles GitHub grants on a repository, weakest first; the webhook and the collaborator API
# name them so. Dismissing needs at least write: a reader is never asked.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
DismissRole = Literal["write", "maintain", "admin"]


def role_rank(role: str) -> int:
    """A role's place in ROLES (an unknown role ranks as none)."""
    return ROLES.index(role) if role in ROLES else 0


class DismissConfig(BaseModel):
    """Who may dismiss a finding with `/backend-review ignore` (read from the base branch)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    allow_author: bool = Field(
        default=False,
        description="let a pull request's author dismiss findings on their own pull request",
    )
    min_permission: DismissRole = Field(
        default="write", description="the least role that may dismiss a finding"
    )
    critical_min_permission: DismissRole = Field(
        default="maintain", description="the least role that may dismiss a critical finding"
    )

    @model_validator(mode="after")
    def _critical_not_weaker(self) -> DismissConfig:
        if role_rank(self.critical_min_permission) < role_rank(self.min_permission):
            raise ValueError(
                f"critical_min_permission must be at least min_permission ({self.min_permission})"
            )
        return self


class ModelConfig(BaseModel):
    """How much the model's findings may decide (read from the base branch, like the rest)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    blocking: bool = Field(
        default=True,
        description="false: the model's findings never fail the check, and a model that did "
        "not review does not hold it at neutral",
    )
    block_confidence: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="the least confidence at which a model evidence finding may fail the check",
    )
    verify: bool = Field(
        default=False,
        description="true: each model finding that would fail the check is first shown to the "
        "model once more, with the code around it, and blocks only if that call confirms it",
    )
    incomplete: Literal["neutral", "failure"] = Field(
        default="neutral",
        description="the check's conclusion when the model did not review all it should have "
        "(an outage, a budget, a refusal, code it could not see): neutral (GitHub counts it as "
        "passing a required check) or failure (a strict gate: nothing unreviewed merges)",
    )


class RepoConfig(BaseModel):
    """The repository's review policy; every key is optional."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_files: int = Field(
        default=15, ge=1, description="files per change before the size rule suggests a split"
    )
    fail_on: Annotated[Severity, Field(strict=False)] = Field(
        default=Severity.MAJOR, description="lowest severity that fails the check run"
    )
    ignore: IgnoreList = Field(
        default_factory=list,
        description="extra globs not to review, as the lines of a .gitignore; '!glob' brings "
        f"one back, later entries win (at most {MAX_IGNORE_GLOBS} globs of at most "
        f"{MAX_GLOB_CHARS:,} characters, {MAX_GLOBS_TOTAL_CHARS:,} in all)",
    )
    path_instructions: InstructionMap = Field(
        default_factory=dict,
        description="glob -> extra guidance for the reviewer (at most "
        f"{MAX_PATH_INSTRUCTIONS} globs of at most {MAX_GLOB_CHARS:,} characters, "
        f"{MAX_GLOBS_TOTAL_CHARS:,} in all)",
    )
    rules: dict[str, bool] = Field(
        default_factory=dict, description="rule id -> false to switch a rule off"
    )
    persona: str | None = Field(default=None, description="persona name or file in the repo")
    review_drafts: bool = Field(default=False, description="review draft pull requests too")
    request_changes: bool = Field(
        default=False, description="request changes (not just comment) when the check fails"
    )
    linear: LinearConfig = Field(default_factory=LinearConfig)
    dismiss: DismissConfig = Field(default_factory=DismissConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)

    def rule_context(self) -> RuleContext:
        """What the deterministic rules need from this config."""
        return RuleContext(
            max_files=self.max_files,
            ignore=tuple(self.ignore),
            disabled=frozenset(rule for rule, on in self.rules.items() if not on),
        )

    def instructions_for(self, path: str) -> list[str]:
        """The `path_instructions` whose glob matches `path`, in file order."""
        return [text for glob, text in self.path_instructions.items() if match_glob(path, glob)]

    def fails(self, severity: Severity) -> bool:
        """Whether a finding of `severity` fails the check."""
        return severity.at_least(self.fail_on)


def config_schema(rule_ids: Collection[str] | None = None) -> dict[str, Any]:
    """The JSON Schema of the config file, for editors (`backend-review schema --config`).

    `rules` names its keys (every rule id in `ALL_RULES` by default), so an editor completes
    them and marks a misspelt one, as `config check` does.
    """
    ids = sorted(rule_ids if rule_ids is not None else {r.id for r in ALL_RULES})
    schema = RepoConfig.model_json_schema()
    schema["properties"]["rules"]["propertyNames"] = {"enum": ids}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        **schema,
        "title": CONFIG_PATH,
    }


def parse_repo_config(text: str, *, known_rules: Collection[str] | None = None) -> RepoConfig:
    """Parse the YAML text of `.github/backend-review.yml`; raise `RepoConfigError` if invalid.

    `known_rules` defaults to every rule id in `ALL_RULES`; a `rules:` key outside it is an error.
    """
    try:
        loaded = load_yaml(text)
    except YamlProblem as exc:
        raise RepoConfigError([str(exc)]) from exc
    data, problems = loaded.data, list(loaded.duplicates)
    if data is None and not problems:
        return RepoConfig()
    if not isinstance(data, dict):
        raise RepoConfigError(["expected a mapping of settings (key: value) at the top level"])
    # Every problem in one pass: the types, then the rule ids (read from the raw mapping, so an
    # unknown id is reported next to a type error elsewhere, not after it is fixed).
    config: RepoConfig | None = None
    try:
        config = RepoConfig.model_validate(data)
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors()]
    known = set(known_rules) if known_rules is not None else {r.id for r in ALL_RULES}
    rules = data.get("rules")
    problems += [
        f"rules.{shown_key(str(rule))}: unknown rule{_did_you_mean(str(rule), known)}"
        for rule in (rules if isinstance(rules, dict) else {})
        if rule not in known
    ]
    if problems or config is None:
        raise RepoConfigError(_capped(loaded.order(problems)))
    return config


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"… and {len(problems) - MAX_PROBLEMS} more problems"]


_EXPECTED = {
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "float_type": "expected a number",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "enum": "expected one of " + ", ".join(s.value for s in Severity),
}
_SECTIONS: dict[str, type[BaseModel]] = {
    "linear": LinearConfig,
    "dismiss": DismissConfig,
    "model": ModelConfig,
}


def _describe(error: Any) -> str:
    loc = [shown_key(str(part)) for part in error["loc"]]
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    path = ""
    for i, part in enumerate(loc):
        in_list = i > 0 and loc[i - 1] == "ignore"
        path += f"[{part}]" if in_list else (f".{part}" if path else part)
    kind = error["type"]
    if kind == "extra_forbidden":
        section = _SECTIONS.get(loc[0], RepoConfig) if len(loc) > 1 else RepoConfig
        return f"{path}: unknown key{_did_you_mean(loc[-1], set(section.model_fields))}"
    if kind == "greater_than_equal":
        message = f"must be at least {error['ctx']['ge']:g}"
    elif kind == "less_than_equal":
        message = f"must be at most {error['ctx']['le']:g}"
    elif kind == "too_long":
        ctx = error["ctx"]
        # A mapping's count is not known: pydantic stops at the first entry over the limit.
        found = f" (this has {ctx['actual_length']})" if ctx.get("actual_length") else ""
        message = f"at most {ctx['max_length']} entries{found}"
    elif kind == "string_too_long":
        length = len(error["input"]) if isinstance(error["input"], str) else "more"
        message = f"at most {error['ctx']['max_length']} characters (this has {length})"
    elif kind == "literal_error":
        message = f"expected one of {error['ctx']['expected'].replace(chr(39), '')}"
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = _EXPECTED.get(kind, error["msg"])
    if is_key:
        message = f"the key: {message}"
    return f"{path or '(top level)'}: {message}"


def _did_you_mean(word: str, choices: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
