"""Mutating endpoints that move money or create orders without an idempotency key."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.review.findings import FindingType, Severity
from app.review.rules.base import Change, Report, Rule, RuleContext, quote, span

_PROVIDER = re.compile(
    r"stripe\.(PaymentIntent|Charge|Refund|Transfer|Payout|Subscription|Invoice)\.create\("
    r"|stripe\.(paymentIntents|charges|refunds|transfers|payouts|subscriptions|invoices"
    r"|checkout\.sessions)\.create\(|stripe\.checkout\.Session\.create\("
    r"|\bcheckout\.payments\(|\.payments\.create\(|\.refunds\.create\("
    r"|braintree\.Transaction\.sale\(|\bgateway\.transaction\.sale\("
    # Identifier runs are bounded: "paypal" repeated was a start each rescanning the whole run.
    r"|OrdersCreateRequest\(|paypal\w{0,64}\.\w{0,64}orders?\.create\("
    r"|mollie\w{0,64}\.payments\.create\(|razorpay\w{0,64}\.order\.create\(",
    re.I,
)
_LOCAL = re.compile(
    r"\b(Payment|Order|Refund|Charge|Transaction|Invoice)\.objects\.create\("
    r"|\b(create|place|submit|capture)_(payment|order|refund|charge)\w*\("
    r"|\b(createPayment|createOrder|createRefund|placeOrder|chargeCard|capturePayment)\("
    r"|\b(Payment|Order|Refund)\.create\(|\bnew (Payment|Order|Refund)\("
    r"|\.add\((Payment|Order|Refund)\("
)
_KEY = re.compile(r"idempoten|Idempotency-Key|PayPal-Request-Id|\brequest_?id\s*[=:]", re.I)
_MUTATING = frozenset({"POST", "PUT", "PATCH"})


def _check(change: Change, ctx: RuleContext) -> Iterator[Report]:
    code = [f for f in change.reviewed if f.is_code and f.kind.kind not in ("test", "docs")]
    for f in code:
        for e in f.endpoints:
            if not e.is_new or not (e.methods & _MUTATING):
                continue
            body = [ln for ln in e.body if ln.kind == "added"]
            if any(_KEY.search(ln.text) for ln in e.body):
                continue
            call = next((ln for ln in body if _PROVIDER.search(ln.text)), None)
            provider = call is not None
            call = call or next((ln for ln in body if _LOCAL.search(ln.text)), None)
            if call is None or call.new_no is None:
                continue
            elsewhere = next(
                (
                    (g.path, ln)
                    for g in code
                    if _KEY.search(g.new_text)  # a key on any line matches the joined text too
                    for ln in g.visible
                    if _KEY.search(ln.text) and ln not in e.body
                ),
                None,
            )
            route = f"{'/'.join(sorted(e.methods & _MUTATING))} {e.path or e.name}".strip()
            evidence = f"`{route}` calls `{quote(call.text, 120)}` with no idempotency key"
            kind: FindingType
            if elsewhere:
                path, ln = elsewhere
                evidence += f"; this change passes one elsewhere ({path}:{ln.new_no}: "
                evidence += f"`{quote(ln.text, 100)}`)."
                severity, kind = Severity.MAJOR, "evidence"
            elif provider:
                evidence += ": a client retry after a timeout charges twice."
                severity, kind = Severity.MINOR, "evidence"
            else:
                evidence += ": what happens when the client retries?"
                severity, kind = Severity.INFO, "question"
            yield Report(
                path=f.path,
                key=f"{route}\0{call.text}",
                title=f"`{route}` creates payments/orders without an idempotency key"
                if kind == "evidence"
                else f"Is `{route}` safe to retry?",
                evidence=evidence,
                recommendation="Accept an `Idempotency-Key` header, store it with the result "
                "(unique per client), return the stored result on a repeat, and pass the key "
                "through to the payment provider (e.g. Stripe `idempotency_key=`).",
                lines=span(call.new_no),
                severity=severity,
                type=kind,
            )


RULES = (
    Rule(
        id="idempotency-key-missing",
        doc="A new POST/PUT/PATCH handler creates payments/orders/refunds without an "
        "idempotency key.",
        category="reliability",
        severity=Severity.MAJOR,
        check=_check,
    ),
)
