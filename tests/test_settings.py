from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConfigError
from app.github.manifest_flow import Registration, save
from app.settings import load_local_settings, load_settings

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in (
        "GITHUB_APP_ID",
        "GITHUB_PRIVATE_KEY",
        "GITHUB_PRIVATE_KEY_PATH",
        "GITHUB_WEBHOOK_SECRET",
        "DATABASE_URL",
        "BACKEND_REVIEW_DATA_DIR",
        "BACKEND_REVIEW_PORT",
        "ANTHROPIC_API_KEY",
        "BACKEND_REVIEW_PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.missing_github_app() == [
        "GITHUB_APP_ID",
        "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH",
        "GITHUB_WEBHOOK_SECRET",
    ]
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("/data/backend-review.db")
    assert str(settings.github_api_url) == "https://api.github.com/"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_names_from_the_interface_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", "1234")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", PEM.replace("\n", "\\n"))
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s3cret-value")
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:pw@db/reviews")
    monkeypatch.setenv("BACKEND_REVIEW_MODEL", "claude-opus-4-1")
    settings = load_settings()
    assert settings.github_app_id == 1234
    assert settings.private_key_pem() == PEM, "literal \\n in the variable becomes a newline"
    assert settings.missing_github_app() == []
    assert settings.resolved_database_url == "postgresql+asyncpg://u:pw@db/reviews"
    assert settings.model == "claude-opus-4-1"
    assert {"s3cret-value", "pw"} <= set(settings.secret_values())


def test_dotenv_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GITHUB_APP_ID=77\nGITHUB_WEBHOOK_SECRET=from-dotenv\n")
    settings = load_settings()
    assert settings.github_app_id == 77
    assert settings.github_webhook_secret is not None
    assert settings.github_webhook_secret.get_secret_value() == "from-dotenv"


def test_the_reviewed_services_own_names_are_not_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `backend-review review` runs inside the user's service: its .env and environment speak
    # of its own log level, port and model, never of ours.
    (tmp_path / ".env").write_text("LOG_LEVEL=DEBUG\nPORT=abc\nMODEL=gpt-4o\nHOST=0.0.0.0\n")
    monkeypatch.setenv("DATA_DIR", "/elsewhere")
    monkeypatch.setenv("DATABASE_URL", "mysql://u:pw@db/app")
    settings = load_local_settings()
    assert (settings.log_level, settings.port, settings.host) == ("info", 8000, "127.0.0.1")
    assert (settings.model, settings.data_dir) == ("claude-sonnet-4-6", Path("data"))
    assert settings.database_url is None  # the service's database is not the one we never open
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings()  # the server does open it: a wrong one is still an error there
    assert load_settings(database_url=None, port=9).port == 9  # code still sets fields by name


def test_key_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    assert load_settings().private_key_pem() == PEM


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "-3"}, "GITHUB_APP_ID"),
        ({"BACKEND_REVIEW_PORT": "99999"}, "BACKEND_REVIEW_PORT"),
        ({"GITHUB_API_URL": "not a url"}, "GITHUB_API_URL"),
        ({"DATABASE_URL": "mysql://root@db/x"}, "DATABASE_URL"),
        ({"GITHUB_PRIVATE_KEY": "hunter2-not-a-pem"}, "GITHUB_PRIVATE_KEY"),
        ({"BACKEND_REVIEW_WORKER_CONCURRENCY": "many"}, "BACKEND_REVIEW_WORKER_CONCURRENCY"),
        ({"BACKEND_REVIEW_LOG_FORMAT": "xml"}, "BACKEND_REVIEW_LOG_FORMAT"),
    ],
)
def test_malformed_setting_names_itself_but_not_its_value(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], setting: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == setting
    message = str(caught.value)
    assert message.startswith(f"{setting}: ")
    assert "\n" not in message
    for value in env.values():
        assert value not in message


def test_both_key_sources_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", PEM)
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match="not both"):
        load_settings()


@pytest.mark.parametrize("content", [None, "just some text"])
def test_unreadable_or_wrong_key_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None
) -> None:
    key = tmp_path / "app.pem"
    if content is not None:
        key.write_text(content)
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    settings = load_settings()
    with pytest.raises(ConfigError) as caught:
        settings.private_key_pem()
    assert caught.value.setting == "GITHUB_PRIVATE_KEY_PATH"
    assert "just some text" not in str(caught.value)


def test_database_password_is_a_secret_in_both_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://app:p%40ss%2Fword@db/reviews")
    assert {"p@ss/word", "p%40ss%2Fword"} <= set(load_settings().secret_values())


