from __future__ import annotations

import base64
import json

import pytest

from app.review.findings import Severity
from tests.review.rules.builders import added, modified, of, review

# Assembled at runtime so this file never holds a literal that scanners would flag.
GITHUB = "ghp" + "_" + "R8x2Lq9ZtK3vWm7NcY4bHs6DpF1aJe5GuQ0o"
AWS = "AKIA" + "Q7ZL3M2XNRV5TYWB"
STRIPE = "sk" + "_live_" + "51Hx9aQm2Zr7Lp4Kd8Vt3Ny6"
SLACK = "xoxb" + "-2931846503-9182736450-Zq8Rt5Lm2Xw7Ck4Vb1Np6Hd"
GOOGLE = "AIza" + "SyD8kq2L9xZt4Vn7Rm1Pb3Wc6Hj0Yf5Gs2A"
ANTHROPIC = "sk-ant" + "-api03-" + "Zk4" * 30
OPENAI = "sk-proj-" + "Qw7Er9Ty2Ui4Op6As8Df" + "T3Blbk" + "FJ" + "Gh1Jk3Lz5Xc7Vb9Nm2Qw"
PEM_HEAD = "-----BEGIN RSA " + "PRIVATE KEY-----"
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"


def _jwt() -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    head, claims = part({"alg": "HS256", "typ": "JWT"}), part({"sub": "42", "n": "x"})
    return f"{head}.{claims}.Zm9vYmFyYmF6cXV4MTIzNDU2"


