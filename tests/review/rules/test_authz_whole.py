"""Authorization with whole files: every route read with the guards of every scope."""

from __future__ import annotations

from app.review.findings import Finding
from tests.review.rules.builders import modified, of, review, whole

REMOVED, UNGUARDED, OPT_OUT = "authz-guard-removed", "authz-unguarded-route", "authz-opt-out"

FASTAPI = """
from fastapi import APIRouter, Depends

router = APIRouter(prefix="/orders")


@router.get("")
def list_orders(user: User = Depends(get_current_user)):
    return orders.for_user(user)


@router.get("/{order_id}")
def get_order(order_id: int, user: User = Depends(get_current_user)):
    return orders.get(user, order_id)


@router.delete("/{order_id}")
def delete_order(order_id: int, user: User = Depends(get_current_user)):
    return orders.delete(user, order_id)
"""


def _rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings if f.rule.startswith("authz"))


# FastAPI ------------------------------------------------------------------------------------


def test_guards_moved_into_a_custom_router_class_defined_in_the_change_are_a_move() -> None:
    head = FASTAPI.replace("user: User = Depends(get_current_user)", "").replace(
        "router = APIRouter(", "router = AuthenticatedRouter("
    )
    routing = """
    from fastapi import APIRouter, Depends


    class AuthenticatedRouter(APIRouter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.dependencies.append(Depends(get_current_user))
    """
    found = whole(
        {"app/api/orders.py": FASTAPI}, {"app/api/orders.py": head, "app/routing.py": routing}
    )
    assert _rules(found) == []


def test_a_custom_router_class_out_of_sight_is_taken_as_a_move_too() -> None:
    head = FASTAPI.replace("user: User = Depends(get_current_user)", "").replace(
        "router = APIRouter(", "router = SecureRouter("
    )
    assert _rules(whole({"app/api/orders.py": FASTAPI}, {"app/api/orders.py": head})) == []


def test_guard_moved_to_the_router_dependencies_is_a_move() -> None:
    head = FASTAPI.replace("user: User = Depends(get_current_user)", "").replace(
        'APIRouter(prefix="/orders")',
        'APIRouter(\n    prefix="/orders",\n    dependencies=[Depends(get_current_user)],\n)',
    )
    assert _rules(whole({"app/api/orders.py": FASTAPI}, {"app/api/orders.py": head})) == []


def test_guard_dropped_from_one_route_is_reported_at_its_base_line() -> None:
    head = FASTAPI.replace(
        "def delete_order(order_id: int, user: User = Depends(get_current_user)):",
        "def delete_order(order_id: int):",
    )
    found = of(whole({"app/api/orders.py": FASTAPI}, {"app/api/orders.py": head}), REMOVED)
    assert [(f.where.lines, f.where.side) for f in found] == [("17", "LEFT")]
    assert "DELETE /{order_id}" in found[0].evidence


def test_router_level_dependency_removed_is_one_finding_for_all_its_routes() -> None:
    base = """
    router = APIRouter(
        prefix="/admin",
        dependencies=[Depends(require_admin)],
    )


    @router.get("/users")
    def users():
        return []


    @router.post("/users/{uid}/ban")
    def ban(uid: int):
        return {}
    """
    head = base.replace("    dependencies=[Depends(require_admin)],\n", "")
    found = of(whole({"app/api/admin.py": base}, {"app/api/admin.py": head}), REMOVED)
    assert [(f.where.lines, f.title) for f in found] == [
        ("3", "Auth guard removed: `require_admin`")
    ]
    assert "`GET /users`, `POST /users/{uid}/ban`" in found[0].evidence


def test_multi_line_route_decorator_without_the_annotated_guard_siblings_use() -> None:
    base = """
    CurrentUser = Annotated[User, Depends(get_current_user)]


    @router.get("/a")
    def a(user: CurrentUser):
        return 1


    @router.get("/b")
    def b(user: CurrentUser):
        return 2
    """
    head = (
        base
        + """

    @router.post(
        "/c",
        response_model=Out,
        status_code=201,
    )
    async def c(
        body: In,
        db: Session = Depends(get_db),
    ):
        return 3
    """
    )
    found = of(whole({"app/api/x.py": base}, {"app/api/x.py": head}), UNGUARDED)
    assert [(f.where.lines, f.title) for f in found] == [
        ("14", "New route `POST /c` has no auth guard; its siblings do")
    ]


