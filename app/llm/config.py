"""What building the review model takes, and nothing more: the adapter never reads `Settings`.

The composition side builds it from the settings (`app.jobs.llm_config.llm_config`), having
refused a missing setting there with a ConfigError that names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

Provider = Literal["anthropic", "bedrock", "vertex"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMConfig:
    provider: Provider
    model: str  # the provider's model id
    max_output_tokens: int
    timeout_seconds: float  # the SDK's timeout per attempt
    max_attempts: int  # HTTP attempts per call, the first included
    thinking_budget: int = 0  # tokens the model may think, where it can (0: none)
    api_key: SecretStr | None = None  # the direct API's key (`anthropic` only)
    base_url: str | None = None  # another endpoint for the direct API
    aws_region: str | None = None  # `bedrock`
    vertex_region: str | None = None  # `vertex`
    vertex_project_id: str | None = None  # `vertex`; None: Google's default project
    secrets: tuple[str, ...] = field(default=(), repr=False)  # scrubbed from every reason

    def __post_init__(self) -> None:
        # A programming error, not a setting: the composition side refuses these first.
        needed = {
            "anthropic": self.api_key is not None and bool(self.api_key.get_secret_value()),
            "bedrock": bool(self.aws_region),
            "vertex": bool(self.vertex_region),
        }
        if not needed[self.provider]:
            raise ValueError(f"LLMConfig for {self.provider} lacks its key or region")