@pytest.mark.parametrize(
    ("line", "secret", "name"),
    [
        (f'TOKEN = "{GITHUB}"', GITHUB, "GitHub token"),
        (f"AWS_ACCESS_KEY_ID = '{AWS}'", AWS, "AWS access key id"),
        (f'stripe.api_key = "{STRIPE}"', STRIPE, "Stripe live key"),
        (f'SLACK = "{SLACK}"', SLACK, "Slack token"),
        (f'MAPS_KEY = "{GOOGLE}"', GOOGLE, "Google API key"),
        (f'client = Anthropic(api_key="{ANTHROPIC}")', ANTHROPIC, "Anthropic API key"),
        (f'OPENAI_API_KEY = "{OPENAI}"', OPENAI, "OpenAI API key"),
        (f'headers = {{"Authorization": "Bearer {_jwt()}"}}', _jwt(), "JWT bearer token"),
    ],
)
def test_provider_tokens_are_found_and_redacted(line: str, secret: str, name: str) -> None:
    found = of(review(added("app/client.py", f"import os\n{line}\n")), "hardcoded-secret")
    assert len(found) == 1
    finding = found[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.where.lines == "2"
    assert name in finding.title
    text = finding.model_dump_json()
    assert secret[8:] not in text  # nothing past the redacted prefix leaks
    assert secret[:4] + "…" in finding.evidence


def test_private_key_with_body_is_found() -> None:
    pem = f"KEY = '''{PEM_HEAD}\n{PEM_BODY}\n'''\n"
    found = of(review(added("app/keys.py", pem)), "hardcoded-secret")
    assert [f.severity for f in found] == [Severity.CRITICAL]
    assert "MIIEow" not in found[0].model_dump_json()


def test_two_secrets_on_one_line_are_both_redacted_in_every_finding() -> None:
    line = f'CREDS = {{"aws": "{AWS}", "gh": "{GITHUB}"}}'
    found = of(review(added("app/creds.py", f"{line}\n")), "hardcoded-secret")
    assert len(found) == 2
    for finding in found:
        text = finding.model_dump_json()
        assert AWS[8:] not in text
        assert GITHUB[8:] not in text


def test_key_material_after_a_pem_header_on_one_line_is_not_quoted() -> None:
    line = f'KEY = "{PEM_HEAD}\\n{PEM_BODY}\\n-----END RSA PRIVATE KEY-----"'
    found = of(review(added("app/keys.py", f"{line}\n")), "hardcoded-secret")
    assert found
    for finding in found:
        assert PEM_BODY[:20] not in finding.model_dump_json()


def test_private_key_in_a_test_is_a_question() -> None:
    pem = f"KEY = '''{PEM_HEAD}\n{PEM_BODY}\n'''\n"
    found = of(review(added("tests/test_auth.py", pem)), "hardcoded-secret")
    assert [(f.severity, f.type) for f in found] == [(Severity.INFO, "question")]


@pytest.mark.parametrize(
    "line",
    [
        'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"',  # AWS's documented example key
        'TOKEN = "ghp_' + "a" * 36 + '"',  # fixture with no variety
        'STRIPE = "sk_' + 'test_51Hx9aQm2Zr7Lp4Kd8Vt3Ny6"',  # test-mode key
        'revision = "3f2a9c1b7d4e"',  # Alembic revision id
        'down_revision = "ae1027a6acf4"',
        "digest = hashlib.sha256(body).hexdigest()  # SHA-256 of the payload",
        f'if pem.startswith("{PEM_HEAD}"):',  # a header compared against, no key material
        'api_key = os.environ["STRIPE_API_KEY"]',
        f'FAKE_JWT = "{_jwt()}"',  # JWT without a bearer/token context
    ],
)
def test_look_alikes_stay_silent(line: str) -> None:
    assert of(review(added("app/settings_example.py", line)), "hardcoded-secret") == []


def test_jwt_fixture_in_tests_stays_silent() -> None:
    line = f'headers = {{"Authorization": "Bearer {_jwt()}"}}'
    assert of(review(added("tests/test_api.py", line)), "hardcoded-secret") == []


def test_removed_and_context_lines_are_not_scanned() -> None:
    diff = modified("app/client.py", f' A = 1\n-TOKEN = "{GITHUB}"\n+TOKEN = os.environ["T"]\n')
    assert of(review(diff), "hardcoded-secret") == []


def test_lock_files_are_skipped_but_vendored_code_is_scanned() -> None:
    assert of(review(added("vendor/x/client.go", f'const t = "{GITHUB}"')), "hardcoded-secret")


def test_id_survives_a_line_shift() -> None:
    one = of(review(added("app/c.py", f'T = "{GITHUB}"')), "hardcoded-secret")[0]
    two = of(review(added("app/c.py", f'import os\n\nT = "{GITHUB}"')), "hardcoded-secret")[0]
    assert one.id == two.id
    assert one.where.lines != two.where.lines


# Generic credentials: built at runtime, random-looking, never a provider format.
RANDOM_PASSWORD = "Xq7" + "Lr2vN9kT4pWz"
HEX_SECRET = "9f3b" + "a71c04e2d85b6f19c7a03e4d2b8f"
SENDGRID = "SG." + "Vb3kQ9xLm2Zr7Tp4Hd8Nc1" + "." + "Wq5Ey8Ru2Ti6Yo0Pa3Sd7Fg9Hj1Kl4Zx6Cv8Bn2Mq5W"


def test_sendgrid_key_is_a_provider_format() -> None:
    found = of(review(added("config.env", f"SENDGRID_PASSWORD={SENDGRID}\n")), "hardcoded-secret")
    assert [(f.severity, f.title.split(" committed")[0]) for f in found] == [
        (Severity.CRITICAL, "SendGrid API key")
    ]
    assert SENDGRID[8:] not in found[0].model_dump_json()


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("config.env", f"DATABASE_PASSWORD={RANDOM_PASSWORD}"),
        ("backend/app.py", f"app.config['JWT_SECRET_KEY'] = '{HEX_SECRET}'"),
        ("backend/app.py", f'app.config["MAIL_PASSWORD"] = "{RANDOM_PASSWORD}"'),
        ("app/db.py", f'dbPassword = "{RANDOM_PASSWORD}"'),
        ("src/client.ts", f"const apiKey = '{HEX_SECRET}'"),
        ("latest/run.py", f'api_key = "{HEX_SECRET}"'),  # "latest" is not a test folder
        ("config/secrets.yml", f"  client_secret: {HEX_SECRET}"),
        ("client_secret.json", f'{{"web": {{"client_secret": "{RANDOM_PASSWORD}"}}}}'),
        # annotated, as pydantic settings and TypeScript write them
        ("app/settings.py", f'    jwt_secret: str = "{HEX_SECRET}"'),
        ("app/settings.py", f'    API_KEY: Optional[str] = "{HEX_SECRET}"'),
        ("src/config.ts", f'export const apiToken: string = "{RANDOM_PASSWORD}";'),
    ],
)
def test_random_literal_assigned_to_a_secret_name_is_major(path: str, line: str) -> None:
    found = of(review(added(path, f"{line}\n")), "hardcoded-secret")
    assert [f.severity for f in found] == [Severity.MAJOR]
    assert found[0].type == "evidence"
    text = found[0].model_dump_json()
    assert RANDOM_PASSWORD[4:] not in text
    assert HEX_SECRET[4:] not in text