def test_new_route_under_a_guarded_router_or_public_by_design_is_silent() -> None:
    base = FASTAPI.replace("user: User = Depends(get_current_user)", "").replace(
        'APIRouter(prefix="/orders")',
        'APIRouter(prefix="/orders", dependencies=[Depends(get_current_user)])',
    )
    head = base + '\n\n@router.post("/{order_id}/cancel")\ndef cancel(order_id: int):\n    pass\n'
    assert _rules(whole({"app/api/orders.py": base}, {"app/api/orders.py": head})) == []
    health = FASTAPI + '\n\n@router.get("/healthz")\ndef healthz():\n    return "ok"\n'
    assert _rules(whole({"app/api/orders.py": FASTAPI}, {"app/api/orders.py": health})) == []


def test_the_projects_own_decorator_is_a_guard_by_its_definition() -> None:
    base = """
    def ensure_member(view):
        @wraps(view)
        def inner(*args, **kwargs):
            if not g.account:
                abort(403)
            return view(*args, **kwargs)
        return inner


    @bp.route("/team")
    @ensure_member
    def team():
        return render()


    @bp.route("/team/invite", methods=["POST"])
    @ensure_member
    def invite():
        return render()
    """
    head = base.replace("@ensure_member\n    def invite", "def invite")
    found = of(whole({"app/views/team.py": base}, {"app/views/team.py": head}), REMOVED)
    assert [(f.where.lines, f.title) for f in found] == [
        ("17", "Auth guard removed: `ensure_member`")
    ]


def test_a_shared_decorator_that_is_not_a_guard_is_not_one() -> None:
    base = """
    @bp.route("/a")
    @cache.cached(timeout=60)
    def a():
        return 1


    @bp.route("/b")
    @cache.cached(timeout=60)
    def b():
        return 2
    """
    head = base.replace('@bp.route("/b")\n    @cache.cached(timeout=60)', '@bp.route("/b")')
    assert _rules(whole({"app/views.py": base}, {"app/views.py": head})) == []


def test_flask_before_request_covers_the_blueprint() -> None:
    base = """
    @bp.before_request
    def require_login():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))


    @bp.route("/a")
    def a():
        return 1
    """
    head = base + '\n\n@bp.route("/b", methods=["POST"])\ndef b():\n    return 2\n'
    assert _rules(whole({"app/views/admin.py": base}, {"app/views/admin.py": head})) == []
    gone = base.replace("@bp.before_request\n    ", "")
    found = of(whole({"app/views/admin.py": base}, {"app/views/admin.py": gone}), REMOVED)
    assert [f.where.lines for f in found] == ["1"]


# DRF / Django -------------------------------------------------------------------------------

DRF = """
class OrderView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk):
        return Response()

    def delete(self, request, pk):
        return Response()
"""


def test_class_permission_classes_removed_from_a_drf_view() -> None:
    head = DRF.replace("    permission_classes = [IsAuthenticated]\n", "")
    found = of(whole({"shop/views.py": DRF}, {"shop/views.py": head}), REMOVED)
    assert [(f.where.lines, f.title) for f in found] == [
        ("2", "Auth guard removed: `IsAuthenticated`")
    ]
    assert "DELETE OrderView.delete" in found[0].evidence


def test_permission_classes_moved_into_a_base_class_in_the_change() -> None:
    head = DRF.replace(
        "(APIView):\n    permission_classes = [IsAuthenticated]\n", "(AuthedView):\n"
    )
    base_module = "class AuthedView(APIView):\n    permission_classes = [IsAuthenticated]\n"
    found = whole({"shop/views.py": DRF}, {"shop/views.py": head, "shop/base.py": base_module})
    assert _rules(found) == []


