"""Untrusted text made safe to post under the bot's name, as GitHub Markdown.

Text from the model (steered by the PR), PR titles and bodies, Linear issues and dismissal
reasons reaches comments, review bodies, the summary and the check run. There it must not
speak as the bot: no `@user` or `@org/team` mention (a notification sent in our name), no
image (a tracking pixel, an offensive picture), no raw HTML (`<img>`, `<details>` hiding text,
a `<!-- backend-review:... -->` comment forging our markers), no link reference definition
(invisible text that redefines a link).

`neutralize` keeps the text readable: it removes invisible and direction-changing characters
(which could hide or disguise any of the above), then inserts one zero-width space where
GitHub would otherwise start a mention, an image, a tag, a comment or a definition. The
inserted character is invisible, also inside code spans, where an escape would show; e-mail
addresses are left as they are (GitHub does not mention from them). It is idempotent, pure and
linear in the text. Code in a fence (a suggestion) is left out by the renderer: GitHub acts on
nothing inside one, and a suggestion must stay byte for byte what it applies.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"  # what neutralize inserts

# Zero-width and bidirectional formatting characters (and the BOM, the soft hyphen, Mongolian
# vowel separator): invisible, they could hide a mention or a marker from a reader or a filter.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_ACTIVE = re.compile(
    # A mention, also spelled as an entity (GitHub finds mentions in the rendered text, after
    # entities and escapes are decoded). An e-mail's @ follows a letter or digit: left alone.
    # An underscore does not protect it: `_@team_` renders as emphasis around a mention.
    r"(?<![A-Za-z0-9])(?:@|&#0{0,8}64;|&#[xX]0{0,8}40;|&commat;)"
    r"|<(?=[A-Za-z/!?])"  # an HTML tag, comment, declaration or processing instruction
    r"|!(?=\[)"  # an image, inline or by reference
    # A link reference definition, wherever it starts (a line, a quote, a list item, a label
    # over several lines): each needs `]:`, and a `]` followed by `:` is broken up.
    r"|\](?=:)",
)


def neutralize(text: str) -> str:
    """`text` with nothing in it that GitHub would act on: see the module docstring."""
    return _ACTIVE.sub(_defuse, _INVISIBLE.sub("", text))


def _defuse(match: re.Match[str]) -> str:
    return match.group(0) + ZWSP if match.group(0) else ZWSP
