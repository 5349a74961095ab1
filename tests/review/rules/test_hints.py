"""The prefilters the rules run before their regexes must never hide a match.

Each rule skips a file, or a line, whose text lacks its hints; that is only safe if every
match of its real patterns contains one. These properties check that on text built from the
patterns' own pieces, near misses and case/Unicode variants.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.files import _MIGRATION_CHECKS, _migration_framework
from app.review.rules import authz_hunks, routes, secrets
from app.review.rules.hints import hinted
from bench.quality import _FAKES

_NOISE = st.text(
    alphabet=st.sampled_from("aAbkKsSzZ09\u212a_-/+=.:'\"` \t\u017fK\u0130\u0131@(),[]=\u00e9T3"),
    min_size=0,
    max_size=12,
)
_RUN = st.text(alphabet=st.sampled_from("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"), max_size=64)


def _texts(pieces: list[str]) -> st.SearchStrategy[str]:
    part = st.one_of(st.sampled_from(pieces), _NOISE, _RUN)
    return st.lists(part, max_size=8).map("".join)


_SECRET_PIECES = [
    *_FAKES.values(),
    *("AKIA", "ASIA", "ABIA", "ACCA", "AIza", "akia", "aiza"),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xoxb-", "xoxp-", "xox"),
    *("https://hooks.slack.com/services/T", "/B", "sk_live_", "rk_live_", "sk-", "sk-ant-api03-"),
    *("sk-proj-", "sk-admin-", "T3BlbkFJ", "-----BEGIN RSA PRIVATE KEY-----", "PRIVATE KEY"),
    *("aws_secret_access_key = ", "AWS_SECRET_ACCESS_KEY: '", "aw\u017f_secret_access_key=", '"'),
    *("eyJhbGciOiJIUzI1NiJ9", "EYJ", "eyj", ".eyJzdWIiOiI0MiJ9.", "Bearer ", "token='"),
    *('authorization: "', "ABCDEFGHIJKLMNOP", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz1234567890"),
    "Bearer " + _FAKES["jwt"],
    "token = '" + _FAKES["jwt"],
    "sk-" + "a1B2" * 12,
    "sk-ant-admin01-" + "a1B2" * 11,
    "https://hooks.slack.com/services/T0ABC/B0DEF/" + "a1B2" * 5,
    "AIza" + "Sy" + "a1B2" * 8 + "x",
]


def _one_by_one(pieces: list[str]) -> list[str]:
    """Each piece alone and padded: a match no other piece's hint can mask."""
    return [t for p in pieces for t in (p, f"  x = {p}  ", f"{p}\u00e9")]


def _secret_ok(text: str) -> bool:
    regexes = [p.regex for p in secrets._PATTERNS] + [secrets._JWT]
    return secrets._may_hold_secret(text) or not any(r.search(text) for r in regexes)


@settings(max_examples=400)
@given(_texts(_SECRET_PIECES))
def test_every_secret_pattern_match_passes_the_secret_prefilter(text: str) -> None:
    assert _secret_ok(text)


def test_each_secret_piece_alone_passes_the_secret_prefilter() -> None:
    assert all(_secret_ok(t) for t in _one_by_one(_SECRET_PIECES))


_AUTHZ_PIECES = [
    *("AllowAny", "csrf_exempt", "@csrf.exempt", "permission_classes = []", "@Public()"),
    *("authentication_classes=()", "@permission_classes([])", "@SkipAuth()", "@PermitAll"),
    *("SetMetadata('isPublic', true)", "@login_not_required", "skip_before_action :authenticate"),
    *("allow_unauthenticated_access", "dependencies=[]", "dependencies = [ ]", "@"),
    *("@login_required", "@app.auth_required", "Depends(get_current_user)", "depends(", "DEPENDS("),
    *(
        "Depend\u017f(auth)",
        "Security(oauth2)",
        "\u017fecurity(x)",
        "permission_classes = [IsAdmin]",
    ),
    *("IsAuthenticated", "\u0130sAuthenticated", "LoginRequiredMixin", "PermissionRequiredMixin"),
    *("@UseGuards(AuthGuard)", "@Roles(", "@Auth(", "router.get('/users', ", 'app.post( "/x",'),
    *("requireUser, ", "verifyToken", "(req, res) => {", "  ", "api.delete(`/a`, jwtCheck)"),
]


