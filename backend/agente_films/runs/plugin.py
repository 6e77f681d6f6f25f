"""The ADK plugin of our runs: tells the running run when each agent (LLM or workflow) starts and
finishes, and holds each model call to the budget."""

from __future__ import annotations

from typing import Any

from google.adk.agents import BaseAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.plugins.base_plugin import BasePlugin

from agente_films.runs.context import current_agent, running


class StepPlugin(BasePlugin):
    def __init__(self, budget_per_session_usd: float | None = None, budget_per_user_day_usd: float | None = None) -> None:
        super().__init__(name="agente_films_steps")
        self.budget_per_session_usd = budget_per_session_usd
        self.budget_per_user_day_usd = budget_per_user_day_usd

    async def before_model_callback(self, *, callback_context: CallbackContext, llm_request: Any) -> None:
        current_agent.set(callback_context.agent_name)
        run = running()
        if run is not None:
            await run.check_budget(self.budget_per_session_usd, self.budget_per_user_day_usd)
        return None

    async def before_agent_callback(self, *, agent: BaseAgent, callback_context: CallbackContext) -> None:
        run = running()
        if run is not None:
            await run.agent_started(agent)
        return None

    async def after_agent_callback(self, *, agent: BaseAgent, callback_context: CallbackContext) -> None:
        run = running()
        if run is not None:
            await run.agent_finished(agent)
        return None
