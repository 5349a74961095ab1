"""`backend-review review` and `backend-review schema`: the review core on a local diff.

This module is the I/O edge of the local review: it reads the diff (`app.cli.diff_source`: a
file, stdin, or a git range through `git` subprocesses), the repo config, the persona, the
settings and the environment (NO_COLOR, the terminal's width), runs the review
(`app.cli.model`: with the model when one is configured and `--no-llm` is not given), and
writes the chosen formats. Progress, notices about the model and the tokens used go to stderr;
a rules-only run writes nothing there but an empty diff's "nothing to review" when no text
report is on stdout. With no report on stdout at all, stdout gets the verdict and where each
report went.
Exit codes: 0 pass (also an empty diff: nothing fails), 1 the check would fail, 2 usage or
input error (one line on stderr, no traceback). What the model does never changes them:
without it, the rules decide.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app import __version__
from app.cli.diff_source import (
    InputError,
    decode,
    git_toplevel,
    read_diff,
)
from app.cli.files import read_local_files
from app.jobs.context_limits import context_limits
from app.jobs.persona_files import bundled_personas_dir, load_persona_file, resolve_persona
from app.review.diff import DiffParseError, parse_diff
from app.review.findings import findings_schema, summary_schema
from app.review.persona import DEFAULT_PERSONA, Checklist, Persona, PersonaError, checklists_for
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
from app.review.text_report import NOT_REVIEWED_SHOWN
from app.settings import Settings, load_local_settings

# `app.cli.model` and `app.jobs.model_calls` load the Anthropic SDK (over a second): they are
# imported where a review runs, not when the `backend-review` parser is built for every command.

FORMATS = ("text", "json", "sarif", "markdown")


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
    review.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=f"text: list every file not reviewed (default: the first {NOT_REVIEWED_SHOWN})",
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
    settings = load_local_settings()  # a bad setting: ConfigError, one line and exit 2 in app.cli
    root = git_toplevel() or Path.cwd()
    config = _load_config(args.config, root)
    text, revisions, source = read_diff(args.diff_file, args.base)
    diff = parse_diff(text)
    # An empty diff is reviewed by the rules alone (no model call for nothing), so every
    # format is still written; the text report and stderr say there was nothing to review.
    empty = not diff.files
    rules_only = "--no-llm" if args.no_llm or empty else settings.llm_missing()
    persona, checklists = _persona(args.persona, config, root, settings, needed=not rules_only)
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
    complete = args.no_llm or empty or result.outcome == "complete"
    report = Report(
        plan=plan,
        config=config,
        mode=mode,
        status="ready" if complete else "partial",
        header=source.header(diff),
        nothing=source.nothing_to_review() if empty else None,
        verbose=args.verbose,
    )
    for out in outputs:
        text = report.render(out.format, to_tty=out.path is None)
        if out.path is None:
            sys.stdout.write(text)
        else:
            try:
                out.path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write {out.path}: {exc.strerror}") from exc
    _say_what_was_done(report, outputs)
    return 1 if plan.conclusion == "failure" else 0


def _say_what_was_done(report: Report, outputs: list[Output]) -> None:
    """With no report on stdout (only FORMAT=PATH), what was compared, where each report went
    and the verdict; with another format on stdout, an empty diff's line on stderr (so JSON
    stays JSON)."""
    on_stdout = [o.format for o in outputs if o.path is None]
    if report.nothing is not None and on_stdout and on_stdout != ["text"]:
        sys.stderr.write(f"backend-review: {report.nothing}\n")
    if on_stdout:
        return
    lines = [report.header]
    lines += [f"wrote {o.format}: {o.path}" for o in outputs]
    lines.append(report.nothing or report.verdict())
    sys.stdout.write("\n".join(lines) + "\n")


@dataclass(frozen=True)
class Report:
    """One review, ready to be written in any format."""

    plan: ReviewPlan
    config: RepoConfig
    mode: str
    status: Literal["ready", "partial"]
    header: str
    nothing: str | None
    verbose: bool

    def render(self, fmt: str, *, to_tty: bool) -> str:
        plan = self.plan
        if fmt == "json":
            return as_json(plan, version=__version__, status=self.status)
        if fmt == "sarif":
            docs = [(r.id, r.doc) for r in ALL_RULES]
            return as_sarif(plan, version=__version__, rule_docs=docs, fail_on=self.config.fail_on)
        if fmt == "markdown":
            return as_markdown(plan)
        tty = to_tty and sys.stdout.isatty()
        return as_text(
            plan,
            mode=self.mode,
            color=tty and not os.environ.get("NO_COLOR"),
            header=self.header,
            # The terminal's width on a terminal (COLUMNS wins, as everywhere); none when the
            # report goes to a pipe or a file, so it reads the same wherever it lands.
            width=shutil.get_terminal_size().columns if tty else None,
            verbose=self.verbose,
            nothing=self.nothing,
        )

    def verdict(self) -> str:
        word = {"failure": "FAIL", "success": "PASS"}.get(self.plan.conclusion, "NEUTRAL")
        return f"{word}: {self.plan.check_title}"


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
    is reported even on a rules-only run. Its checklists extend the default persona's (or replace
    them when it says so).
    """
    bundled = bundled_personas_dir(settings.personas_dir)
    if path is not None:
        persona = load_persona_file(Path(path))
    elif config.persona is not None or needed:
        persona = resolve_persona(config.persona, repo_root=root, bundled_dir=bundled)
    else:
        return _NO_PERSONA, ()
    default = resolve_persona(None, repo_root=root, bundled_dir=bundled)
    return persona, checklists_for(persona, default.checklists).checklists


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


def _one_line(message: str) -> str:
    return " ".join(message.split())


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
        text = decode(file.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from exc
    try:
        return parse_repo_config(text)
    except RepoConfigError as exc:
        raise RepoConfigError([f"{file}: {p}" for p in exc.problems]) from exc
