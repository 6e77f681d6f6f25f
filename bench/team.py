"""The same agent tree and model for every contender: what `agente-films serve` builds, from the
same environment (LLM_MODEL, LITELLM_BASE_URL, LITELLM_API_KEY, WIKIPEDIA_BASE_URL, ...)."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from agente_films.agents.team import build_root_agent  # noqa: E402
from agente_films.cache import make_result_cache  # noqa: E402
from agente_films.models import make_model_resolver  # noqa: E402
from agente_films.settings import Settings  # noqa: E402
from agente_films.tools.wikipedia import make_wikipedia_client, make_wikipedia_tool  # noqa: E402


def bench_settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def build_tree(settings: Settings | None = None):  # noqa: ANN201
    """greeter -> film_concept_team, on LiteLlm models and the httpx Wikipedia tool, as in Studio.open()."""
    settings = settings or bench_settings()
    wikipedia = make_wikipedia_client(settings, make_result_cache(settings))
    return build_root_agent(settings, make_model_resolver(settings), make_wikipedia_tool(wikipedia))