@pytest.mark.parametrize(
    ("path", "line"),
    [
        # placeholders, phrases, low entropy, references, non-secret names
        ("config.env", "DB_PASSWORD=postgres"),
        ("config.env", "JWT_SECRET=my-ultra-secure-and-ultra-long-secret"),
        ("config.env", "EMAIL_PASSWORD=1e3c5a7b9d1e3c"),
        ("app/settings.py", 'SECRET_KEY = os.environ["SECRET_KEY"]'),
        ("app/settings.py", "SECRET_KEY = settings.SECRET_KEY_VALUE"),
        ("app/settings.py", f'PASSWORD_HASHER = "{HEX_SECRET}"'),
        ("app/settings.py", f'TOKEN_URL = "{HEX_SECRET}"'),
        ("app/settings.py", f'PUBLIC_KEY = "{HEX_SECRET}"'),
        ("app/settings.py", f'cache_key = "{HEX_SECRET}"'),
        ("app/settings.py", f"API_KEY = {HEX_SECRET}"),  # unquoted in code: not a literal
        ("app/settings.py", f'if token == "{HEX_SECRET}":'),
        ("app/settings.py", 'MAIL_PASSWORD = "${MAIL_PASSWORD}"'),
        ("app/settings.py", 'API_KEY = "your-api-key-goes-here"'),
        ("app/settings.py", "    jwt_secret: str = Field(default=...)"),
        ("app/settings.py", "    jwt_secret: SecretStr = SETTINGS_JWT_SECRET"),
        ("app/settings.py", f'    token_url: str = "{HEX_SECRET}"'),
        # samples: tests, examples, templates, docs
        ("tests/test_auth.py", f'JWT_SECRET_KEY = "{HEX_SECRET}"'),
        (".env.example", f"SECRET_KEY={HEX_SECRET}"),
        ("config/app.yml.template", f"  password: {RANDOM_PASSWORD}"),
        ("docs/setup.md", f"    DATABASE_PASSWORD={RANDOM_PASSWORD}"),
        ("sdk/integration_tests/run.py", f'api_key = "{HEX_SECRET}"'),
        ("sdk/api-test/run.py", f'api_key = "{HEX_SECRET}"'),
    ],
)
def test_generic_look_alikes_stay_silent(path: str, line: str) -> None:
    assert of(review(added(path, f"import os\n{line}\n")), "hardcoded-secret") == []


def test_one_value_is_reported_once_per_file() -> None:
    text = f"app.secret_key = '{HEX_SECRET}'\napp.config['JWT_SECRET_KEY'] = '{HEX_SECRET}'\n"
    found = of(review(added("backend/app.py", text)), "hardcoded-secret")
    assert [f.where.lines for f in found] == ["1"]


def test_provider_token_in_a_test_spec_is_a_fixture() -> None:
    spec = added("src/validate-token.spec.ts", f"const t = '{GITHUB}'\n")
    assert of(review(spec), "hardcoded-secret") == []


def test_firebase_web_api_key_is_public_by_design() -> None:
    config = f"""
    const firebaseConfig = {{
      apiKey: "{GOOGLE}",
      authDomain: "shop.firebaseapp.com",
    }};
    """
    assert of(review(added("web/src/firebase.ts", config)), "hardcoded-secret") == []
    gemini = f'const genAI = new GoogleGenerativeAI("{GOOGLE}");\n'
    assert len(of(review(added("server/ai.js", gemini)), "hardcoded-secret")) == 1


@pytest.mark.parametrize("path", ["apps/client/localhost.pem", ".env.example", "docs/tls.md"])
def test_private_key_for_localhost_or_in_an_example_stays_silent(path: str) -> None:
    pem = f"{PEM_HEAD}\n{PEM_BODY}\n"
    assert of(review(added(path, pem)), "hardcoded-secret") == []


def test_private_key_in_a_deploy_file_is_still_critical() -> None:
    pem = added("deploy/tls/server.key", f"{PEM_HEAD}\n{PEM_BODY}\n")
    found = of(review(pem), "hardcoded-secret")
    assert [f.severity for f in found] == [Severity.CRITICAL]


def test_real_provider_key_in_an_example_file_is_still_found() -> None:
    found = of(review(added(".env.example", f"SLACK_BOT_TOKEN={SLACK}\n")), "hardcoded-secret")
    assert [f.severity for f in found] == [Severity.CRITICAL]
