"""The run a task works for, as a small port: models, plugins and the session service reach the
running run through this module only, never through the recorder (which imports them)."""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from google.adk.agents import BaseAgent
    from google.adk.events import Event
    from google.adk.sessions import Session


class RunHooks(Protocol):
    """What ADK-side code may tell the running run."""

    session_id: str

    def queue_event(self, service: Any, session: Session, event: Event) -> None:
        """ADK appended `event` to `session` in memory; store it with the run's next batch."""

    # Agents whose stored end came by escalating (exit_loop), for a resumed run.
    escalated_ends: set[str]
    # The stage a regeneration runs again (None: a run on a message).
    regenerating: str | None
    track: Any

    async def agent_started(self, agent: BaseAgent, rounds_before: int = 0) -> None: ...

    async def agent_skipped(self, agent: BaseAgent) -> None: ...

    async def agent_finished(self, agent: BaseAgent) -> None: ...

    async def agent_kept(self, agent: BaseAgent) -> None:
        """A revision passed over the agent; it keeps its earlier report."""

    def take_queued_notes(self) -> list[dict[str, Any]]:
        """The producer's notes said since the last round, each {id, text}."""

    async def check_budget(self, per_session_usd: float | None, per_user_day_usd: float | None) -> None: ...

    async def record_usage(
        self, *, agent: str, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None: ...


# A weak reference: contexts copied during a run outlive it (a pooled database connection opened
# in the run keeps a copy in its socket reader callback), and must not keep the run's recorder,
# ADK session and events alive with them.
_current_run: ContextVar[weakref.ref[Any] | None] = ContextVar("current_run", default=None)

# Set before each model call; parallel branches run in their own tasks, so each sees its own agent.
current_agent: ContextVar[str | None] = ContextVar("current_agent", default=None)


def enter_run(run: RunHooks) -> None:
    """Make `run` the one that this task, and the tasks it starts, report to."""
    _current_run.set(weakref.ref(run))


def running() -> RunHooks | None:
    ref = _current_run.get()
    return ref() if ref is not None else None


async def report_usage(*, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
    """Called by the models (the offline model, LiteLLM's success callback) after each call."""
    run = running()
    if run is not None:
        await run.record_usage(
            agent=current_agent.get() or "unknown",
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd,
        )
