"""Mutating endpoints that move money or create orders without an idempotency key.

With whole files, every POST/PUT/PATCH endpoint (however its decorators are laid out; DRF
methods and actions, Rails actions, NestJS and Express handlers) is followed through the
functions it calls in the change's files to a payment-provider call (`app.review.rules.payments`);
it is reported when the endpoint is new or a line on that path is added, and no idempotency key
appears along it. Without whole files, the visible lines of new endpoints are read as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.review.findings import FindingType, Severity
from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext, quote, span
from app.review.rules.payments import (
    KEY,
    Hop,
    find_fulfilment,
    find_payment,
    provider_call,
    sdk_names,
)
from app.review.rules.route_model import Route
from app.review.rules.route_table import whole_head

_LOCAL = re.compile(
    r"\b(Payment|Order|Refund|Charge|Transaction|Invoice)\.objects\.create\("
    r"|\b(create|place|submit|capture)_(payment|order|refund|charge)\w*+\("
    r"|\b(createPayment|createOrder|createRefund|placeOrder|chargeCard|capturePayment)\("
    r"|\b(Payment|Order|Refund)\.create!?\(|\bnew (Payment|Order|Refund)\("
    r"|\.add\((Payment|Order|Refund)\("
)
_MUTATING = frozenset({"POST", "PUT", "PATCH", "ANY"})
_RECOMMEND = (
    "Accept an `Idempotency-Key` header, store it with the result (unique per client), "
    "return the stored result on a repeat, and pass the key through to the payment provider "
    "(e.g. Stripe `idempotency_key=`)."
)


def _code(change: Change) -> list[ChangedFile]:
    return [f for f in change.reviewed if f.is_code and f.kind.kind not in ("test", "docs")]


def _key_elsewhere(change: Change, skip: tuple[str, int, int]) -> tuple[str, int, str] | None:
    """A line of the change outside the endpoint `skip` (path, first, last) passing a key."""
    for g in _code(change):
        if not KEY.search(g.new_text):
            continue
        for ln in g.visible:
            n = ln.new_no or 0
            if KEY.search(ln.text) and not (g.path == skip[0] and skip[1] <= n <= skip[2]):
                return g.path, n, ln.text
    return None


def _report(
    change: Change, route: str, anchor: Hop, call: Hop, provider: bool, skip: tuple[str, int, int]
) -> Report:
    evidence = f"`{route}` calls `{quote(call.text, 120)}`"
    if (call.path, call.line) != (anchor.path, anchor.line):
        evidence += f" ({call.path}:{call.line})"
    evidence += " with no idempotency key"
    kind: FindingType
    if elsewhere := _key_elsewhere(change, skip):
        path, n, text = elsewhere
        evidence += f"; this change passes one elsewhere ({path}:{n}: `{quote(text, 100)}`)."
        severity, kind = Severity.MAJOR, "evidence"
    elif provider:
        evidence += ": a client retry after a timeout charges twice."
        severity, kind = Severity.MINOR, "evidence"
    else:
        evidence += ": what happens when the client retries?"
        severity, kind = Severity.INFO, "question"
    return Report(
        path=anchor.path,
        key=f"{route}\0{call.text}",
        title=f"`{route}` creates payments/orders without an idempotency key"
        if kind == "evidence"
        else f"Is `{route}` safe to retry?",
        evidence=evidence,
        recommendation=_RECOMMEND,
        lines=span(anchor.line),
        severity=severity,
        type=kind,
    )


def _whole(
    change: Change, f: ChangedFile, head: str, routes: tuple[Route, ...]
) -> Iterator[Report]:
    lines = head.split("\n")
    added = change.routes.added
    for r in routes:
        extra = (r.handler,) if r.handler else ()
        if not (r.methods & _MUTATING):
            yield from _fulfilment(change, f, lines, r, extra)
            continue
        new = r.line in added(f.path) or r.start in added(f.path)
        found = find_payment(
            f.path,
            lines,
            r.start - 1,
            r.end - 1,
            change.routes.defs,
            (r.handler,) if r.handler else (),
        )
        skip = (f.path, r.start, r.end)
        route = f"{'/'.join(sorted(r.methods & _MUTATING))} {r.path or r.name}".strip()
        if found is not None:
            hops, keyed = found
            changed = [h for h in hops if h.line in added(h.path)]
            if keyed or not (new or changed):
                continue
            anchor = changed[0] if changed else Hop(f.path, r.line, lines[r.line - 1].strip())
            yield _report(change, route, anchor, hops[-1], True, skip)
        elif fulfilment := list(_fulfilment(change, f, lines, r, extra)):
            yield from fulfilment
        elif new:
            body = lines[r.start - 1 : r.end]
            if any(KEY.search(ln) for ln in body):
                continue
            k = next((k for k, ln in enumerate(body) if _LOCAL.search(ln)), None)
            if k is not None:
                hop = Hop(f.path, r.start + k, body[k].strip())
                yield _report(change, route, hop, hop, False, skip)


def _fulfilment(
    change: Change, f: ChangedFile, lines: list[str], r: Route, extra: tuple[str, ...]
) -> Iterator[Report]:
    """A webhook or payment callback that applies the payment (credits, a subscription, an
    order) without remembering which event or session it already applied."""
    found = find_fulfilment(f.path, lines, r.start - 1, r.end - 1, change.routes.defs, extra)
    if found is None:
        return
    source, write = found
    added = change.routes.added
    new = r.line in added(f.path) or r.start in added(f.path)
    # Only a new path to the payment read counts: editing what an old callback does is not
    # the moment it became unsafe.
    changed = [h for h in source if h.line in added(h.path)]
    if not (new or changed):
        return
    changed += [h for h in write if h.line in added(h.path)]
    anchor = write[-1] if write[-1].line in added(write[-1].path) or new else changed[-1]
    route = f"{'/'.join(sorted(r.methods))} {r.path or r.name}".strip()
    yield Report(
        path=anchor.path,
        key=f"{route}\0fulfil\0{write[-1].text}",
        title=f"`{route}` applies a payment without remembering it was applied",
        evidence=f"`{route}` reads a completed payment (`{quote(source[-1].text, 100)}`, "
        f"{source[-1].path}:{source[-1].line}) and applies it (`{quote(write[-1].text, 100)}`, "
        f"{write[-1].path}:{write[-1].line}) with no record of what was already applied: Stripe "
        "delivers events at least once and a redirect can be replayed, so it applies twice.",
        recommendation="Store the event id (or the Checkout Session id) under a unique "
        "constraint before applying it, and skip ids already stored.",
        lines=span(anchor.line),
        severity=Severity.MINOR,
    )


def _hunks(change: Change, f: ChangedFile) -> Iterator[Report]:
    names = sdk_names(f.new_text)
    for e in f.endpoints:
        if not e.is_new or not (e.methods & _MUTATING):
            continue
        if any(KEY.search(ln.text) for ln in e.body):
            continue
        body = [ln for ln in e.body if ln.kind == "added" and ln.new_no is not None]
        texts = [ln.text for ln in body]
        call = next((ln for k, ln in enumerate(body) if provider_call(texts, k, names)), None)
        provider = call is not None
        call = call or next((ln for ln in body if _LOCAL.search(ln.text)), None)
        if call is None or call.new_no is None:
            continue
        route = f"{'/'.join(sorted(e.methods & _MUTATING))} {e.path or e.name}".strip()
        hop = Hop(f.path, call.new_no, call.text.strip())
        last = e.body[-1].new_no or call.new_no
        yield _report(change, route, hop, hop, provider, (f.path, e.line, last))


def _check(change: Change, ctx: RuleContext) -> Iterator[Report]:
    code = _code(change)
    if not any(f.added_text for f in code):
        return
    for f in code:
        routes = change.routes.of(f)
        head = whole_head(f)
        if routes is not None and head is not None:
            yield from _whole(change, f, head, routes.head)
        else:
            yield from _hunks(change, f)


RULES = (
    Rule(
        id="idempotency-key-missing",
        doc="A POST/PUT/PATCH handler creates payments/orders/refunds (itself or through the "
        "functions it calls) without an idempotency key.",
        category="reliability",
        severity=Severity.MAJOR,
        check=_check,
    ),
)
