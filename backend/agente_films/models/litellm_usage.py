"""Token usage and cost of LiteLLM calls, from LiteLLM's own success callback.

LiteLLM works out the cost itself: from the proxy's `x-litellm-response-cost` header when the call
went through the LiteLLM proxy, else from its local price list. The callback runs in the context of
the call, so it knows the run and the agent that made it.
"""

from __future__ import annotations

import logging
from typing import Any

import litellm
from litellm.integrations.custom_logger import CustomLogger

from agente_films.runs.context import report_usage

log = logging.getLogger(__name__)


class UsageCallback(CustomLogger):
    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        record = kwargs.get("standard_logging_object") or {}
        try:
            await report_usage(
                model=str(record.get("model") or kwargs.get("model") or "unknown"),
                prompt_tokens=int(record.get("prompt_tokens") or 0),
                completion_tokens=int(record.get("completion_tokens") or 0),
                cost_usd=float(record.get("response_cost") or 0.0),
            )
        except Exception:  # accounting must never break a run
            log.warning("could not record LLM usage", exc_info=True)


def register_usage_callback() -> None:
    if not any(isinstance(callback, UsageCallback) for callback in litellm.callbacks):
        litellm.callbacks.append(UsageCallback())