def test_new_view_class_without_permissions_while_siblings_have_them() -> None:
    other = DRF.replace("OrderView", "RefundView")
    head = DRF + "\n\n" + other + "\n\nclass ExportView(APIView):\n    def post(self, request):\n"
    head += "        return Response()\n"
    found = of(whole({"shop/views.py": DRF + "\n\n" + other}, {"shop/views.py": head}), UNGUARDED)
    assert [f.title for f in found] == [
        "New route `POST ExportView.post` has no auth guard; its siblings do"
    ]


def test_drf_action_and_mixin_guards() -> None:
    base = """
    class InvoiceViewSet(LoginRequiredMixin, viewsets.ModelViewSet):
        def list(self, request):
            return Response()

        def destroy(self, request, pk=None):
            return Response()
    """
    head = base + (
        "\n    @action(\n        detail=True,\n        methods=['post'],\n    )\n"
        "    def pay(self, request, pk=None):\n        return Response()\n"
    )
    assert _rules(whole({"billing/views.py": base}, {"billing/views.py": head})) == []
    public = head.replace("methods=['post'],", "methods=['post'], permission_classes=[AllowAny],")
    found = whole({"billing/views.py": base}, {"billing/views.py": public})
    assert _rules(found) == [OPT_OUT]


def test_django_function_view_losing_its_decorator() -> None:
    base = """
    @login_required
    def dashboard(request):
        return render(request, "d.html")


    @login_required
    @require_POST
    def archive(request, pk):
        return redirect("/")
    """
    head = base.replace("@login_required\n    @require_POST", "@require_POST")
    found = of(whole({"app/views.py": base}, {"app/views.py": head}), REMOVED)
    assert [(f.where.lines, f.title) for f in found] == [
        ("6", "Auth guard removed: `login_required`")
    ]


# Rails --------------------------------------------------------------------------------------

RAILS = """
class OrdersController < ApplicationController
  before_action :authenticate_user!, only: [:create, :update]
  before_action :set_order, only: [:update]

  def index
  end

  def create
  end

  def update
  end
end
"""


def test_rails_new_action_outside_the_only_list() -> None:
    head = RAILS.replace("  def update\n  end\n", "  def update\n  end\n\n  def destroy\n  end\n")
    found = of(
        whole(
            {"app/controllers/orders_controller.rb": RAILS},
            {"app/controllers/orders_controller.rb": head},
        ),
        UNGUARDED,
    )
    assert [(f.where.lines, f.title) for f in found] == [
        ("14", "New route `DELETE OrdersController.destroy` has no auth guard; its siblings do")
    ]
    covered = head.replace("only: [:create, :update]", "only: [:create, :update, :destroy]")
    assert (
        _rules(
            whole(
                {"app/controllers/orders_controller.rb": RAILS},
                {"app/controllers/orders_controller.rb": covered},
            )
        )
        == []
    )


def test_rails_before_action_moved_to_the_parent_controller_in_the_change() -> None:
    head = RAILS.replace("  before_action :authenticate_user!, only: [:create, :update]\n", "")
    parent = "class ApplicationController < ActionController::Base\n"
    parent += "  before_action :authenticate_user!\nend\n"
    path = "app/controllers/orders_controller.rb"
    assert (
        _rules(
            whole({path: RAILS}, {path: head, "app/controllers/application_controller.rb": parent})
        )
        == []
    )
    found = of(whole({path: RAILS}, {path: head}), REMOVED)
    assert [f.where.lines for f in found] == ["2"]


def test_rails_skip_before_action_of_an_inherited_filter() -> None:
    base = """
    class ReportsController < ApplicationController
      skip_before_action :require_sign_in, only: [:index]

      def index
      end

      def show
      end
    end
    """
    head = base.replace("only: [:index]", "only: [:index, :show]")
    found = whole(
        {"app/controllers/reports_controller.rb": base},
        {"app/controllers/reports_controller.rb": head},
    )
    assert _rules(found) == [OPT_OUT]