def _authz_ok(text: str) -> bool:
    opt_out = authz_hunks.OPT_OUT.search(text) or authz_hunks.EMPTY_DEPS.search(text)
    guard = routes.GUARD.search(text) or routes.EXPRESS_ROUTE.match(text)
    return (hinted(text, authz_hunks.OPT_OUT_HINTS) or not opt_out) and (
        authz_hunks.may_guard(text) or not guard
    )


@settings(max_examples=400)
@given(_texts(_AUTHZ_PIECES))
def test_every_opt_out_or_guard_match_passes_its_prefilter(text: str) -> None:
    assert _authz_ok(text)


def test_each_authz_piece_alone_passes_its_prefilter() -> None:
    assert all(_authz_ok(t) for t in _one_by_one(_AUTHZ_PIECES))


_ROUTE_PIECES = [
    *("@router.post(", "@app.get(", "@bp.route(", "@api_view(['POST'])", "@Get(", "@Post('x')"),
    *("def post(self, request", "async def create(self, request", "(self,", "'/users'", '"/x"'),
    *("app.get(", "router.post(", "userRouter.put(", "routes.all(", "server.delete(", "`/a`"),
    *("    ", "\t", "path=", "rule="),
    *(
        "app.all('/x', auth, h)",
        '  router.delete("/y", h)',
        "@router.api_route('/z', ",
        "@Delete()",
    ),
]


def _route_ok(text: str) -> bool:
    python = any(p.match(text) for p in (routes._PY_ROUTE, routes._DRF_VIEW, routes._DRF_METHOD))
    other = routes._NEST_ROUTE.match(text) or routes.EXPRESS_ROUTE.match(text)
    return (hinted(text, routes._PY_HINTS) or not python) and (
        hinted(text, ("@",), routes._JS_HINT) or not other
    )


@settings(max_examples=400)
@given(_texts(_ROUTE_PIECES))
def test_every_endpoint_declaration_passes_the_endpoint_prefilter(text: str) -> None:
    assert _route_ok(text)


def test_each_route_piece_alone_passes_the_endpoint_prefilter() -> None:
    assert all(_route_ok(p + s) for p in _ROUTE_PIECES for s in ("", "'/a', h)", "'/a')"))


_PATH_PIECES = [
    *("db/", "migrate/", "migrations/", "migration/", "alembic/", "versions/", "changelog"),
    *(
        "0001_init.py",
        "2024_add.rb",
        "1_x.up.sql",
        "V1__a.sql",
        "R__b.sql",
        "migration.sql",
        ".sql",
    ),
    *("x.js", "x.ts", "schema/", "database/", "app/", "a.xml", ".yaml", "/"),
    *("alembic/versions/abc.py", "prisma/migrations/2024_init/migration.sql"),
]


def _path_ok(path: str) -> bool:
    expected = next((fw for p, fw in _MIGRATION_CHECKS if p.search(path)), None)
    return _migration_framework(path) == expected


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_PATH_PIECES), max_size=6).map("".join))
def test_migration_paths_pass_the_migration_prefilter(path: str) -> None:
    assert _path_ok(path)


def test_each_migration_path_piece_passes_the_migration_prefilter() -> None:
    assert all(_path_ok(p) for p in _PATH_PIECES)


def test_folded_hints_fold_like_re_ignorecase() -> None:
    assert hinted("AWS_SECRET", folded=("aws",))
    assert hinted("aw\u017f_secret", folded=("aws",))  # re.I folds the long s; str.lower does not
    assert hinted("\u212aelvin: \u212aEY", folded=("key",))  # the Kelvin sign
    assert not hinted("laws of physics", folded=("secret",))
    assert not hinted("plain text", ("@",), None, ("aws",))
