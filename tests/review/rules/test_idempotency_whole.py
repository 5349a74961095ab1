"""Idempotency with whole files: endpoints followed to the payment calls they make."""

from __future__ import annotations

from app.review.findings import Finding, Severity
from tests.review.rules.builders import of, whole

RULE = "idempotency-key-missing"

BILLING = """
import stripe as stripe_lib


def charge(customer, amount):
    return stripe_lib.PaymentIntent.create(customer=customer, amount=amount, confirm=True{extra})
"""

ROUTES = """
from app.services import billing


@router.get("/invoices")
def invoices(user=Depends(get_current_user)):
    return []
"""

NEW_ROUTE = """

@router.post(
    "/invoices/{invoice_id}/pay",
    status_code=201,
)
async def pay_invoice(invoice_id: int, user=Depends(get_current_user)):
    invoice = load(invoice_id)
    return billing.charge(user.customer, invoice.amount)
"""


def _run(extra: str = "", route: str = NEW_ROUTE) -> list[Finding]:
    return of(
        whole(
            {"app/api/invoices.py": ROUTES},
            {
                "app/api/invoices.py": ROUTES + route,
                "app/services/billing.py": BILLING.format(extra=extra),
            },
        ),
        RULE,
    )


def test_payment_through_an_aliased_sdk_in_a_service_the_endpoint_calls() -> None:
    found = _run()
    assert [(f.where.path, f.where.lines, f.severity) for f in found] == [
        ("app/api/invoices.py", "15", Severity.MINOR)
    ]
    assert "app/services/billing.py:5" in found[0].evidence


def test_key_passed_in_the_service_is_silent() -> None:
    assert _run(extra=", idempotency_key=key") == []


def test_get_endpoint_calling_the_service_is_silent() -> None:
    assert _run(route=NEW_ROUTE.replace("@router.post(", "@router.get(")) == []


def test_unchanged_endpoint_and_service_are_silent() -> None:
    base = {"app/api/invoices.py": ROUTES + NEW_ROUTE, "app/services/billing.py": BILLING}
    head = dict(base)
    head["app/api/invoices.py"] = base["app/api/invoices.py"].replace("return []", "return [1]")
    base["app/services/billing.py"] = head["app/services/billing.py"] = BILLING.format(extra="")
    assert of(whole(base, head), RULE) == []


def test_async_variant_added_to_an_existing_drf_view() -> None:
    base = """
    class CheckoutView(APIView):
        permission_classes = [IsAuthenticated]

        def post(self, request):
            order = create_order(request.data)
            return Response({"id": order.id})
    """
    head = base.replace(
        '            return Response({"id": order.id})',
        "            intent = await stripe.PaymentIntent.create_async(\n"
        "                amount=order.total, confirm=True\n            )\n"
        '            return Response({"id": order.id})',
    )
    found = of(whole({"shop/views.py": base}, {"shop/views.py": head}), RULE)
    assert [(f.where.lines, f.severity) for f in found] == [("6", Severity.MINOR)]


def test_rails_create_action() -> None:
    base = (
        "class PaymentsController < ApplicationController\n"
        "  before_action :authenticate_user!\n\n  def index\n  end\nend\n"
    )
    create = "\n  def create\n    Stripe::Charge.create(amount: params[:amount]{extra})\n  end\n"
    path = "app/controllers/payments_controller.rb"

    def head(extra: str) -> str:
        return base.replace(
            "  def index\n  end\n", "  def index\n  end\n" + create.format(extra=extra)
        )

    found = of(whole({path: base}, {path: head("")}), RULE)
    assert [(f.where.lines, f.title) for f in found] == [
        ("8", "`POST create` creates payments/orders without an idempotency key")
    ]
    assert of(whole({path: base}, {path: head(", idempotency_key: key")}), RULE) == []


