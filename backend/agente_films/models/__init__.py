"""Which model each agent runs on: the built-in offline model, or any LiteLLM model."""

from __future__ import annotations

import os
from collections.abc import Callable

from google.adk.models import LLMRegistry
from google.adk.models.base_llm import BaseLlm

from agente_films.models.offline import OfflineLlm
from agente_films.settings import Settings

LLMRegistry.register(OfflineLlm)


def is_offline(model_name: str) -> bool:
    return model_name == "offline" or model_name.startswith("offline/")


def make_model(settings: Settings, model_name: str) -> BaseLlm:
    if is_offline(model_name):
        return OfflineLlm(
            model=model_name,
            chunk_delay_ms=settings.offline_chunk_delay_ms,
            chunk_words=settings.offline_chunk_words,
        )
    # Without this litellm downloads its price list at import time (a 5 s stall offline).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from google.adk.models.lite_llm import LiteLlm  # litellm is slow to import: only when used

    from agente_films.models.litellm_usage import register_usage_callback

    register_usage_callback()
    kwargs: dict[str, object] = {
        "timeout": settings.llm_timeout_seconds,
        "max_retries": settings.llm_max_retries,
    }
    if settings.litellm_base_url:
        # Through the LiteLLM proxy: it speaks the OpenAI API whatever the provider behind it.
        kwargs["api_base"] = settings.litellm_base_url
        if not model_name.startswith(("openai/", "litellm_proxy/")):
            model_name = f"litellm_proxy/{model_name}"
    if settings.litellm_api_key:
        kwargs["api_key"] = settings.litellm_api_key
    return LiteLlm(model=model_name, **kwargs)


def make_model_resolver(settings: Settings) -> Callable[[str], BaseLlm]:
    """One model object per distinct model name, shared by the agents that use it."""
    cache: dict[str, BaseLlm] = {}

    def model_for(agent_name: str) -> BaseLlm:
        name = settings.model_for(agent_name)
        if name not in cache:
            cache[name] = make_model(settings, name)
        return cache[name]

    return model_for


def describe_models(settings: Settings) -> dict[str, object]:
    from agente_films.agents.team import AGENT_NAMES

    per_agent = {agent: settings.model_for(agent) for agent in AGENT_NAMES}
    return {
        "default": settings.llm_model,
        "per_agent": per_agent,
        "offline": all(is_offline(name) for name in per_agent.values()),
        "via_proxy": bool(settings.litellm_base_url),
    }
