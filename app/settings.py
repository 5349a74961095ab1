"""Settings: one typed object, built once at the entry point and passed down.

Names follow docs/architecture.md (names people rely on); the ones it does not list carry a
`BACKEND_REVIEW_` prefix. A `.env` file in the working directory is read too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import (
    AliasChoices,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from app.errors import ConfigError

_PEM_BEGIN = "-----BEGIN"

# Where the setup page (app/web/setup.py) keeps the App it registered: `<data_dir>/github-app/`
# holds `app.json` (id, slug, webhook secret, ...) and `private-key.pem`, both mode 0600.
REGISTERED_APP_DIR = "github-app"
REGISTERED_APP_FILE = "app.json"
REGISTERED_KEY_FILE = "private-key.pem"
_DATA_DIR = "BACKEND_REVIEW_DATA_DIR"  # the setting to name when those files are unusable


def _env(name: str) -> AliasChoices:
    # The environment name, or the field's own name when built in code (tests, CLI).
    return AliasChoices(name)


class _OurNamesOnly(PydanticBaseSettingsSource):
    """The environment or `.env`, read by our setting names only.

    `populate_by_name` lets code build `Settings(port=...)`; without this, pydantic-settings also
    reads a field's bare name from the environment, so the reviewed service's own `LOG_LEVEL`,
    `PORT`, `HOST`, `MODEL` or `DATA_DIR` (in its `.env`, or its CI) would become ours.
    """

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self._inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return self._inner.get_field_value(field, field_name)

    def __call__(self) -> dict[str, object]:
        names = set(self.settings_cls.model_fields)
        return {k: v for k, v in self._inner().items() if k not in names}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            _OurNamesOnly(settings_cls, env_settings),
            _OurNamesOnly(settings_cls, dotenv_settings),
            file_secret_settings,
        )

    github_app_id: int | None = Field(None, gt=0, validation_alias=_env("GITHUB_APP_ID"))
    github_private_key: SecretStr | None = Field(None, validation_alias=_env("GITHUB_PRIVATE_KEY"))
    github_private_key_path: Path | None = Field(
        None, validation_alias=_env("GITHUB_PRIVATE_KEY_PATH")
    )
    github_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("GITHUB_WEBHOOK_SECRET")
    )
    github_api_url: HttpUrl = Field(
        HttpUrl("https://api.github.com"), validation_alias=_env("GITHUB_API_URL")
    )

    anthropic_api_key: SecretStr | None = Field(None, validation_alias=_env("ANTHROPIC_API_KEY"))
    anthropic_base_url: HttpUrl | None = Field(None, validation_alias=_env("ANTHROPIC_BASE_URL"))
    model: str = Field(
        "claude-sonnet-4-6", min_length=1, validation_alias=_env("BACKEND_REVIEW_MODEL")
    )

    llm_provider: Literal["anthropic", "bedrock", "vertex"] = Field(
        "anthropic", validation_alias=_env("BACKEND_REVIEW_LLM_PROVIDER")
    )
    llm_max_output_tokens: int = Field(
        8192, ge=256, le=16384, validation_alias=_env("BACKEND_REVIEW_LLM_MAX_OUTPUT_TOKENS")
    )
    llm_timeout_seconds: float = Field(
        120, gt=0, le=600, validation_alias=_env("BACKEND_REVIEW_LLM_TIMEOUT_SECONDS")
    )
    llm_deadline_seconds: float = Field(
        600, gt=0, validation_alias=_env("BACKEND_REVIEW_LLM_DEADLINE_SECONDS")
    )
    llm_max_attempts: int = Field(
        3, ge=1, le=10, validation_alias=_env("BACKEND_REVIEW_LLM_MAX_ATTEMPTS")
    )
    llm_concurrency: int = Field(
        3, ge=1, le=16, validation_alias=_env("BACKEND_REVIEW_LLM_CONCURRENCY")
    )
    llm_call_input_tokens: int = Field(
        60_000, ge=4_000, validation_alias=_env("BACKEND_REVIEW_LLM_CALL_INPUT_TOKENS")
    )
    llm_review_tokens: int = Field(
        400_000, ge=0, validation_alias=_env("BACKEND_REVIEW_LLM_REVIEW_TOKENS")
    )
    llm_daily_tokens: int = Field(
        5_000_000, ge=0, validation_alias=_env("BACKEND_REVIEW_LLM_DAILY_TOKENS")
    )
    # Whole files read for a review (docs/performance.md, "Reading whole files"): at most this
    # many files, bytes per file and side (more is cut around the hunks), bytes per review, and
    # GitHub calls for the reading. 0 files: hunks only.
    context_max_files: int = Field(
        50, ge=0, le=1_000, validation_alias=_env("BACKEND_REVIEW_CONTEXT_MAX_FILES")
    )
    context_file_bytes: int = Field(
        200_000, ge=1_000, validation_alias=_env("BACKEND_REVIEW_CONTEXT_FILE_BYTES")
    )
    context_review_bytes: int = Field(
        2_000_000, ge=1_000, validation_alias=_env("BACKEND_REVIEW_CONTEXT_REVIEW_BYTES")
    )
    context_max_calls: int = Field(
        2, ge=1, le=20, validation_alias=_env("BACKEND_REVIEW_CONTEXT_MAX_CALLS")
    )
    # Tokens the model may think before it answers, where it can (docs/llm.md, "Models");
    # 0: no thinking where it can be turned off. The API's floor is 1024.
    llm_thinking_budget: int = Field(
        4000, ge=0, le=64_000, validation_alias=_env("BACKEND_REVIEW_LLM_THINKING_BUDGET")
    )
    # US dollars per million input, output, cache-read and cache-write tokens: overrides the
    # model's list prices (app/llm/capabilities.py) in the cost metric; unset: those prices.
    llm_price_per_mtok: Annotated[tuple[float, float, float, float] | None, NoDecode] = Field(
        None, validation_alias=_env("BACKEND_REVIEW_LLM_PRICE_PER_MTOK")
    )
    # Tracing is on when an OTLP endpoint is set (and the `otel` extra installed).
    otel_endpoint: str | None = Field(None, validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otel_service: str = Field("backend-review", validation_alias=_env("OTEL_SERVICE_NAME"))
    aws_region: str | None = Field(None, validation_alias=_env("AWS_REGION"))
    vertex_region: str | None = Field(None, validation_alias=_env("CLOUD_ML_REGION"))
    vertex_project_id: str | None = Field(
        None, validation_alias=_env("ANTHROPIC_VERTEX_PROJECT_ID")
    )
    personas_dir: Path | None = Field(None, validation_alias=_env("BACKEND_REVIEW_PERSONAS_DIR"))

    linear_api_key: SecretStr | None = Field(None, validation_alias=_env("LINEAR_API_KEY"))
    linear_api_url: HttpUrl = Field(
        HttpUrl("https://api.linear.app/graphql"), validation_alias=_env("LINEAR_API_URL")
    )

    data_dir: Path = Field(Path("data"), validation_alias=_env("BACKEND_REVIEW_DATA_DIR"))
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))

    # The address GitHub and browsers reach this server at (behind a proxy, say). Unset: the
    # address of the request, so X-Forwarded-Host is never trusted on our own.
    public_url: HttpUrl | None = Field(None, validation_alias=_env("BACKEND_REVIEW_PUBLIC_URL"))
    # A smee.io-style channel to take webhooks from (app.webhook_proxy): GitHub posts to it, serve
    # reads it and posts each delivery to its own endpoint. For a laptop GitHub cannot reach.
    webhook_proxy_url: HttpUrl | None = Field(
        None, validation_alias=_env("BACKEND_REVIEW_WEBHOOK_PROXY_URL")
    )
    host: str = Field("127.0.0.1", min_length=1, validation_alias=_env("BACKEND_REVIEW_HOST"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=_env("BACKEND_REVIEW_PORT"))
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", validation_alias=_env("BACKEND_REVIEW_LOG_FORMAT")
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", validation_alias=_env("BACKEND_REVIEW_LOG_LEVEL")
    )

    worker_concurrency: int = Field(
        2, ge=0, le=64, validation_alias=_env("BACKEND_REVIEW_WORKER_CONCURRENCY")
    )
    job_lease_seconds: float = Field(
        300, gt=0, validation_alias=_env("BACKEND_REVIEW_JOB_LEASE_SECONDS")
    )
    job_max_attempts: int = Field(5, ge=1, validation_alias=_env("BACKEND_REVIEW_JOB_MAX_ATTEMPTS"))
    job_poll_seconds: float = Field(
        1.0, gt=0, validation_alias=_env("BACKEND_REVIEW_JOB_POLL_SECONDS")
    )
    drain_seconds: float = Field(25, ge=0, validation_alias=_env("BACKEND_REVIEW_DRAIN_SECONDS"))
    # A review's CPU work (parsing, rules, planning, prompts, the plan) runs in these worker
    # processes, off the event loop that answers webhooks; 0 runs it on the loop (not for
    # production: a hostile diff then stalls the service).
    cpu_processes: int = Field(
        2, ge=0, le=32, validation_alias=_env("BACKEND_REVIEW_CPU_PROCESSES")
    )
    # Wall-clock seconds for one review's CPU work; past it the worker process is killed, what
    # finished is published and the check fails with the reason.
    review_cpu_seconds: float = Field(
        60, gt=0, le=3600, validation_alias=_env("BACKEND_REVIEW_REVIEW_CPU_SECONDS")
    )
    # At start, ask GitHub to redeliver what failed to reach us lately (app.jobs.recovery).
    recover_on_start: bool = Field(True, validation_alias=_env("BACKEND_REVIEW_RECOVER_ON_START"))
    recover_since_hours: float = Field(
        24, gt=0, le=72, validation_alias=_env("BACKEND_REVIEW_RECOVER_SINCE_HOURS")
    )
    # Webhook bodies before their signature is checked (app/web/intake.py): bytes held at once
    # across all requests in memory (bodies declared up to 1 MiB) and in temporary files (larger
    # or undeclared ones), and how long a sender may take over a request's headers, and again over
    # its body.
    intake_memory_bytes: int = Field(
        32 * 1024 * 1024, ge=64 * 1024, validation_alias=_env("BACKEND_REVIEW_INTAKE_MEMORY_BYTES")
    )
    intake_disk_bytes: int = Field(
        128 * 1024 * 1024, ge=0, validation_alias=_env("BACKEND_REVIEW_INTAKE_DISK_BYTES")
    )
    intake_read_seconds: float = Field(
        30, gt=0, le=300, validation_alias=_env("BACKEND_REVIEW_INTAKE_READ_SECONDS")
    )

    @field_validator("github_private_key", mode="before")
    @classmethod
    def _normalise_pem(cls, value: object) -> object:
        # A PEM pasted into an environment variable often arrives with literal "\n".
        if isinstance(value, str):
            value = value.replace("\\n", "\n").strip()
            if not value:
                return None
            if not value.startswith(_PEM_BEGIN):
                raise ValueError(
                    "is not a PEM private key (expected '-----BEGIN ... PRIVATE KEY-----')"
                )
            return value + "\n"
        return value

    @field_validator("llm_thinking_budget")
    @classmethod
    def _thinking_floor(cls, value: int) -> int:
        if 0 < value < 1024:
            raise ValueError("must be 0 (no thinking) or at least 1024, the API's minimum")
        return value

    @field_validator("llm_price_per_mtok", mode="before")
    @classmethod
    def _prices(cls, value: object) -> object:
        """Prices from the environment as "3,15,0.3,3.75": four numbers, none negative."""
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",")]
            if len(parts) != 4:
                raise ValueError("give four prices: input,output,cache_read,cache_write")
            try:
                numbers = tuple(float(p) for p in parts)
            except ValueError:
                raise ValueError("prices must be numbers, e.g. 3,15,0.3,3.75") from None
            value = numbers
        if isinstance(value, tuple) and any(v < 0 for v in value):
            raise ValueError("prices must not be negative")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith("postgres://") or value.startswith("postgresql://"):
            # Accept the common spelling; we always talk to PostgreSQL through asyncpg.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        unreadable = (
            "is not a URL SQLAlchemy can read (a password with @, : or / must be "
            "percent-encoded; a port must be a number)"
        )
        try:
            url = make_url(value)
        except Exception:  # noqa: BLE001 - the parser's own text would quote the URL
            raise ValueError(unreadable) from None
        if "@" in (url.host or "") or "@" in (url.database or ""):
            # `user:p@ss@host` is read as password `p` and host `ss@host` (`p@ss/w0rd@host/db`:
            # host `ss`, database `w0rd@host/db`): the rest of the password would be shown
            # wherever the host or the database is named.
            raise ValueError(unreadable)
        return value

    @model_validator(mode="after")
    def _proxy_needs_a_port(self) -> Settings:
        if self.webhook_proxy_url is not None and self.port == 0:
            # The forwarder posts to our own port, which must be known before we listen.
            raise ValueError("a webhook channel needs a fixed BACKEND_REVIEW_PORT, not 0")
        return self

    @model_validator(mode="after")
    def _one_key_source(self) -> Settings:
        if self.github_private_key is not None and self.github_private_key_path is not None:
            raise ValueError("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, not both")
        return self

    @model_validator(mode="after")
    def _registered_app(self) -> Settings:
        """Fill the App settings the environment leaves unset from the App registered on /.

        Value by value, the environment (and .env, and arguments) wins: a key rotated by hand
        replaces the registered one without touching the files.
        """
        need_id = self.github_app_id is None
        need_key = self.github_private_key is None and self.github_private_key_path is None
        need_secret = self.github_webhook_secret is None
        if not (need_id or need_key or need_secret):
            return self
        stored = read_registered_app(self.data_dir)
        if stored is None:
            return self
        if need_id:
            self.github_app_id = stored.app_id
        if need_key:
            self.github_private_key = SecretStr(stored.private_key)
        if need_secret:
            self.github_webhook_secret = SecretStr(stored.webhook_secret)
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'backend-review.db').resolve()}"

    def private_key_pem(self) -> str | None:
        """The App's private key, read from the variable or the file."""
        if self.github_private_key is not None:
            return self.github_private_key.get_secret_value()
        if self.github_private_key_path is None:
            return None
        try:
            text = self.github_private_key_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                "GITHUB_PRIVATE_KEY_PATH",
                f"cannot read {self.github_private_key_path}: {exc.strerror}",
            ) from None
        if not text.lstrip().startswith(_PEM_BEGIN):
            raise ConfigError("GITHUB_PRIVATE_KEY_PATH", "the file is not a PEM private key")
        return text

    def missing_github_app(self) -> list[str]:
        """The settings still needed before the App can talk to GitHub, in the order to set them."""
        missing = []
        if self.github_app_id is None:
            missing.append("GITHUB_APP_ID")
        if self.github_private_key is None and self.github_private_key_path is None:
            missing.append("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH")
        secret = self.github_webhook_secret
        if secret is None or not secret.get_secret_value():
            missing.append("GITHUB_WEBHOOK_SECRET")
        return missing

    def llm_missing(self) -> str | None:
        """Why the model cannot be called with these settings, or None when it can."""
        key = self.anthropic_api_key
        # An empty key is what a CI secret becomes on a fork's pull request: not a key.
        if self.llm_provider == "anthropic" and (key is None or not key.get_secret_value()):
            return "ANTHROPIC_API_KEY is not set"
        if self.llm_provider == "bedrock" and not self.aws_region:
            return "AWS_REGION is not set (BACKEND_REVIEW_LLM_PROVIDER=bedrock)"
        if self.llm_provider == "vertex" and not self.vertex_region:
            return "CLOUD_ML_REGION is not set (BACKEND_REVIEW_LLM_PROVIDER=vertex)"
        return None

    def secret_values(self) -> list[str]:
        """Every secret value configured, for the log redactor."""
        secrets = [
            self.github_private_key,
            self.github_webhook_secret,
            self.anthropic_api_key,
            self.linear_api_key,
        ]
        values = [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]
        if self.database_url:
            password = make_url(self.database_url).password
            if password:
                # As typed in the URL (percent-encoded) and as the driver sees it.
                values += [str(password), quote(str(password), safe="")]
        return values


