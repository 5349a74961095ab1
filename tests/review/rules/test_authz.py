from __future__ import annotations

import pytest

from tests.review.rules.builders import added, modified, of, review

FASTAPI = """
from fastapi import APIRouter, Depends

router = APIRouter()


@router.get("/orders")
def list_orders(user: User = Depends(get_current_user)):
    return []


@router.get("/orders/{id}")
def get_order(id: int, user: User = Depends(get_current_user)):
    return {}


@router.post("/orders/{id}/cancel")
def cancel_order(id: int, db: Session = Depends(get_db)):
    return {}
"""


@pytest.mark.parametrize(
    "line",
    [
        "    permission_classes = [AllowAny]",
        "@csrf_exempt",
        "    permission_classes = []",
        "  @Public()",
        "@login_not_required",
        "  skip_before_action :authenticate_user!",
    ],
)
def test_opt_outs_are_flagged(line: str) -> None:
    diff = modified(
        "app/api/views.py", f" class OrderView(APIView):\n+{line}\n     def post(self, request):\n"
    )
    found = of(review(diff), "authz-opt-out")
    assert len(found) == 1
    assert found[0].where.lines == "2"


def test_opt_out_on_a_public_endpoint_or_an_import_is_silent() -> None:
    webhook = modified(
        "app/api/views.py", "+@csrf_exempt\n+def stripe_webhook(request):\n+    pass\n"
    )
    assert of(review(webhook), "authz-opt-out") == []
    imp = modified("app/api/views.py", "+from rest_framework.permissions import AllowAny\n")
    assert of(review(imp), "authz-opt-out") == []
    pattern = modified("app/lint.py", '+OPT_OUT = re.compile(r"AllowAny|@csrf_exempt")\n')
    assert of(review(pattern), "authz-opt-out") == []
    in_test = modified("tests/test_views.py", "+    permission_classes = [AllowAny]\n")
    assert of(review(in_test), "authz-opt-out") == []


def test_empty_dependencies_is_only_a_question() -> None:
    diff = modified("app/api/items.py", '+@router.get("/items", dependencies=[])\n+def items():\n')
    found = of(review(diff), "authz-opt-out")
    assert [(f.severity.value, f.type) for f in found] == [("info", "question")]


def test_removed_guard_points_at_the_old_line() -> None:
    diff = modified(
        "app/api/orders.py",
        ' @router.get("/orders")\n-def list_orders(user: User = Depends(get_current_user)):\n'
        "+def list_orders():\n     return []\n",
        old_start=20,
    )
    found = of(review(diff), "authz-guard-removed")
    assert [(f.where.lines, f.where.side) for f in found] == [("21", "LEFT")]


def test_guard_removed_flask_and_express() -> None:
    flask = modified("app/views.py", ' @bp.route("/admin")\n-@login_required\n def admin():\n')
    assert of(review(flask), "authz-guard-removed")
    express = modified(
        "src/routes/orders.js",
        "-router.post('/orders', requireAuth, createOrder);\n"
        "+router.post('/orders', createOrder);\n",
    )
    assert of(review(express), "authz-guard-removed")


def test_moved_guard_or_deleted_endpoint_is_silent() -> None:
    moved = modified(
        "app/views.py",
        ' @bp.route("/admin")\n-@login_required\n+@login_required  # moved below\n def admin():\n',
    )
    assert of(review(moved), "authz-guard-removed") == []
    deleted = modified(
        "app/views.py",
        '-@bp.route("/admin")\n-@login_required\n-def admin():\n-    return 1\n',
    )
    assert of(review(deleted), "authz-guard-removed") == []


def test_new_route_without_the_sibling_guard() -> None:
    found = of(review(added("app/api/orders.py", FASTAPI)), "authz-unguarded-route")
    assert len(found) == 1
    assert "cancel" in found[0].title
    assert "Depends(get_current_user" in found[0].evidence
    assert found[0].where.lines == "16"


def test_new_guarded_or_public_route_is_silent() -> None:
    guarded = FASTAPI.replace(
        "db: Session = Depends(get_db)", "user: User = Depends(get_current_user)"
    )
    assert of(review(added("app/api/orders.py", guarded)), "authz-unguarded-route") == []
    health = FASTAPI.replace('"/orders/{id}/cancel"', '"/healthz"').replace(
        "cancel_order", "health"
    )
    assert of(review(added("app/api/orders.py", health)), "authz-unguarded-route") == []