# NestJS -------------------------------------------------------------------------------------

NEST = """
@Controller('orders')
export class OrdersController {
  @Get()
  @UseGuards(JwtAuthGuard)
  list() {}

  @Get(':id')
  @UseGuards(JwtAuthGuard)
  one() {}

  @Delete(':id')
  @UseGuards(JwtAuthGuard)
  remove() {}
}
"""


def test_nest_guards_moved_to_the_controller_are_a_move() -> None:
    head = NEST.replace("  @UseGuards(JwtAuthGuard)\n", "").replace(
        "@Controller('orders')\n", "@Controller('orders')\n@UseGuards(JwtAuthGuard)\n"
    )
    path = "src/orders/orders.controller.ts"
    assert _rules(whole({path: NEST}, {path: head})) == []


def test_nest_guard_dropped_from_one_method_and_a_new_unguarded_method() -> None:
    path = "src/orders/orders.controller.ts"
    head = NEST.replace("  @Delete(':id')\n  @UseGuards(JwtAuthGuard)\n", "  @Delete(':id')\n")
    assert [f.where.lines for f in of(whole({path: NEST}, {path: head}), REMOVED)] == ["12"]
    added = NEST.rstrip().removesuffix("}") + "\n  @Post(':id/refund')\n  refund() {}\n}\n"
    found = of(whole({path: NEST}, {path: added}), UNGUARDED)
    assert [f.title for f in found] == [
        "New route `POST :id/refund` has no auth guard; its siblings do"
    ]


# Express ------------------------------------------------------------------------------------

EXPRESS = """
const router = express.Router();

router.get('/orders', requireAuth, listOrders);
router.get('/orders/:id', requireAuth, getOrder);
router.delete('/orders/:id', requireAuth, deleteOrder);

module.exports = router;
"""


def test_express_middleware_moved_to_router_use_is_a_move() -> None:
    head = EXPRESS.replace("requireAuth, ", "").replace(
        "express.Router();\n", "express.Router();\nrouter.use(requireAuth);\n"
    )
    path = "src/routes/orders.js"
    assert _rules(whole({path: EXPRESS}, {path: head})) == []
    more = head.replace(
        "module.exports", "router.post(\n  '/orders',\n  createOrder,\n);\n\nmodule.exports"
    )
    assert _rules(whole({path: EXPRESS}, {path: more})) == []


def test_express_multi_line_route_without_the_sibling_middleware() -> None:
    path = "src/routes/orders.js"
    head = EXPRESS.replace(
        "module.exports",
        "router.post(\n  '/orders/:id/refund',\n  validate(refundSchema),\n"
        "  async (req, res) => {\n    res.json(await refund(req.params.id));\n"
        "  },\n);\n\nmodule.exports",
    )
    found = of(whole({path: EXPRESS}, {path: head}), UNGUARDED)
    assert [(f.where.lines, f.title) for f in found] == [
        ("7", "New route `POST /orders/:id/refund` has no auth guard; its siblings do")
    ]


# Without whole files ------------------------------------------------------------------------


def test_hunks_only_a_guard_given_a_new_home_in_the_change_is_silent() -> None:
    routes = modified(
        "app/api/orders.py",
        ' @router.get("/orders")\n-def list_orders(user: User = Depends(get_current_user)):\n'
        "+def list_orders():\n     return []\n",
        old_start=20,
    )
    router = modified(
        "app/api/deps.py",
        "+router = APIRouter(dependencies=[Depends(get_current_user)])\n",
    )
    assert _rules(review(routes, router)) == []
    assert _rules(review(routes)) == [REMOVED]


def test_hunks_only_the_projects_own_decorator_removed() -> None:
    diff = modified("app/views.py", ' @bp.route("/x")\n-@superuser_required\n def x():\n')
    assert _rules(review(diff)) == [REMOVED]


# Look-alikes found on real commits ----------------------------------------------------------


