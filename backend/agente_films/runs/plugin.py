"""The ADK plugin of our runs: tells the running run when each agent (LLM or workflow) starts and
finishes, and holds each model call to the budget."""

from __future__ import annotations

from typing import Any

from google.adk.agents import BaseAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.agents.invocation_context import InvocationContext
from google.adk.plugins.base_plugin import BasePlugin
from google.genai import types

from agente_films.runs import adk_resume
from agente_films.runs.context import current_agent, running
from agente_films.runs.track import is_loop


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

    async def before_run_callback(self, *, invocation_context: InvocationContext) -> None:
        # A resumed invocation: ADK's checkpoints, rebuilt from its stored events.
        escalated = adk_resume.restore_checkpoints(invocation_context)
        run = running()
        if run is not None:
            run.escalated_ends = escalated
        return None

    async def before_agent_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext
    ) -> types.Content | None:
        run = running()
        ctx = adk_resume.invocation_of(callback_context)
        if adk_resume.agent_ended(ctx, agent.name):
            # Its end is stored (a resumed run): ADK's documented skip is to return content.
            # Empty content, so no answer, no output_key write and nothing in later prompts;
            # end_of_agent so that the skip is itself a checkpoint; and a loop ended by this
            # agent's exit_loop still ends.
            callback_context.actions.end_of_agent = True
            if run is not None:
                if agent.name in run.escalated_ends:
                    callback_context.actions.escalate = True
                await run.agent_skipped(agent)
            return types.Content(role="model", parts=[])
        if run is not None:
            parent = agent.parent_agent
            if is_loop(parent) and parent.name not in run.track.loop_iterations:
                # ADK resumed this agent alone (its tool result was the last stored event).
                run.track.loop_iterations[parent.name] = adk_resume.rounds_begun(
                    parent, adk_resume.agent_state(ctx, parent.name)
                )
            rounds = adk_resume.rounds_begun(agent, adk_resume.agent_state(ctx, agent.name)) if is_loop(agent) else 0
            await run.agent_started(agent, rounds)
        return None

    async def after_agent_callback(self, *, agent: BaseAgent, callback_context: CallbackContext) -> None:
        run = running()
        if run is not None:
            await run.agent_finished(agent)
        return None