def test_model_prices_are_four_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().llm_price_per_mtok is None  # unset: each model's list prices
    monkeypatch.setenv("BACKEND_REVIEW_LLM_PRICE_PER_MTOK", " 1, 5, 0.1, 1.25 ")
    assert load_settings().llm_price_per_mtok == (1.0, 5.0, 0.1, 1.25)
    for bad, says in (("1,5", "four prices"), ("a,b,c,d", "numbers"), ("1,2,3,-4", "negative")):
        monkeypatch.setenv("BACKEND_REVIEW_LLM_PRICE_PER_MTOK", bad)
        with pytest.raises(ConfigError, match=says) as caught:
            load_settings()
        assert caught.value.setting == "BACKEND_REVIEW_LLM_PRICE_PER_MTOK"


REGISTERED = Registration(
    app_id=5150,
    slug="backend-review-acme",
    name="backend-review (acme)",
    html_url="https://github.com/apps/backend-review-acme",
    owner="acme",
    client_id="Iv23liXYZ",
    pem=PEM,
    webhook_secret="registered-webhook-secret",
)


def test_the_app_registered_on_the_setup_page_is_read_on_start(tmp_path: Path) -> None:
    assert load_settings().missing_github_app() != []
    save(tmp_path / "data", REGISTERED, api_url="https://api.github.com/")
    settings = load_settings()
    assert settings.missing_github_app() == []
    assert settings.github_app_id == 5150
    assert settings.private_key_pem() == PEM
    assert settings.github_webhook_secret is not None
    assert settings.github_webhook_secret.get_secret_value() == "registered-webhook-secret"
    assert {PEM, "registered-webhook-secret"} <= set(settings.secret_values())
    assert "registered-webhook-secret" not in repr(settings)


def test_the_environment_wins_over_the_registered_app_value_by_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    save(tmp_path / "data", REGISTERED, api_url="https://api.github.com/")
    key = tmp_path / "rotated.pem"
    key.write_text(PEM.replace("MIIEowIBAAKCAQEA", "ROTATEDKEY"))
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "from-the-environment")
    settings = load_settings()
    assert settings.github_app_id == 5150, "not in the environment: the registered one"
    assert settings.github_private_key is None
    assert settings.private_key_pem() == key.read_text()
    assert settings.github_webhook_secret is not None
    assert settings.github_webhook_secret.get_secret_value() == "from-the-environment"
    monkeypatch.setenv("GITHUB_APP_ID", "77")
    assert load_settings().github_app_id == 77


def test_the_registered_app_is_looked_for_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    save(tmp_path / "elsewhere", REGISTERED, api_url="https://api.github.com/")
    assert load_settings().github_app_id is None
    monkeypatch.setenv("BACKEND_REVIEW_DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings().github_app_id == 5150


@pytest.mark.parametrize(
    ("record", "key"),
    [
        ("{not json", PEM),
        ('{"id": "5150", "slug": "x", "webhook_secret": "hunter2-secret"}', PEM),
        ('{"id": 5150, "slug": "x"}', PEM),
        ('{"id": 5150, "slug": "x", "webhook_secret": "hunter2-secret"}', None),
        ('{"id": 5150, "slug": "x", "webhook_secret": "hunter2-secret"}', "hunter2-not-a-key"),
    ],
)
def test_a_broken_registered_app_stops_start_up_without_showing_it(
    tmp_path: Path, record: str, key: str | None
) -> None:
    folder = tmp_path / "data" / "github-app"
    folder.mkdir(parents=True)
    (folder / "app.json").write_text(record)
    if key is not None:
        (folder / "private-key.pem").write_text(key)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == "BACKEND_REVIEW_DATA_DIR"
    assert "hunter2" not in str(caught.value)


def test_a_complete_environment_never_reads_the_data_directory(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "github-app"
    folder.mkdir(parents=True)
    (folder / "app.json").write_text("{broken")
    settings = load_settings(
        github_app_id=9, github_private_key=PEM, github_webhook_secret="s3cret-value"
    )
    assert settings.github_app_id == 9


def test_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().public_url is None
    monkeypatch.setenv("BACKEND_REVIEW_PUBLIC_URL", "https://review.example.com/base")
    assert str(load_settings().public_url) == "https://review.example.com/base"
    monkeypatch.setenv("BACKEND_REVIEW_PUBLIC_URL", "not a url")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == "BACKEND_REVIEW_PUBLIC_URL"


def test_an_empty_webhook_secret_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "")
    assert "GITHUB_WEBHOOK_SECRET" in load_settings().missing_github_app()


def test_the_thinking_budget_is_0_or_at_least_the_apis_minimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().llm_thinking_budget == 4000
    for fine in ("0", "1024", "16000"):
        monkeypatch.setenv("BACKEND_REVIEW_LLM_THINKING_BUDGET", fine)
        assert load_settings().llm_thinking_budget == int(fine)
    for bad in ("1", "1023", "-5", "99999"):
        monkeypatch.setenv("BACKEND_REVIEW_LLM_THINKING_BUDGET", bad)
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert caught.value.setting == "BACKEND_REVIEW_LLM_THINKING_BUDGET"