def test_nest_post_handler_calling_a_service_method() -> None:
    controller = """
    @Controller('orders')
    @UseGuards(JwtAuthGuard)
    export class OrdersController {
      constructor(private readonly payments: PaymentsService) {}

      @Post(':id/pay')
      async pay(@Param('id') id: string) {
        return this.payments.charge(id);
      }
    }
    """
    service = """
    import Stripe from 'stripe';

    @Injectable()
    export class PaymentsService {
      constructor(@InjectStripe() private readonly client: Stripe) {}

      async charge(id: string) {
        return this.client.paymentIntents.create({ amount: 100, currency: 'eur', confirm: true });
      }
    }
    """
    found = of(
        whole(
            {},
            {
                "src/orders/orders.controller.ts": controller,
                "src/payments/payments.service.ts": service,
            },
        ),
        RULE,
    )
    assert [(f.where.path, f.where.lines) for f in found] == [
        ("src/orders/orders.controller.ts", "8")
    ]


def test_express_handler_referenced_by_name() -> None:
    routes = "router.post('/checkout', requireAuth, checkout);\n"
    handlers = """
    const stripeClient = require('stripe')(process.env.STRIPE_KEY);

    async function checkout(req, res) {
      const charge = await stripeClient.charges.create({ amount: 500, source: req.body.token });
      res.json(charge);
    }
    """
    found = of(whole({}, {"src/routes.js": routes, "src/handlers.js": handlers}), RULE)
    assert [(f.where.path, f.where.lines) for f in found] == [("src/routes.js", "1")]
    keyed = handlers.replace(
        "source: req.body.token }", "source: req.body.token }, { idempotencyKey: k }"
    )
    assert of(whole({}, {"src/routes.js": routes, "src/handlers.js": keyed}), RULE) == []


def test_a_non_payment_create_through_an_unrelated_client_is_silent() -> None:
    text = """
    @router.post("/notes")
    def add_note(body: NoteIn):
        return client.sessions.create(body)
    """
    assert of(whole({}, {"app/api/notes.py": text}), RULE) == []


def test_calls_that_move_no_money_are_silent() -> None:
    for call in (
        "stripe.checkout.Session.create(mode='payment', line_items=items)",
        "stripe.PaymentIntent.create(amount=total, currency='eur')",
        "stripe.PaymentIntent.confirm(intent_id)",
        "stripe.Invoice.create(customer=c)",
    ):
        text = f'@router.post("/pay")\ndef pay(body: In):\n    return {call}\n'
        assert of(whole({}, {"app/api/pay.py": text}), RULE) == [], call
    multi = (
        '@router.post("/pay")\ndef pay(body: In):\n    return stripe.PaymentIntent.create(\n'
        "        amount=body.total,\n        payment_method=body.method,\n        confirm=True,\n"
        "    )\n"
    )
    assert [f.where.lines for f in of(whole({}, {"app/api/pay.py": multi}), RULE)] == ["3"]


WEBHOOK = """
@payments_bp.post("/webhook")
def stripe_webhook():
    event = stripe.Webhook.construct_event(request.data, signature, secret)
    _handle(event)
    return "", 200


def _handle(event):
    if event["type"] == "checkout.session.completed":
        add_purchased_credits(event["data"]["object"]["metadata"]["user_id"], 100)
"""


def test_a_webhook_that_applies_payments_without_remembering_events() -> None:
    found = of(whole({}, {"app/payments/handler.py": WEBHOOK}), RULE)
    assert [(f.where.lines, f.severity) for f in found] == [("10", Severity.MINOR)]
    remembered = WEBHOOK.replace(
        "    _handle(event)\n",
        "    if already_processed(event['id']):\n        return '', 200\n    _handle(event)\n",
    )
    assert of(whole({}, {"app/payments/handler.py": remembered}), RULE) == []


def test_a_checkout_callback_that_creates_a_subscription_each_time() -> None:
    controller = """
    @Controller('subscription')
    export class SubscriptionController {
      @Get('stripe/callback')
      public async stripeCallback(@Req() req, @Res() res) {
        await this.subscriptionService.createSubscription(req.query.checkoutSessionId);
        res.redirect('/account');
      }
    }
    """
    service = """
    @Injectable()
    export class SubscriptionService {
      public async createSubscription(aCheckoutSessionId: string) {
        const session = await this.stripe.checkout.sessions.retrieve(aCheckoutSessionId);
        await this.prisma.subscription.create({ data: { userId: session.client_reference_id } });
      }
    }
    """
    files = {"src/subscription.controller.ts": controller, "src/subscription.service.ts": service}
    found = of(whole({}, files), RULE)
    assert [(f.where.path, f.where.lines) for f in found] == [("src/subscription.service.ts", "5")]
