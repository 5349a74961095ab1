"""`/backend-review` slash commands: what a comment asks for, and the texts we answer with.

Pure: the command job reads the comment, checks who wrote it, and acts; parsing and wording
live here so they can be tested on their own and stay the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

from app.review.markers import defuse, fixed_marker
from app.review.persona import Checklist, Persona
from app.review.repo_config import CONFIG_PATH, RepoConfig

PREFIX = "/backend-review"
ALLOWED_PERMISSIONS = frozenset({"admin", "maintain", "write"})
MAX_REASON_CHARS = 500

CommandKind = Literal["review", "help", "config", "ignore", "explain", "unknown"]

# What a reply in a finding's thread may ask about that finding (no id needed there).
THREAD_KINDS = frozenset({"ignore", "explain"})

_FINDING_ID = re.compile(r"^br-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class Command:
    kind: CommandKind
    finding_id: str | None = None
    reason: str | None = None
    problem: str | None = None  # why an `ignore` or an unknown word could not be taken


def parse_command(body: str, *, thread_finding: str | None = None) -> Command:
    """The command in a comment whose first word is `/backend-review` (only its first line).

    `thread_finding`: the comment is a reply in that finding's thread, where `ignore` needs no
    id (one that names another finding is refused) and `explain` is about that finding."""
    first = body.strip().splitlines()[0] if body.strip() else ""
    words = first.split()
    if not words or words[0] != PREFIX:
        return Command("unknown", problem="not a /backend-review command")
    if len(words) == 1 or words[1] in ("review", "run"):
        return Command("review")
    verb = words[1].lower()
    if verb == "help":
        return Command("help")
    if verb == "config":
        return Command("config")
    if verb == "ignore":
        if thread_finding is not None:
            return _ignore_here(words[2:], thread_finding)
        return _ignore(words[2:])
    if verb == "explain":
        if thread_finding is None:
            return Command(
                "explain", problem="reply `/backend-review explain` in the finding's thread"
            )
        return Command("explain", finding_id=thread_finding)
    return Command("unknown", problem=f"unknown command `{_code(words[1])}`")


def _ignore_here(args: list[str], finding_id: str) -> Command:
    if args and _FINDING_ID.match(args[0].strip("`")):
        named = args[0].strip("`")
        if named != finding_id:
            return Command(
                "ignore",
                problem=f"this thread is about `{finding_id}`, not `{named}`: "
                "run that one in its own thread or in the conversation",
            )
        args = args[1:]
    return _ignore([finding_id, *args])


def _ignore(args: list[str]) -> Command:
    if not args:
        return Command("ignore", problem="give the finding id and a reason")
    finding_id = args[0].strip("`")
    if not _FINDING_ID.match(finding_id):
        return Command(
            "ignore",
            problem=f"`{_code(finding_id)}` is not a finding id (they look like `br-1a2b3c4d5e6f`)",
        )
    reason = " ".join(args[1:]).strip()
    if not reason:
        return Command("ignore", finding_id=finding_id, problem="say why it can be ignored")
    return Command("ignore", finding_id=finding_id, reason=reason[:MAX_REASON_CHARS])


def _code(text: str) -> str:
    return defuse(text.replace("`", "'"))[:80]


HELP = f"""\
**backend-review** commands (anyone with write access to this repository):

| command | what it does |
|---|---|
| `{PREFIX}` | review the pull request again now |
| `{PREFIX} help` | this text |
| `{PREFIX} config` | the configuration and persona this pull request is reviewed with |
| `{PREFIX} ignore <finding-id> <reason>` | dismiss a finding: it stops counting for the check \
(who and why are shown in the summary) |
| `{PREFIX} ignore <reason>` | in a finding's thread: dismiss that finding |
| `{PREFIX} explain` | in a finding's thread: why it was raised, with the model's reasoning |