def test_a_record_loader_before_action_is_not_a_guard() -> None:
    base = """
    class AccountsController < ApplicationController
      before_action :set_account, only: %i[show destroy]

      def index
      end

      def show
      end

      def destroy
      end
    end
    """
    head = base.replace("  def show\n", "  def sync_all\n  end\n\n  def show\n")
    path = "app/controllers/accounts_controller.rb"
    assert _rules(whole({path: base}, {path: head})) == []


def test_an_error_handling_decorator_that_only_logs_the_user_is_not_a_guard() -> None:
    base = """
    def handle_provider_errors(func):
        def _handler(request):
            if request.user.is_authenticated:
                who = str(request.user)
            try:
                return func(request)
            except ProviderError as e:
                return error_response(str(e), status=503)
        return _handler


    @handle_provider_errors
    @api_view(["GET"])
    def search(request):
        return run(request)
    """
    head = base.replace("@handle_provider_errors\n    @api_view", "@api_view")
    assert _rules(whole({"app/search/views.py": base}, {"app/search/views.py": head})) == []


def test_reads_and_writes_are_judged_apart_and_static_reads_are_public() -> None:
    base = """
    @Controller('stays')
    export class StaysController {
      @UseGuards(UserGuard)
      @Post()
      create() {}

      @UseGuards(UserGuard)
      @Delete(':id')
      remove() {}

      @Get()
      all() {}

      @Get(':id')
      one() {}
    }
    """
    head = base.replace("  @Get(':id')\n", "  @Get(':id/media')\n  media() {}\n\n  @Get(':id')\n")
    path = "src/stays/stays.controller.ts"
    assert _rules(whole({path: base}, {path: head})) == []
    catalog = FASTAPI + '\n\n@router.get("/catalog")\ndef catalog():\n    return CATALOG\n'
    assert _rules(whole({"app/api/orders.py": FASTAPI}, {"app/api/orders.py": catalog})) == []


def test_an_opt_out_named_in_a_docstring_or_inside_a_helper_view_is_silent() -> None:
    base = "def helper():\n    pass\n"
    head = (
        base + '\n\ndef access_exempt(view_class):\n    """\n    Like the @login_not_required '
        'decorator, for classes.\n    """\n    return view_class\n'
    )
    assert _rules(whole({"app/extra/auth.py": base}, {"app/extra/auth.py": head})) == []
    views = "@login_required\ndef a(request):\n    pass\n\n\n@login_required\ndef b(request):\n"
    views += "    pass\n"
    helper = views + "\n\ndef _form_defaults(request):\n    return {}\n"
    assert _rules(whole({"app/views.py": views}, {"app/views.py": helper})) == []


def test_a_guard_replaced_by_a_decorator_out_of_sight_is_a_question() -> None:
    base = """
    class Hint(Resource):
        @during_ctf_time_only
        @authed_only
        def get(self, hint_id):
            return load(hint_id)


    class Hints(Resource):
        @authed_only
        def get(self):
            return []
    """
    head = base.replace(
        "@during_ctf_time_only\n        @authed_only",
        "@during_ctf_time_only\n        @check_challenge_visibility",
    )
    found = of(whole({"app/api/hints.py": base}, {"app/api/hints.py": head}), REMOVED)
    assert [(f.type, f.title) for f in found] == [
        (
            "question",
            "`authed_only` replaced by `check_challenge_visibility`: "
            "does it still check who is asking?",
        )
    ]
    plain = base.replace(
        "@during_ctf_time_only\n        @authed_only",
        "@during_ctf_time_only\n        @cache.cached(timeout=5)",
    )
    found = of(whole({"app/api/hints.py": base}, {"app/api/hints.py": plain}), REMOVED)
    assert [f.type for f in found] == ["evidence"]


