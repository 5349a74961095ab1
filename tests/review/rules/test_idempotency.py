from __future__ import annotations

from app.review.findings import Severity
from tests.review.rules.builders import added, modified, of, review

HANDLER = """
@router.post("/payments")
def create_payment(body: PaymentIn, user=Depends(get_current_user)):
    intent = stripe.PaymentIntent.create(amount=body.amount, currency="eur", confirm=True{extra})
    return {{"id": intent.id}}
"""


def test_provider_call_without_key() -> None:
    found = of(
        review(added("app/api/payments.py", HANDLER.format(extra=""))), "idempotency-key-missing"
    )
    assert [(f.severity, f.type, f.where.lines) for f in found] == [
        (Severity.MINOR, "evidence", "3")
    ]


def test_key_passed_is_silent() -> None:
    text = HANDLER.format(extra=", idempotency_key=key")
    assert of(review(added("app/api/payments.py", text)), "idempotency-key-missing") == []


def test_key_passed_elsewhere_in_the_diff_makes_it_major_with_evidence() -> None:
    other = modified(
        "app/api/refunds.py", "+    stripe.Refund.create(charge=c, idempotency_key=k)\n"
    )
    found = of(
        review(added("app/api/payments.py", HANDLER.format(extra="")), other),
        "idempotency-key-missing",
    )
    assert [f.severity for f in found] == [Severity.MAJOR]
    assert "app/api/refunds.py:1" in found[0].evidence


def test_local_order_creation_is_a_question() -> None:
    text = '@app.post("/orders")\ndef place(body):\n    order = Order.objects.create(**body)\n'
    found = of(review(added("app/api/orders.py", text)), "idempotency-key-missing")
    assert [(f.severity, f.type) for f in found] == [(Severity.INFO, "question")]


def test_get_handlers_and_existing_handlers_are_silent() -> None:
    get = HANDLER.format(extra="").replace("router.post", "router.get")
    assert of(review(added("app/api/payments.py", get)), "idempotency-key-missing") == []
    existing = modified(
        "app/api/payments.py",
        ' @router.post("/payments")\n def create_payment(body):\n'
        "+    stripe.PaymentIntent.create(amount=1, confirm=True)\n",
    )
    assert of(review(existing), "idempotency-key-missing") == []


def test_express_handler() -> None:
    js = """
router.post('/checkout', requireAuth, async (req, res) => {
  const charge = await stripe.charges.create({ amount: 500, currency: 'eur', source: token });
  res.json(charge);
});
"""
    found = of(review(added("src/routes/checkout.js", js)), "idempotency-key-missing")
    assert [f.where.lines for f in found] == ["2"]
