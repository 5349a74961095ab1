"""A pull request's diff rebuilt from its files list, for when GitHub refuses the diff.

GitHub answers the diff media type with 406 `too_large` above 300 files or 20,000 lines. The
paginated files list (`GET /pulls/{n}/files`, at most 3,000 files) still has each file's `patch`,
without the git headers: we prepend `diff --git`, `new file` / `deleted file`, `rename from/to`
and `---`/`+++` (with /dev/null for added and removed files) so the diff parser reads it like
the real thing. Pure.

A file GitHub sends no patch for (binary, or too large to show) still gets its header, so file
counts stay right, and is listed in `unseen` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.github.types import PullDiff
from app.review.diff import patch_as_diff

FILES_LIST_LIMIT = 3_000
# A file without a patch has nothing to show when only its name or mode changed.
_NOTHING_TO_SHOW = frozenset({"renamed", "copied", "changed", "unchanged"})


def diff_from_files(entries: Sequence[Any], *, refused: str) -> PullDiff:
    """The PullDiff for the files-list entries; `refused` is why the diff itself was not used."""
    parts: list[str] = []
    unseen: dict[str, str] = {}
    for entry in entries:
        path = str(entry["filename"])
        status = str(entry.get("status") or "modified")
        previous = entry.get("previous_filename")
        patch = entry.get("patch")
        if not isinstance(patch, str) or not patch:
            patch = None
        parts.append(
            patch_as_diff(
                path,
                patch,
                previous_path=str(previous) if previous else None,
                status=status,
            )
        )
        if patch is None:
            reason = _no_patch_reason(status, entry.get("changes"))
            if reason:
                unseen[path] = reason
    note = f"GitHub refused the diff ({refused}); built from the files list ({len(entries)} files)"
    if len(entries) >= FILES_LIST_LIMIT:
        note += f"; GitHub lists at most {FILES_LIST_LIMIT:,} files, any beyond were not reviewed"
    return PullDiff(text="".join(parts), source="files", unseen=unseen, note=note)


def _no_patch_reason(status: str, changes: object) -> str | None:
    if isinstance(changes, int) and changes > 0:
        return "GitHub sent no patch (too large to show)"
    if changes == 0 and status in _NOTHING_TO_SHOW:
        return None
    if changes == 0:
        return "GitHub sent no patch (binary file)"
    return "GitHub sent no patch (binary or too large)"