def test_a_new_route_with_only_part_of_the_shared_guards() -> None:
    base = """
    @Controller('watchlist')
    export class WatchlistController {
      @Delete(':symbol')
      @HasPermission(permissions.deleteItem)
      @UseGuards(AuthGuard('jwt'), HasPermissionGuard)
      remove() {}

      @Get()
      @HasPermission(permissions.readItems)
      @UseGuards(AuthGuard('jwt'), HasPermissionGuard)
      list() {}
    }
    """
    head = base.replace(
        "  @Get()\n",
        "  @Post()\n  @HasPermission(permissions.createItem)\n  @UseGuards(AuthGuard('jwt'))\n"
        "  create() {}\n\n  @Get()\n",
    )
    path = "src/watchlist/watchlist.controller.ts"
    found = of(whole({path: base}, {path: head}), UNGUARDED)
    assert [(f.where.lines, f.title) for f in found] == [
        (
            "8",
            "New route `POST WatchlistController.create` lacks `HasPermissionGuard`, "
            "which every sibling route has",
        )
    ]
    other = head.replace(
        "@UseGuards(AuthGuard('jwt'))\n  create", "@UseGuards(ApiKeyGuard)\n  create"
    )
    assert of(whole({path: base}, {path: other}), UNGUARDED) == []


def test_an_unknown_base_class_does_not_cover_what_its_siblings_guard_themselves() -> None:
    base = """
    class AttributeResource(resources.ResourceMixin, Resource):
        @login_required
        def get(self, sketch_id):
            return 1

        @login_required
        def post(self, sketch_id):
            return 2
    """
    head = base + "\n        def delete(self, sketch_id):\n            return 3\n"
    found = of(whole({"app/api/attribute.py": base}, {"app/api/attribute.py": head}), UNGUARDED)
    assert [f.title for f in found] == [
        "New route `DELETE AttributeResource.delete` has no auth guard; its siblings do"
    ]


def test_a_guard_moved_into_a_registered_auth_middleware_is_a_move() -> None:
    base = """
    class ApplicationController < ActionController::Base
      before_action :require_auth_for_admin
      before_action :set_locale

      def index
      end

      def show
      end
    end
    """
    head = base.replace("  before_action :require_auth_for_admin\n", "")
    path = "app/controllers/application_controller.rb"
    config = "module App\n  class Application\n"
    config += "    config.middleware.use ::App::Middleware::AdminAuth\n  end\nend\n"
    found = whole(
        {path: base, "config/application.rb": "module App\nend\n"},
        {path: head, "config/application.rb": config},
    )
    assert _rules(found) == []
    assert _rules(whole({path: base}, {path: head})) == [REMOVED]


def test_the_same_opt_out_line_in_two_classes_is_two_findings() -> None:
    base = """
    class FeedsViewSet(viewsets.ModelViewSet):
        permission_classes = [
            permissions.IsAuthenticated
        ]


    class SourcesViewSet(viewsets.ModelViewSet):
        permission_classes = [
            permissions.IsAuthenticated
        ]
    """
    head = base.replace("permissions.IsAuthenticated", "permissions.AllowAny")
    found = of(whole({"app/sources/api.py": base}, {"app/sources/api.py": head}), OPT_OUT)
    assert [f.where.lines for f in found] == ["3", "9"]


def test_reads_behind_unrelated_checks_set_no_convention() -> None:
    base = """
    @app.route("/viewUser")
    @jwt_or_session_token_required
    def view_user():
        return 1


    @app.route("/get_organization")
    @valid_api_key_required
    def get_organization():
        return 2
    """
    head = (
        base
        + '\n\n@app.route("/<organization_name>")\ndef org_page(organization_name):\n    return 3\n'
    )
    assert _rules(whole({"backend/app.py": base}, {"backend/app.py": head})) == []


def test_new_unguarded_routes_do_not_vouch_for_each_other() -> None:
    base = """
    @Controller('posts')
    export class PostController {
      @Post()
      @Auth([RoleType.USER])
      create() {}

      @Get()
      @Auth([RoleType.USER])
      list() {}
    }
    """
    head = base.rstrip().removesuffix("}") + (
        "\n  @Put(':id')\n  update() {}\n\n  @Delete(':id')\n  remove() {}\n}\n"
    )
    path = "src/post/post.controller.ts"
    found = of(whole({path: base}, {path: head}), UNGUARDED)
    assert [f.title for f in found] == [
        "New route `PUT :id` has no auth guard; its siblings do",
        "New route `DELETE :id` has no auth guard; its siblings do",
    ]