Finding ids are in each comment's footer and in the summary's table (`br-…`). The configuration \
is read from `{CONFIG_PATH}` on the base branch."""


def help_text(problem: str | None = None) -> str:
    return f"{problem.rstrip('.')}.\n\n{HELP}" if problem else HELP


def refusal(login: str) -> str:
    return (
        f"Sorry @{_code(login)}, `{PREFIX}` commands can only be run by people with write "
        "access to this repository. A maintainer can run it for you."
    )


def dismissal_refused(finding_id: str, login: str, why: str) -> str:
    """The answer to an `ignore` the repository's policy does not allow: what, and why."""
    return (
        f"Not dismissed: `{finding_id}` still counts for the check. Sorry @{_code(login)}, "
        f"{defuse(why)}.\n\nWho may dismiss is set under `dismiss:` in `{CONFIG_PATH}` on the "
        "base branch."
    )


def dismissed_text(finding_id: str, login: str, reason: str, *, caveat: str | None = None) -> str:
    """`caveat`: what the review may still decide (the finding's severity was not known)."""
    text = (
        f"Dismissed `{finding_id}` for @{_code(login)}: {defuse(reason)}\n\n"
        "It no longer counts for the check; the summary and the check are being updated."
    )
    return f"{text}\n\n{caveat}" if caveat else text


def fixed_text(finding_id: str, head_sha: str) -> str:
    """Our reply in a finding's thread that a person spoke in, once a push fixed it."""
    return (
        f"Fixed in {head_sha[:12]}: the review no longer finds `{finding_id}`. "
        "Resolve this conversation when you are done with it.\n\n"
        f"{fixed_marker(finding_id)}"
    )


NOT_A_FINDING_THREAD = (
    f"This thread is not about a backend-review finding: `{PREFIX} ignore` and `{PREFIX} explain` "
    "work in the threads of our inline comments."
)


def explain_text(
    finding_id: str,
    *,
    title: str,
    evidence: str,
    recommendation: str,
    reasoning: str | None,
    no_model: str | None,
) -> str:
    """The answer to `explain`: what the review recorded, then the model's reasoning (or why
    there is none). Everything but the id is untrusted (the model read the pull request)."""
    parts = [f"**Why `{finding_id}` was raised:** {defuse(title.strip())}"]
    if evidence.strip():
        parts.append(f"**Evidence:** {defuse(evidence.strip())}")
    if recommendation.strip():
        parts.append(f"**Recommendation:** {defuse(recommendation.strip())}")
    if reasoning:
        parts.append(f"**The model's reasoning:** {defuse(reasoning.strip())}")
    elif no_model:
        parts.append(f"<sub>No model explanation: {defuse(no_model)}.</sub>")
    parts.append(
        f"<sub>Not convinced? `{PREFIX} ignore <reason>` here dismisses it "
        "(the repository's dismissal policy applies).</sub>"
    )
    return "\n\n".join(parts)[:60_000]


def dismissal_note(login: str, reason: str) -> str:
    """How a dismissal is shown in the summary."""
    return f"by @{login}: {reason}"


def config_text(
    config: RepoConfig,
    persona: Persona,
    *,
    config_problem: str | None,
    base_ref: str,
    checklists: Sequence[Checklist] | None = None,
) -> str:
    """The effective configuration and persona, as the review uses them (`checklists`: the
    persona's on top of the built-in ones; default: the persona's own)."""
    data = config.model_dump(mode="json")
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip()
    source = f"`{CONFIG_PATH}` on `{_code(base_ref)}`"
    lines = [f"**Effective configuration** (from {source}, defaults filled in):"]
    if config_problem:
        lines.append(
            f"> The file could not be used, so the defaults apply: {defuse(config_problem)}"
        )
    lines += ["```yaml", dumped.replace("```", "'''"), "```"]
    used = persona.checklists if checklists is None else checklists
    items = sum(len(c.items) for c in used)
    lines.append(
        f"**Persona:** `{_code(persona.name)}` from `{_code(persona.source)}` "
        f"({len(used)} checklists, {items} items)"
    )
    return "\n".join(lines)
