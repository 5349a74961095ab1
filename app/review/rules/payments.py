"""Calls that move money, found however the provider's client is named, and followed through
the functions an endpoint calls.

A file's names for a payment SDK come from its imports and constructions (`import stripe as
stripe_lib`, `from stripe import PaymentIntent`, `const payments = new Stripe(key)`,
`private readonly stripe: Stripe`); any object whose name says `stripe` counts too. Calls are
the SDK's money-moving creates, sync or async (`create_async`, `await ….create(...)`), also
when passed as a function (`run_in_threadpool(stripe.Charge.create, ...)`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.review.rules.code_text import MAX_LINE, Definition

# Calls that move money. A Checkout Session, an Invoice or a PaymentIntent created without
# `confirm: true` charges nothing by itself, and confirming or capturing an existing intent
# twice is refused by Stripe, so none of those is one.
PROVIDER = re.compile(
    r"stripe\.(?:PaymentIntent|Charge|Refund|Transfer|Payout|Subscription)\.create(?:_async)?\b"
    r"|stripe\.(?:paymentIntents|charges|refunds|transfers|payouts|subscriptions)\.create\("
    r"|\bcheckout\.payments\(|\.payments\.create\(|\.refunds\.create\("
    r"|braintree\.Transaction\.sale\(|\bgateway\.transaction\.sale\("
    # Identifier runs bounded: "paypal" repeated made a start each rescanning the whole run;
    # `\w*+orders?` (possessive) could never leave "orders" to match.
    r"|OrdersCaptureRequest\(|paypal\w{0,64}+\.\w{0,64}orders?\.capture\("
    r"|mollie\w{0,64}+\.payments\.create\(|razorpay\w{0,64}+\.payment\.capture\(|Stripe::(?:PaymentIntent|Charge|Refund|Transfer|Payout"
    r"|Subscription)\.create\b",
    re.I,
)
_RESOURCE = (
    r"(?:PaymentIntent|Charge|Refund|Transfer|Payout|Subscription"
    r"|paymentIntents|charges|refunds|transfers|payouts|subscriptions|payment_intents)"
)
# `<client>.[v1.]<resource>.create[_async]` — the client is checked against the file's names
# for the SDK afterwards.
_CLIENT_CALL = re.compile(rf"(?<!\w)(\w++)\.(?:v1\.)?{_RESOURCE}\.(?:create|create_async)\b")
_BARE_CALL = re.compile(rf"(?<![.\w]){_RESOURCE}\.(?:create|create_async)\b")
_CONFIRM = re.compile(r"\bconfirm\b[\"']?\s*+[:=]\s*+(?:true|True)\b")
_ARGS_LINES = 15  # lines of a call's arguments searched for `confirm: true`
_PY_IMPORT = re.compile(r"^\s*+import\s++stripe(?:\s++as\s++(\w++))?")
_PY_FROM = re.compile(r"^\s*+from\s++stripe\b[\w.]*+\s++import\s++(.{1,300})")
_JS_IMPORT = re.compile(
    r"^\s*+import\s++(?:\*\s++as\s++)?(\w++)[^'\"\n]{0,200}from\s++['\"]stripe['\"]"
    r"|^\s*+(?:const|let|var)\s++(\w++)\s*+=\s*+require\(\s*+['\"]stripe['\"]"
)
_CONSTRUCT = re.compile(
    r"(?<!\w)(\w++)\s*+(?::\s*+[\w.]++\s*+)?=\s*+(?:new\s++)?(?:stripe\.)?(?:Stripe|StripeClient)\s*+\("
    r"|(?<!\w)(\w++)\s*+[!?]?:\s*+(?:Stripe|StripeClient)\b",
)
KEY = re.compile(r"idempoten|Idempotency-Key|PayPal-Request-Id|\brequest_?id\s*+[=:]", re.I)
_CALL = re.compile(r"(?<!\w)(\w++)\s*+\(")
# Calls too generic to follow by name: they are dict, list, string, ORM or logging methods far
# more often than the project's functions of the same name.
_GENERIC = frozenset(
    (
        *("get", "set", "items", "keys", "values", "append", "extend", "update", "pop"),
        *("remove", "print", "len", "str", "int", "float", "bool", "dict", "list", "tuple"),
        *("json", "jsonify", "format", "join", "split", "strip", "replace", "lower", "upper"),
        *("find", "filter", "map", "all", "first", "last", "exists", "count", "sort", "sorted"),
        *("range", "isinstance", "getattr", "setattr", "hasattr", "log", "info", "debug"),
        *("warning", "error", "exception", "then", "catch", "push", "send", "status", "end"),
        *("render", "redirect", "query", "execute", "fetchone", "fetchall", "commit", "close"),
        *("open", "read", "write", "parse", "stringify", "toString", "require", "include"),
        *("super", "new", "init", "__init__", "constructor"),
    )
)
_MAX_HOPS = 3
_MAX_DEFS = 40  # definitions read while following one endpoint's calls


@lru_cache(maxsize=256)
def sdk_names(text: str) -> frozenset[str]:
    """The names a file gives the Stripe SDK, its client or its resources."""
    names = {"stripe", "Stripe"}
    if "stripe" not in text.lower():
        return frozenset(names)
    for line in text.split("\n"):
        if "tripe" not in line:
            continue
        line = line[:MAX_LINE]
        if m := _PY_IMPORT.match(line):
            names.add(m.group(1) or "stripe")
        elif m := _PY_FROM.match(line):
            for part in m.group(1).strip("() ").split(","):
                words = part.split()
                if words:
                    names.add(words[-1])
        elif m := _JS_IMPORT.match(line):
            names.add(m.group(1) or m.group(2))
        for m in _CONSTRUCT.finditer(line):
            names.add(m.group(1) or m.group(2))
    return frozenset(names)


def provider_call(lines: Sequence[str], k: int, names: frozenset[str]) -> bool:
    """Whether `lines[k]` calls a payment provider in a way that moves money: a charge, a
    refund, a transfer, a subscription, a PaymentIntent created with `confirm: true`."""
    line = lines[k][:MAX_LINE]
    found = PROVIDER.search(line)
    text = found.group(0) if found else ""
    if not found:
        for m in _CLIENT_CALL.finditer(line):
            if m.group(1) in names or "stripe" in m.group(1).lower():
                text = m.group(0)
                break
        else:
            bare = [m for m in _BARE_CALL.finditer(line) if m.group(0).split(".")[0] in names]
            text = bare[0].group(0) if bare else ""
    if not text:
        return False
    if "ntent" not in text:
        return True
    return any(_CONFIRM.search(ln[:MAX_LINE]) for ln in lines[k : k + _ARGS_LINES])


@dataclass(frozen=True)
class Hop:
    path: str
    line: int  # 1-based
    text: str


def _walk(
    path: str,
    lines: Sequence[str],
    start: int,
    end: int,
    defs: Mapping[str, Sequence[Definition]],
    extra: Iterable[str] = (),
) -> Iterator[_Item]:
    """The endpoint `lines[start:end+1]` and the bodies it calls (breadth-first, up to
    `_MAX_HOPS` calls deep and `_MAX_DEFS` bodies), each with the calls that lead to it and
    whether an idempotency key was seen on the way."""
    seen: set[tuple[str, int]] = set()
    queue = [_Item(path, lines, start, end, [], False)]
    read = 0
    while queue and read < _MAX_DEFS:
        item = queue.pop(0)
        read += 1
        body = item.lines[item.start : item.end + 1]
        item.keyed = item.keyed or any(KEY.search(ln[:MAX_LINE]) for ln in body)
        yield item
        if len(item.hops) >= _MAX_HOPS:
            continue
        callees = [(n, item.start) for n in extra] if not item.hops else []
        for k, ln in enumerate(body, start=item.start):
            callees += [
                (m.group(1), k) for m in _CALL.finditer(ln[:MAX_LINE]) if m.group(1) not in _GENERIC
            ]
        for name, k in callees:
            for d in defs.get(name, ()):
                inside = d.path == item.path and item.start <= d.start <= item.end
                if (d.path, d.start) in seen or inside:
                    continue
                seen.add((d.path, d.start))
                hop = Hop(item.path, k + 1, item.lines[k].strip())
                queue.append(_Item(d.path, d.lines, d.start, d.end, [*item.hops, hop], item.keyed))


def find_payment(
    path: str,
    lines: Sequence[str],
    start: int,
    end: int,
    defs: Mapping[str, Sequence[Definition]],
    extra: Iterable[str] = (),
) -> tuple[list[Hop], bool] | None:
    """The chain of calls from `lines[start:end+1]` (an endpoint) to a provider call, and
    whether an idempotency key appears anywhere along the way; None when no call moves money.

    `extra` names functions the endpoint refers to without calling them (an Express handler).
    """
    for item in _walk(path, lines, start, end, defs, extra):
        names = sdk_names("\n".join(item.lines))
        for k in range(item.start, item.end + 1):
            if provider_call(item.lines, k, names):
                return [*item.hops, Hop(item.path, k + 1, item.lines[k].strip())], item.keyed
    return None


# Fulfilment: a handler that turns a completed payment into goods (a subscription, credits, an
# order) when Stripe says so — a webhook event or a Checkout Session read back on a redirect.
# Stripe redelivers events and a redirect can be replayed, so it must remember what it applied.
_FULFIL_SOURCE = re.compile(
    r"checkout\.(?:sessions|Session)\.retrieve|Webhook\.construct_event|webhooks\.constructEvent"
    r"|Event\.construct_from|checkout\.session\.completed"
)
_WRITE = re.compile(
    r"(?<!\w)(?:add|create|insert|credit|grant|fulfil|fulfill|provision|activate|increment)"
    r"\w*+\s*+\(|\.create!?\(|\.save\("
)
_REMEMBERS = re.compile(
    r"idempoten|already|processed|redeem|dedup|event\.id\b|event\[[\"']id[\"']\]"
    r"|event\.get\([\"']id[\"']\)|session\.id\b|session\[[\"']id[\"']\]",
    re.I,
)


def find_fulfilment(
    path: str,
    lines: Sequence[str],
    start: int,
    end: int,
    defs: Mapping[str, Sequence[Definition]],
    extra: Iterable[str] = (),
) -> tuple[list[Hop], list[Hop]] | None:
    """The calls to where the endpoint reads a completed payment (a webhook event, a Checkout
    Session) and the calls to where it applies it, when nothing along the way remembers what
    was applied (an event id, a redeemed flag); None otherwise."""
    source: list[Hop] | None = None
    write: list[Hop] | None = None
    for item in _walk(path, lines, start, end, defs, extra):
        for k in range(item.start, item.end + 1):
            line = item.lines[k][:MAX_LINE]
            if _REMEMBERS.search(line):
                return None
            here = [*item.hops, Hop(item.path, k + 1, line.strip())]
            if source is None and _FULFIL_SOURCE.search(line):
                source = here
            elif source is not None and write is None and _WRITE.search(line):
                write = here
    if source is None or write is None:
        return None
    return source, write


@dataclass
class _Item:
    path: str
    lines: Sequence[str]
    start: int
    end: int
    hops: list[Hop]
    keyed: bool
