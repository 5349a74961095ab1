"""The CLI's whole files: read from git or the working tree, never the network.

Reviewing the branch (`backend-review review [--base REF]`), texts come from the commits the
diff was made from: the head at `HEAD`, the base at the merge base, all through one
`git cat-file --batch` process (what `git show REV:path` reads, without a process per file).
Reviewing a DIFF_FILE, the head texts come from the working tree and there is no base; a file
edited since the diff was made disagrees with the diff and is left out with a note. The same
plan and limits as the App's (`app.review.file_gather`), the same one-import hop.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.review.chunking import review_priority
from app.review.diff_model import Diff
from app.review.file_context import FileContext
from app.review.file_gather import (
    ContextLimits,
    Fetched,
    Read,
    ReadPlan,
    assemble,
    base_from_head,
    known_texts,
    plan_reads,
)
from app.review.files import classify
from app.review.import_hop import hops_for

MAX_READ_BYTES = 1_000_000  # per file: past this only the first part is kept (cut, as GitHub's)


@dataclass(frozen=True, slots=True)
class Revisions:
    base: str  # the merge base's SHA
    head: str  # "HEAD" or a SHA


def read_local_files(
    diff: Diff,
    *,
    root: Path,
    revisions: Revisions | None,
    ignore: Sequence[str],
    limits: ContextLimits,
) -> FileContext:
    plan = plan_reads(diff, ignore, limits)
    if not plan.files:
        return assemble(plan, {}, limits)
    reader = _Reader(root, revisions)
    found = reader.read(plan.reads)
    if revisions is None:
        found |= _bases_from_heads(plan, found)
    planned = {f.path for f in plan.files}
    hops = [p for p in hops_for(known_texts(plan), limit=limits.hop_files) if p not in planned]
    routes = [
        (f.path, text)
        for f in plan.files
        if (classify(f.path).kind == "route" or review_priority(f) == 1)
        and (fetched := found.get(Read("head", f.path))) is not None
        and (text := fetched.text) is not None
    ]
    hops += [p for p in hops_for(routes, limit=limits.hop_files) if p not in planned]
    heads = reader.read([Read("head", p) for p in dict.fromkeys(hops)])
    extra = [(r.path, fetched) for r, fetched in heads.items()]
    return assemble(plan, found, limits, extra=extra, notes=reader.notes)


def _bases_from_heads(plan: ReadPlan, found: Mapping[Read, Fetched | None]) -> dict[Read, Fetched]:
    """The planned bases, rebuilt from the working tree's heads (a diff file has no commits)."""
    out: dict[Read, Fetched] = {}
    wanted = {r for r in plan.reads if r.side == "base"}
    for file in plan.files:
        base = Read("base", file.old_path or file.path)
        head = found.get(Read("head", file.path))
        if base not in wanted or head is None or head.text is None or head.truncated:
            continue
        text = base_from_head(file, head.text)
        if text is not None:
            out[base] = Fetched(text, len(text.encode("utf-8", "surrogatepass")))
    return out


class _Reader:
    def __init__(self, root: Path, revisions: Revisions | None) -> None:
        self._root = root.resolve()
        self._revisions = revisions
        self.notes: list[str] = []

    def read(self, reads: Sequence[Read]) -> dict[Read, Fetched | None]:
        revisions = self._revisions
        if revisions is None:
            # The working tree holds the head only: no base without the revisions.
            return {r: self._from_tree(r.path) for r in reads if r.side == "head"}
        names = {
            r: f"{revisions.head if r.side == 'head' else revisions.base}:{r.path}" for r in reads
        }
        got = git_objects(names.values(), cwd=self._root) if names else {}
        if got is None:
            if not self.notes:
                self.notes.append("whole files could not be read with git; hunks only")
            return {}
        return {r: got.get(name) for r, name in names.items()}

    def _from_tree(self, path: str) -> Fetched | None:
        file = (self._root / path).resolve()
        if not file.is_relative_to(self._root) or not file.is_file():
            return None  # outside the repository (a crafted path), absent, or not a file
        try:
            with file.open("rb") as handle:
                data = handle.read(MAX_READ_BYTES + 1)
        except OSError:
            return None
        return _fetched(data, len(data))


def git_objects(names: Iterable[str], *, cwd: Path) -> dict[str, Fetched | None] | None:
    """`REV:path` names read through one `git cat-file --batch`; None when git cannot run.
    A name with a newline cannot be asked this way and is answered None (not read)."""
    wanted = [n for n in names if "\n" not in n and "\r" not in n]
    out: dict[str, Fetched | None] = {n: None for n in names}
    git = shutil.which("git")
    if git is None or not wanted:
        return None if git is None else out
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell; names go to stdin
            [git, "cat-file", "--batch"],
            input="".join(n + "\n" for n in wanted).encode("utf-8", "surrogateescape"),
            capture_output=True,
            cwd=cwd,
            check=False,
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    data, at = result.stdout, 0
    for name in wanted:
        end = data.find(b"\n", at)
        if end < 0:
            break
        header = data[at:end].split(b" ")
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":
            if len(header) == 3:  # a tree or a commit (submodule): no text, skip its body
                at += int(header[2]) + 1
            continue
        size = int(header[2])
        body = data[at : at + size]
        at += size + 1
        out[name] = _fetched(body[: MAX_READ_BYTES + 1], size)
    return out


def _fetched(data: bytes, size: int) -> Fetched:
    truncated = len(data) > MAX_READ_BYTES
    data = data[:MAX_READ_BYTES]
    if b"\x00" in data:
        return Fetched(None, size)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not truncated or exc.start < len(data) - 4:
            return Fetched(None, size)
        text = data[: exc.start].decode("utf-8")  # a character cut at the limit
    return Fetched(text, size, truncated=truncated)
