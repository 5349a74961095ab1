"""The model capability table: each provider's id forms, unknown ids, and the rows' own sense."""

from __future__ import annotations

from typing import get_args

import pytest
from anthropic.resources.messages.messages import DEPRECATED_MODELS
from anthropic.types import ModelParam

from app.llm.capabilities import (
    MIN_THINKING_BUDGET,
    MODELS,
    PROVIDERS,
    lookup,
    lookup_any,
    refusal,
)


@pytest.mark.parametrize(
    ("provider", "model_id", "name"),
    [
        ("anthropic", "claude-sonnet-4-6", "Claude Sonnet 4.6"),
        ("anthropic", "claude-haiku-4-5", "Claude Haiku 4.5"),
        ("anthropic", "claude-haiku-4-5-20251001", "Claude Haiku 4.5"),  # dated id
        ("anthropic", "claude-opus-4-5-20251101", "Claude Opus 4.5"),
        ("anthropic", "claude-opus-5-5", "Claude Opus 5.5"),
        ("bedrock", "anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6"),
        ("bedrock", "us.anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6"),  # inference profile
        ("bedrock", "global.anthropic.claude-opus-5", "Claude Opus 5"),
        ("bedrock", "eu.anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5"),
        ("bedrock", "apac.anthropic.claude-opus-4-6-v1", "Claude Opus 4.6"),
        ("bedrock", "us-gov.anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1"),
        ("vertex", "claude-haiku-4-5@20251001", "Claude Haiku 4.5"),
        ("vertex", "claude-opus-4-1@20250805", "Claude Opus 4.1"),
        ("vertex", "claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ],
)
def test_each_providers_id_forms_are_found(provider: str, model_id: str, name: str) -> None:
    spec = lookup(provider, model_id)  # type: ignore[arg-type]
    assert spec is not None
    assert spec.name == name
    assert refusal(provider, model_id) is None  # type: ignore[arg-type]
    assert lookup_any(model_id) is spec


@pytest.mark.parametrize(
    ("provider", "model_id"),
    [
        ("anthropic", "claude-foo"),
        ("anthropic", "claude-3-5-haiku-20241022"),  # retired February 2026
        ("anthropic", "claude-sonnet-4-5"),  # retired November 30th, 2026
        ("anthropic", "claude-opus-4-1"),  # retired on the direct API, served elsewhere
        ("anthropic", "anthropic.claude-sonnet-4-6"),  # a Bedrock id on the direct API
        ("anthropic", "claude-sonnet-4-6 "),  # one space is a different id to the API
        ("bedrock", "claude-sonnet-4-6"),  # the direct API's id on Bedrock
        ("bedrock", "us.anthropic.claude-foo-v1:0"),
        ("bedrock", "evil.us.anthropic.claude-sonnet-4-6"),
        ("vertex", "claude-haiku-4-5"),  # Vertex wants the @date
        ("vertex", "claude-opus-5-5"),  # not on Vertex in the sources read
        ("anthropic", ""),
    ],
)
def test_unknown_ids_are_refused_with_one_line(provider: str, model_id: str) -> None:
    assert lookup(provider, model_id) is None  # type: ignore[arg-type]
    refused = refusal(provider, model_id)  # type: ignore[arg-type]
    assert refused is not None
    assert "\n" not in refused
    assert refused.startswith(f"model {model_id[:80]!r} is not")


def test_a_refusal_names_the_right_id_for_the_provider() -> None:
    refused = refusal("bedrock", "claude-sonnet-4-6")
    assert refused == (
        "model 'claude-sonnet-4-6' is not how bedrock names Claude Sonnet 4.6 "
        "(served on: anthropic, bedrock, vertex; ids: anthropic.claude-sonnet-4-6)"
    )
    unknown = refusal("anthropic", "claude-foo")
    assert unknown is not None
    assert "known: claude-opus-5-5, claude-sonnet-5-5" in unknown


def test_a_hostile_id_is_cut_in_the_message() -> None:
    refused = refusal("anthropic", "claude-" + "x" * 10_000)
    assert refused is not None
    assert len(refused) < 1000


def test_every_direct_api_id_is_one_the_sdk_lists_and_none_is_deprecated() -> None:
    known = set(get_args(get_args(ModelParam)[0]))
    ids = {i for m in MODELS for i in m.api_ids}
    assert ids <= known
    assert not ids & DEPRECATED_MODELS.keys()


def test_no_id_names_two_models() -> None:
    for provider in PROVIDERS:
        ids = [i for m in MODELS for i in m.ids(provider)]
        assert len(ids) == len(set(ids)), provider


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_each_row_is_usable(spec: object) -> None:
    from app.llm.capabilities import ModelSpec

    assert isinstance(spec, ModelSpec)
    assert any(spec.ids(p) for p in PROVIDERS)
    # A model that cannot force the tool must be asked with auto, which thinking allows.
    assert spec.forced_tool_choice or spec.thinking is not None
    assert spec.max_output_tokens > MIN_THINKING_BUDGET
    assert spec.context_window >= 200_000
    assert spec.min_cache_tokens in (512, 1024, 2048, 4096)
    p = spec.prices
    # Cache reads are cheaper than input, five-minute writes dearer, output dearest.
    assert p.cache_read < p.input < p.cache_write < p.output