@dataclass(frozen=True)
class RegisteredApp:
    """The App the setup page registered, as read back from the data directory."""

    app_id: int
    slug: str
    webhook_secret: str = field(repr=False)
    private_key: str = field(repr=False)


def registered_app_dir(data_dir: Path) -> Path:
    return data_dir / REGISTERED_APP_DIR


def read_registered_app(data_dir: Path) -> RegisteredApp | None:
    """The registered App, None when there is none, or ConfigError when its files are unusable.

    A broken record stops start-up rather than leaving the server quietly unconnected. No
    message quotes the files' content.
    """
    directory = registered_app_dir(data_dir)
    record = directory / REGISTERED_APP_FILE
    text = _read_registered(record)
    if text is None:
        return None
    try:
        data = json.loads(text)
        app_id, slug, secret = data["id"], data["slug"], data["webhook_secret"]
    except (ValueError, KeyError, TypeError):
        raise ConfigError(_DATA_DIR, f"{record} is not a registered App's record") from None
    valid = (
        isinstance(app_id, int)
        and not isinstance(app_id, bool)
        and app_id > 0
        and isinstance(slug, str)
        and isinstance(secret, str)
        and secret
    )
    if not valid:
        raise ConfigError(_DATA_DIR, f"{record} is not a registered App's record")
    key_file = directory / REGISTERED_KEY_FILE
    pem = _read_registered(key_file)
    if pem is None or not pem.lstrip().startswith(_PEM_BEGIN):
        raise ConfigError(_DATA_DIR, f"{key_file} is missing or not a PEM private key")
    return RegisteredApp(app_id=app_id, slug=slug, webhook_secret=secret, private_key=pem)


def _read_registered(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
        raise ConfigError(_DATA_DIR, f"cannot read {path}: {reason}") from None


def _env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    first = alias.choices[0] if isinstance(alias, AliasChoices) else name
    return first if isinstance(first, str) else name


_ALIASES = {name: _env_name(name) for name in Settings.model_fields}


def load_local_settings() -> Settings:
    """`load_settings` for commands that never open the database (`review`, `persona show`):
    they run inside the user's own service, whose `DATABASE_URL` is theirs, not ours."""
    return load_settings(database_url=None)


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and .env), or raise ConfigError naming the setting.

    The message never includes the offending value: it may be a secret.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        setting = _ALIASES.get(str(loc[0]), str(loc[0])) if loc else "settings"
        raise ConfigError(setting, _clean_message(first["msg"])) from None


def _clean_message(msg: str) -> str:
    return msg.removeprefix("Value error, ")