def test_the_only_write_among_reads_that_mostly_share_a_guard() -> None:
    base = """
    @Controller('users')
    export class UserController {
      @UseGuards(JwtAuthGuard)
      @Get('me')
      me() {}

      @UseGuards(JwtAuthGuard)
      @Get()
      list() {}

      @Get(':id')
      one() {}
    }
    """
    head = base.rstrip().removesuffix("}") + "\n  @Patch(':id')\n  update() {}\n}\n"
    path = "src/user/user.controller.ts"
    found = of(whole({path: base}, {path: head}), UNGUARDED)
    assert [f.title for f in found] == ["New route `PATCH :id` has no auth guard; its siblings do"]


def test_member_guards_of_one_object_are_one_convention() -> None:
    base = (
        "router.get('/semesters', UserAuth.isSignedIn, list);\n"
        "router.get('/archive', UserAuth.isAdmin, archive);\n"
        "router.get('/feedback', UserAuth.isCoachOrAdmin, feedback);\n"
    )
    head = base + "router.get('/summary', (req, res) => res.json(summarise(req.query)));\n"
    found = of(whole({"src/routes/db.js": base}, {"src/routes/db.js": head}), UNGUARDED)
    assert [f.where.lines for f in found] == ["4"]


def test_dropping_a_skip_of_an_inherited_filter_removes_no_guard() -> None:
    base = """
    class PagesController < ApplicationController
      skip_before_action :authenticate_user!, only: %i[early_access]

      def dashboard
      end

      def early_access
      end
    end
    """
    head = base.replace("  skip_before_action :authenticate_user!, only: %i[early_access]\n", "")
    path = "app/controllers/pages_controller.rb"
    assert _rules(whole({path: base}, {path: head})) == []


def test_an_empty_dependencies_list_outside_a_route_is_no_opt_out() -> None:
    text = "class GemInfo\n  def deps\n    dependencies = []\n  end\nend\n"
    assert _rules(whole({}, {"app/models/gem_info.rb": text})) == []


def test_a_test_that_imports_the_guard_does_not_make_its_removal_a_move() -> None:
    head = FASTAPI.replace(
        "delete_order(order_id: int, user: User = Depends(get_current_user))",
        "delete_order(order_id: int)",
    )
    test = "from app.auth import get_current_user\n\ndef test_x():\n    assert get_current_user\n"
    path = "app/api/orders.py"
    found = whole({path: FASTAPI}, {path: head, "tests/test_orders.py": test})
    assert _rules(found) == [REMOVED]


def test_the_unguarded_advice_names_the_guard_not_its_line() -> None:
    head = FASTAPI + (
        '\n\n@router.post("/{order_id}/refund")\ndef refund_order(order_id: int):\n'
        "    return orders.refund(order_id)\n"
    )
    path = "app/api/orders.py"
    found = [f for f in whole({path: FASTAPI}, {path: head}) if f.rule == UNGUARDED]
    assert len(found) == 1
    assert "Add the same guard (`Depends(get_current_user)`)" in found[0].recommendation
    assert "(e.g. `Depends(get_current_user)`)" in found[0].evidence


def test_an_import_or_comment_in_other_code_is_not_a_move() -> None:
    head = FASTAPI.replace(
        "delete_order(order_id: int, user: User = Depends(get_current_user))",
        "delete_order(order_id: int)",
    )
    other = "from app.auth import get_current_user  # noqa\n# get_current_user lives here\n"
    path = "app/api/orders.py"
    found = whole({path: FASTAPI, "app/api/misc.py": ""}, {path: head, "app/api/misc.py": other})
    assert _rules(found) == [REMOVED]
    used = other + "\n\ndef check(request):\n    return get_current_user(request)\n"
    found = whole({path: FASTAPI, "app/api/misc.py": ""}, {path: head, "app/api/misc.py": used})
    assert _rules(found) == []