def test_when_most_siblings_are_unguarded_nothing_is_said() -> None:
    text = FASTAPI.replace("user: User = Depends(get_current_user)", "q: str = ''")
    assert of(review(added("app/api/orders.py", text)), "authz-unguarded-route") == []


def test_express_and_nest_siblings() -> None:
    express = """
const router = express.Router();
router.get('/orders', requireAuth, listOrders);
router.get('/orders/:id', requireAuth, getOrder);
router.post('/orders/:id/refund', refundOrder);
"""
    found = of(review(added("src/routes/orders.js", express)), "authz-unguarded-route")
    assert [f.where.lines for f in found] == ["4"]
    nest = """
@Controller('orders')
export class OrdersController {
  @Get()
  @UseGuards(AuthGuard('jwt'))
  list() {}

  @Get(':id')
  @UseGuards(AuthGuard('jwt'))
  one() {}

  @Delete(':id')
  remove() {}
}
"""
    found = of(review(added("src/orders/orders.controller.ts", nest)), "authz-unguarded-route")
    assert [f.where.lines for f in found] == ["11"]


def test_guard_swapped_for_an_opt_out_is_reported_once() -> None:
    diff = modified(
        "shop/api/views.py",
        " class RefundView(APIView):\n"
        "-    permission_classes = [IsAuthenticated]\n"
        "+    permission_classes = [AllowAny]\n",
        old_start=40,
    )
    findings = review(diff)
    assert [f.rule for f in findings if f.rule.startswith("authz-")] == ["authz-opt-out"]


def test_a_public_word_inside_another_word_does_not_exempt_a_new_route_in_a_hunk() -> None:
    hunk = (
        ' @router.get("/orders/{id}")\n'
        " def get_order(id: int, user: User = Depends(get_current_user)):\n"
        "     return {}\n"
        " \n"
        " \n"
        ' @router.delete("/orders/{id}")\n'
        " def delete_order(id: int, user: User = Depends(get_current_user)):\n"
        "     return {}\n"
        "+\n"
        "+\n"
        '+@router.post("/orders/{id}/delivery")\n'
        "+def schedule_delivery(id: int, db: Session = Depends(get_db)):\n"
        "+    return {}\n"
    )
    found = of(review(modified("app/api/orders.py", hunk, 10)), "authz-unguarded-route")
    assert [f.where.lines for f in found] == ["20"]


DELETE_USER = modified(
    "app/main.py",
    ' @app.delete("/users/{user_id}")\n'
    "-def delete_user(user_id: int, admin=Depends(require_admin)):\n"
    "+def delete_user(user_id: int):\n"
    "     return users.delete(user_id)\n",
    old_start=26,
)


def test_a_test_that_imports_the_guard_does_not_make_its_removal_a_move() -> None:
    test = added(
        "tests/test_main.py",
        "from app.auth import require_admin\n\ndef test_admin():\n    assert require_admin\n",
    )
    found = of(review(DELETE_USER, test), "authz-guard-removed")
    assert [(f.where.path, f.where.lines) for f in found] == [("app/main.py", "27")]


def test_a_bare_mention_or_import_in_code_is_not_a_move() -> None:
    other = modified(
        "app/admin.py",
        " import logging\n+from app.auth import require_admin\n+# see require_admin\n",
    )
    assert of(review(DELETE_USER, other), "authz-guard-removed")


@pytest.mark.parametrize(
    "line",
    [
        "+router = APIRouter(dependencies=[Depends(require_admin)])",
        "+def purge(admin=Security(auth.require_admin)):",
        "+@require_admin",
        "+    require_admin(request.user)",
    ],
)
def test_the_guard_attached_in_other_code_is_a_move(line: str) -> None:
    other = modified("app/admin.py", f" import logging\n{line}\n")
    assert of(review(DELETE_USER, other), "authz-guard-removed") == []


def test_the_removed_guard_title_shows_the_guard_whole() -> None:
    found = of(review(DELETE_USER), "authz-guard-removed")
    assert [f.title for f in found] == ["Auth guard removed: `Depends(require_admin)`"]
    nest = modified(
        "src/orders.controller.ts",
        " @Get(':id')\n-@UseGuards(AuthGuard('jwt'))\n getOrder() {}\n",
    )
    titles = [f.title for f in of(review(nest), "authz-guard-removed")]
    assert titles == ["Auth guard removed: `@UseGuards(AuthGuard('jwt'))`"]
