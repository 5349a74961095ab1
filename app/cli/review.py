"""`backend-review review` and `backend-review schema`: the review core on a local diff.

This module is the I/O edge of the local review: it reads the diff (a file, stdin, or a git
range through a `git` subprocess), the repo config, the persona, the settings and the
environment (NO_COLOR), runs the review (`app.cli.model`: with the model when one is
configured and `--no-llm` is not given), and writes the chosen formats. Progress, notices about
the model and the tokens used go to stderr; a rules-only run writes nothing there.
Exit codes: 0 pass, 1 the check would fail, 2 usage or input error (one line on stderr, no
traceback). What the model does never changes them: without it, the rules decide.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from app import __version__
from app.cli.files import Revisions, read_local_files
from app.jobs.context_limits import context_limits
from app.jobs.persona_files import bundled_personas_dir, load_persona_file, resolve_persona
from app.review.diff import DiffParseError, parse_diff
from app.review.findings import findings_schema, summary_schema
from app.review.persona import DEFAULT_PERSONA, Checklist, Persona, PersonaError
from app.review.plan import ReviewPlan
from app.review.repo_config import (
    CONFIG_PATH,
    RepoConfig,
    RepoConfigError,
    config_schema,
    parse_repo_config,
)
from app.review.report import as_json, as_markdown, as_sarif, as_text
from app.review.rules import ALL_RULES
from app.settings import Settings, load_settings

# `app.cli.model` and `app.jobs.model_calls` load the Anthropic SDK (over a second): they are
# imported where a review runs, not when the `backend-review` parser is built for every command.

FORMATS = ("text", "json", "sarif", "markdown")
DEFAULT_BRANCHES = ("main", "master", "origin/main", "origin/master")


class InputError(Exception):
    """Bad arguments or unreadable input: reported on one line, exit code 2."""


@dataclass(frozen=True)
class Output:
    format: str
    path: Path | None  # None: standard output


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    review = subparsers.add_parser(
        "review",
        help="review a diff or the current branch locally",
        description=(
            "Review a unified diff (a file, or - for stdin) or, with no DIFF_FILE, the current "
            "branch against its merge base with the default branch. "
            "Exit 0: pass; 1: the check would fail; 2: usage or input error."
        ),
    )
    review.add_argument(
        "diff_file", nargs="?", metavar="DIFF_FILE", help="diff file, or - for stdin"
    )
    review.add_argument("--base", metavar="REF", help="review HEAD against its merge base with REF")
    review.add_argument(
        "--format",
        default="text",
        metavar="FORMATS",
        help="comma list of text, json, sarif, markdown; FORMAT=PATH writes to a file "
        "(at most one format goes to stdout), e.g. text,sarif=review.sarif",
    )
    review.add_argument(
        "--persona",
        metavar="FILE",
        help="persona file for the model (default: the repo config's persona, else "
        f"{DEFAULT_PERSONA})",
    )
    review.add_argument("--config", metavar="FILE", help=f"repo config (default: {CONFIG_PATH})")
    review.add_argument(
        "--no-llm", action="store_true", help="run the deterministic rules only, with no model call"
    )
    review.set_defaults(func=cmd_review)

    schema = subparsers.add_parser("schema", help="print the findings JSON Schema")
    which = schema.add_mutually_exclusive_group()
    which.add_argument(
        "--summary", action="store_true", help="print the review summary's schema instead"
    )
    which.add_argument(
        "--config",
        action="store_true",
        help=f"print the schema of the repo config ({CONFIG_PATH}) instead, for editors",
    )
    schema.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    if args.config:
        schema = config_schema()
    else:
        schema = summary_schema() if args.summary else findings_schema()
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    try:
        return _review(args)
    except (InputError, DiffParseError, RepoConfigError, PersonaError) as exc:
        sys.stderr.write(f"backend-review: error: {_one_line(str(exc))}\n")
        return 2


def _review(args: argparse.Namespace) -> int:
    outputs = parse_formats(args.format)
    if args.diff_file is not None and args.base is not None:
        raise InputError("give either DIFF_FILE or --base, not both")
    if args.persona is not None and not Path(args.persona).is_file():
        raise InputError(f"persona file not found: {args.persona}")
    settings = load_settings()  # a bad setting: ConfigError, one line and exit 2 in app.cli
    root = _git_toplevel() or Path.cwd()
    config = _load_config(args.config, root)
    rules_only = "--no-llm" if args.no_llm else settings.llm_missing()
    persona, checklists = _persona(args.persona, config, root, settings, needed=not rules_only)
    text, revisions = _read_diff(args.diff_file, args.base)
    diff = parse_diff(text)
    files = read_local_files(
        diff,
        root=root,
        revisions=revisions,
        ignore=config.ignore,
        limits=context_limits(settings),
    )

    from app.cli.model import run_local_review
    from app.review.request import ReviewRequest

    request = ReviewRequest(
        diff=diff, config=config, persona=persona, checklists=checklists, files=files
    )
    result, mode = asyncio.run(run_local_review(request, settings, rules_only))
    plan = result.plan
    complete = args.no_llm or result.outcome == "complete"
    status: Literal["ready", "partial"] = "ready" if complete else "partial"
    for out in outputs:
        text = _render(out.format, plan, config, mode=mode, status=status, to_tty=out.path is None)
        if out.path is None:
            sys.stdout.write(text)
        else:
            try:
                out.path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write {out.path}: {exc.strerror}") from exc
    return 1 if plan.conclusion == "failure" else 0


# run_review reads no persona without a model: a rules-only run needs no persona file at all.
_NO_PERSONA = Persona(
    name=DEFAULT_PERSONA,
    description="",
    version=None,
    model=None,
    checklists=(),
    instructions="",
    source="(none: rules only)",
    kind="text",
)


def _persona(
    path: str | None, config: RepoConfig, root: Path, settings: Settings, *, needed: bool
) -> tuple[Persona, tuple[Checklist, ...]]:
    """`--persona FILE`, else the repo config's `persona`, else the default persona.

    A persona named on the command line or in the config is always loaded, so a mistake in it
    is reported even on a rules-only run. One without checklists gets the default persona's.
    """
    bundled = bundled_personas_dir(settings.personas_dir)
    if path is not None:
        persona = load_persona_file(Path(path))
    elif config.persona is not None or needed:
        persona = resolve_persona(config.persona, repo_root=root, bundled_dir=bundled)
    else:
        return _NO_PERSONA, ()
    if persona.checklists:
        return persona, persona.checklists
    default = resolve_persona(None, repo_root=root, bundled_dir=bundled)
    return persona, default.checklists


def _render(
    fmt: str,
    plan: ReviewPlan,
    config: RepoConfig,
    *,
    mode: str,
    status: Literal["ready", "partial"],
    to_tty: bool,
) -> str:
    if fmt == "json":
        return as_json(plan, version=__version__, status=status)
    if fmt == "sarif":
        docs = [(r.id, r.doc) for r in ALL_RULES]
        return as_sarif(plan, version=__version__, rule_docs=docs, fail_on=config.fail_on)
    if fmt == "markdown":
        return as_markdown(plan)
    return as_text(plan, mode=mode, color=to_tty and _use_colour(sys.stdout))


def parse_formats(spec: str) -> list[Output]:
    """Parse `--format`: e.g. "text,sarif=review.sarif"; at most one format on stdout."""
    outputs: list[Output] = []
    for item in spec.split(","):
        name, sep, path = item.strip().partition("=")
        if name not in FORMATS:
            raise InputError(f"unknown format {name!r}: choose from {', '.join(FORMATS)}")
        if sep and not path:
            raise InputError(f"--format {name}=: missing file name")
        outputs.append(Output(name, Path(path) if path else None))
    if sum(o.path is None for o in outputs) > 1:
        raise InputError("only one format can go to stdout; write the others with FORMAT=PATH")
    return outputs


def _use_colour(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _load_config(path: str | None, root: Path) -> RepoConfig:
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise InputError(f"config file not found: {path}")
    else:
        file = root / CONFIG_PATH
        if not file.is_file():
            return RepoConfig()
    try:
        text = _decode(file.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from exc
    try:
        return parse_repo_config(text)
    except RepoConfigError as exc:
        raise RepoConfigError([f"{file}: {p}" for p in exc.problems]) from exc


def _read_diff(diff_file: str | None, base: str | None) -> tuple[str, Revisions | None]:
    """The diff, and the commits it was made from (None for a DIFF_FILE: the working tree)."""
    if diff_file == "-":
        return _decode(sys.stdin.buffer.read()), None
    if diff_file is not None:
        try:
            return _decode(Path(diff_file).read_bytes()), None
        except OSError as exc:
            raise InputError(f"cannot read {diff_file}: {exc.strerror}") from exc
    return branch_diff(base)


def branch_diff(base: str | None) -> tuple[str, Revisions]:
    """The current branch's committed changes against its merge base with `base`, and the
    two commits (merge base, HEAD's SHA) the whole files are read at.

    Without `base`: the default branch (origin/HEAD, else main, master, origin/main,
    origin/master).
    """
    if _git_toplevel() is None:
        raise InputError("not inside a git repository: pass a DIFF_FILE, or - to read stdin")
    ref = base or _default_branch()
    merge_base = _git("merge-base", ref, "HEAD").strip()
    head = _git("rev-parse", "--verify", "HEAD^{commit}").strip()
    text = _git(
        "-c",
        "core.quotepath=on",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "-M",
        merge_base,
        head,
    )
    return text, Revisions(base=merge_base, head=head)


def _default_branch() -> str:
    try:
        head = _git("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD").strip()
        if head:
            return head
    except InputError:
        pass
    for ref in DEFAULT_BRANCHES:
        try:
            _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except InputError:
            continue
        return ref
    raise InputError("cannot find the default branch: pass --base REF")


def _git_toplevel() -> Path | None:
    try:
        return Path(_git("rev-parse", "--show-toplevel").strip())
    except InputError:
        return None


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise InputError("git is not installed: pass a DIFF_FILE, or - to read stdin")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, *args], capture_output=True, check=False
    )
    if result.returncode != 0:
        detail = _decode(result.stderr).strip().splitlines()
        raise InputError(
            f"git {args[0] if args[0] != '-c' else args[2]}: "
            + (detail[-1] if detail else f"exit {result.returncode}")
        )
    return _decode(result.stdout)
