"""Actions of a Rails controller with their guards.

Every public method of a controller class is an action (`create` is a POST, `update` a
PUT/PATCH, `destroy` a DELETE, `index`/`show`/`new`/`edit` GETs; others depend on
config/routes.rb). Guards are the auth-named `before_action`s (also `before_filter`,
`prepend_before_action`, CanCan's `load_and_authorize_resource`) with their `only:`/`except:`
lists, minus `skip_before_action`s, plus Pundit's `authorize` inside the action. A
`skip_before_action :x` of a filter the file does not declare means the parent controller
declares it, so every other action inherits it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.review.rules.code_text import MAX_LINE, indent_of, ruby_block_end
from app.review.rules.guard_words import GuardJudge
from app.review.rules.route_model import Guard, Route

_CLASS = re.compile(r"^[ \t]*+class[ \t]++([\w:]++)(?:[ \t]*+<[ \t]*+([\w:]++))?")
_DEF = re.compile(r"^([ \t]*+)def[ \t]++(\w++[!?]?)")
_FILTER = re.compile(
    r"^[ \t]*+(skip_)?(?:prepend_|append_)?before_(?:action|filter)\b[ \t(]*+(.*+)$"
)
_CANCAN = re.compile(r"^[ \t]*+(load_and_authorize_resource|authorize_resource)\b(.*+)$")
_INCLUDE = re.compile(r"^[ \t]*+include[ \t]++([\w:]++)[ \t]*+$")
_VISIBILITY = re.compile(r"^[ \t]*+(private|protected)[ \t]*+$")
_SYMBOL = re.compile(r":(\w++[!?]?)")
_SCOPE = re.compile(
    r"\b(only|except)(?::|[ \t]*+=>)[ \t]*+(\[[^\]]{0,400}\]|%[iw]\[[^\]]{0,400}\]|:\w++)"
)
_WORDS = re.compile(r"\w++")
_OPTIONS = re.compile(r"\b(?:only|except|if|unless)\b|:(?:only|except|if|unless)\b")
_AUTHORIZE = re.compile(r"^[ \t]*+(?:authorize!?|authorize_action_for)\b")
_ACTION_METHODS = {
    "index": "GET",
    "show": "GET",
    "new": "GET",
    "edit": "GET",
    "create": "POST",
    "update": "PUT",
    "destroy": "DELETE",
}


@dataclass(frozen=True)
class _Filter:
    guard: Guard
    skip: bool
    only: frozenset[str] | None
    exclude: frozenset[str]

    def applies(self, action: str) -> bool:
        if self.only is not None and action not in self.only:
            return False
        return action not in self.exclude


def _scope(args: str) -> tuple[frozenset[str] | None, frozenset[str]]:
    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    for m in _SCOPE.finditer(args):
        names = frozenset(w for w in _WORDS.findall(m.group(2)) if w not in ("i", "w"))
        if m.group(1) == "only":
            only = names
        else:
            exclude = names
    return only, exclude


def read_rails(path: str, text: str, judge: GuardJudge) -> list[Route]:
    if not path.endswith("_controller.rb"):
        return []
    lines = text.split("\n")
    filters: list[_Filter] = []
    actions: list[tuple[int, int, str]] = []  # (def index, end index, name)
    owner, public, class_indent = "", True, -1
    i = 0
    while i < len(lines):
        raw = lines[i][:MAX_LINE]
        if m := _CLASS.match(raw):
            owner, public, class_indent = m.group(1), True, indent_of(raw)
        elif _VISIBILITY.match(raw):
            public = False
        elif m := _FILTER.match(raw):
            args = raw[m.start(2) :]
            only, exclude = _scope(args)
            cut = _OPTIONS.search(args)
            for name in _SYMBOL.findall(args[: cut.start()] if cut else args):
                if judge.is_guard(name):
                    g = Guard(name, i + 1, "class", raw.strip()[:200])
                    filters.append(_Filter(g, bool(m.group(1)), only, exclude))
        elif (m := _INCLUDE.match(raw)) and any(judge.is_guard(n) for n in m.group(1).split("::")):
            g = Guard(m.group(1), i + 1, "class", raw.strip()[:200])
            filters.append(_Filter(g, False, None, frozenset()))
        elif m := _CANCAN.match(raw):
            only, exclude = _scope(m.group(2))
            g = Guard(m.group(1), i + 1, "class", raw.strip()[:200])
            filters.append(_Filter(g, False, only, exclude))
        elif (m := _DEF.match(raw)) and public and indent_of(raw) > class_indent >= 0:
            end = ruby_block_end(lines, i)
            actions.append((i, end, m.group(2)))
            i = end
        i += 1
    declared = {f.guard.name for f in filters if not f.skip}
    out = []
    for start, end, name in actions:
        guards = [f.guard for f in filters if not f.skip and f.applies(name)]
        for f in filters:
            if f.skip and f.guard.name not in declared and not f.applies(name):
                # inherited from the parent controller: known only through the skip, so
                # dropping the skip is no removal (scope "inherited" tells the rules)
                g = f.guard
                guards.append(Guard(g.name, g.line, "inherited", g.text))
        skipped = {f.guard.name for f in filters if f.skip and f.applies(name)}
        guards = [g for g in guards if g.name not in skipped]
        for k in range(start, end + 1):
            if _AUTHORIZE.match(lines[k][:MAX_LINE]):
                guards.append(Guard("authorize", k + 1, "route", lines[k].strip()[:200]))
                break
        opt_out = next((f.guard.text for f in filters if f.skip and f.applies(name)), "")
        method = _ACTION_METHODS.get(name, "ANY")
        methods = frozenset({method, "PATCH"} if method == "PUT" else {method})
        out.append(
            Route(
                "rails",
                start + 1,
                name,
                owner,
                methods,
                "",
                start + 1,
                end + 1,
                tuple(guards),
                opt_out,
            )
        )
    return out
