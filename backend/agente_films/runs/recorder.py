"""The one place where ADK events become persistence rows and socket frames.

A RunRecorder lives for one run (one user message). Three hooks feed it, in the order ADK works:
- `RecordingSessionService.append_event`, for each (non-partial) event ADK appends: rows + frames;
- the run loop, for partial (streaming) events ADK never stores: text-chunk frames only;
- `StepPlugin`, when an agent starts or finishes: step rows + frames (with the loop iteration).
Frames use the AG-UI event vocabulary (ag-ui-protocol) plus a per-session `seq`.

Frames go out at once. ADK's events and our rows are written behind them by one writer task per
run, which puts whatever has queued up into one transaction: ADK's events first, then our rows.
So nothing in the run waits on the database between two model calls, a busy run costs a few
transactions per second instead of one per event and one per row, and (on SQLite) a run holds
the single write lock once per batch. A process killed before a batch commits loses that batch
whole: the database always holds a prefix of the run, each event with its rows, and a resume
goes on from there. `flush()` waits for the writer: the run's end, the budget check and the
resume logic read the database after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Any

from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    StateDeltaEvent,
    StepFinishedEvent,
    StepStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from google.adk.agents import BaseAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.events import Event
from google.adk.plugins.base_plugin import BasePlugin
from google.adk.errors import StaleSessionError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.sessions import DatabaseSessionService, Session
from google.adk.sessions._session_util import extract_json_safe_state_delta
from google.adk.sessions.database_session_service import _select_required_state
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agente_films.agents import state_keys as keys
from agente_films.db.repositories import (
    AgentEventRepository,
    AnswerRepository,
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
    StateRepository,
    UsageRepository,
)
from agente_films.db.tables import new_id, utcnow
from agente_films.runs.bus import EventBus

log = logging.getLogger(__name__)
Write = Callable[[AsyncSession], Awaitable[None]]

# A weak reference: contexts copied during a run outlive it (a pooled database connection opened
# in the run keeps a copy in its socket reader callback), and must not keep the run's recorder,
# ADK session and events alive with them.
_current_run: ContextVar[weakref.ref[RunRecorder] | None] = ContextVar("current_run", default=None)


def enter_run(recorder: RunRecorder) -> None:
    """Make `recorder` the one that this task, and the tasks it starts, report to."""
    _current_run.set(weakref.ref(recorder))


def running_recorder() -> RunRecorder | None:
    ref = _current_run.get()
    return ref() if ref is not None else None

# Set before each model call; parallel branches run in their own tasks, so each sees its own agent.
current_agent: ContextVar[str | None] = ContextVar("current_agent", default=None)


class BudgetExceeded(Exception):
    """A run stops before a model call that would go over the configured budget."""


async def report_usage(*, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
    """Called by the models (the offline model, LiteLLM's success callback) after each call."""
    recorder = running_recorder()
    if recorder is not None:
        await recorder.record_usage(
            agent=current_agent.get() or "unknown",
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd,
        )

_TOOL_TEXT_LIMIT = 4000
_INTERNAL_TOOLS = {"transfer_to_agent": "transfer", "exit_loop": "loop_exit"}
# ADK seals a cancelled invocation with events carrying this code: a stop, not a failure.
_ABORTED = "INVOCATION_ABORTED"


def _is_failure(event: Event) -> bool:
    return bool(event.error_code or event.error_message) and event.error_code != _ABORTED


def _failure_text(event: Event) -> str:
    return f"{event.error_code or 'error'}: {event.error_message or ''}".strip()


def _visible_text(event: Event) -> str:
    parts = event.content.parts if event.content and event.content.parts else []
    return "".join(p.text for p in parts if p.text and not p.thought)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _agent_kind(agent: BaseAgent) -> str:
    return type(agent).__name__.removesuffix("Agent").lower() or "agent"


def _title_from_outline(outline: str) -> str | None:
    for line in outline.splitlines():
        if line.startswith("**Title:**"):
            return line.removeprefix("**Title:**").strip()[:300] or None
    return None


def public_state(state: dict[str, Any]) -> dict[str, Any]:
    """The state as stored in snapshots: `temp:` keys are never persisted by ADK either."""
    return {k: v for k, v in state.items() if not k.startswith("temp:")}


def pitch_urls(session_id: str, filename: str, version: int) -> dict[str, str]:
    base = f"/api/v1/sessions/{session_id}/pitches/{filename}"
    return {
        "markdownUrl": f"{base}?version={version}&format=markdown",
        "pdfUrl": f"{base}?version={version}&format=pdf",
    }


class RunRecorder:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        bus: EventBus,
        session_id: str,
        user_id: str,
        run_id: str,
        project_id: str | None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.session_id = session_id
        self.user_id = user_id
        self.run_id = run_id
        self.project_id = project_id
        self.started = time.monotonic()
        self.error: str | None = None
        self._state_version = 0
        self._run_cost = 0.0
        self._open_messages: set[str] = set()
        self._loop_iterations: dict[str, int] = {}
        self._open_steps: dict[str, int] = {}
        self._agents: dict[str, BaseAgent] = {}
        self._invocation_recorded = False
        self.finished_steps: set[str] = set()
        self.stored_events = 0
        # Parallel branches call in concurrently: one caller at a time keeps rows and seq in order.
        self._lock = asyncio.Lock()
        self._queue: list[Write] = []
        # ADK's events of this run not stored yet, with the service and session to store them by.
        self._events: list[Event] = []
        self._events_to: tuple[RecordingSessionService, Session]
        # Tool calls whose result ADK has not appended yet. The writer holds its next batch until
        # there are none (or someone flushes): ADK 2.13 skips an agent it resumes with a call and
        # no result, so a kill during a tool would silently drop that agent's work.
        self._open_calls: set[str] = set()
        self._calls_closed = asyncio.Event()
        self._flushing = 0
        self._writer: asyncio.Task | None = None
        self._write_error: BaseException | None = None

    # -- frames ------------------------------------------------------------------------------

    async def emit(self, event: BaseEvent) -> None:
        frame = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        frame["runId"] = self.run_id
        await self.bus.publish(self.session_id, frame)

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    # -- rows: queued in order, written in batches by one task ----------------------------------

    def _write(self, work: Write) -> None:
        if self._write_error is not None:
            # The database failed under this run: stop it here, with the reason, rather than
            # go on producing work nobody can store.
            raise RuntimeError(f"could not store the run's rows: {self._write_error}") from self._write_error
        self._queue.append(work)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name=f"rows-{self.run_id}")

    async def _drain(self) -> None:
        while self._queue:
            while self._open_calls and not self._flushing:
                self._calls_closed.clear()
                await self._calls_closed.wait()
            batch, self._queue = self._queue, []
            events, self._events = self._events, []
            for attempt in (1, 2, 3):
                try:
                    revision = None
                    async with self.sessionmaker.begin() as db:
                        if events:
                            service, session = self._events_to
                            revision = await service.store_events(db, session, events)
                        for work in batch:
                            await work(db)
                    if revision is not None:
                        session.last_update_time, session._storage_update_marker = revision
                    break
                except Exception as exc:  # a dropped connection or a locked database: retry, then give up
                    if attempt == 3:
                        log.error("run %s: could not store %d row batch(es)", self.run_id, len(batch), exc_info=True)
                        self._write_error = exc
                        self._queue.clear()
                        self._events.clear()
                        return
                    await asyncio.sleep(0.2 * attempt)

    async def flush(self) -> None:
        """Wait until every queued event and row is committed; raises if the database refused them."""
        self._flushing += 1
        self._calls_closed.set()
        try:
            while self._writer is not None and not self._writer.done():
                await asyncio.shield(self._writer)
        finally:
            self._flushing -= 1
        if self._write_error is not None:
            raise RuntimeError(f"could not store the run's rows: {self._write_error}") from self._write_error

    # -- run ---------------------------------------------------------------------------------

    async def run_started(self, question_text: str, resumed: bool = False) -> None:
        async with self.sessionmaker() as db:
            self._state_version = await StateRepository(db).latest_version(self.session_id)
            if resumed:
                self._run_cost = await UsageRepository(db).cost(question_id=self.run_id)
        async with self._lock:
            await self.emit(
                RunStartedEvent(
                    thread_id=self.session_id,
                    run_id=self.run_id,
                    question=question_text,
                    resumed=resumed,
                )
            )

    async def run_queued(self, ahead: int) -> None:
        """The process is running as many runs as it may: this one waits for a free slot."""
        async with self._lock:
            await self.emit(CustomEvent(name="run_queued", value={"ahead": ahead}))

    async def run_finished(self, status: str, error: str | None) -> None:
        async with self._lock:
            elapsed_ms = self._elapsed_ms()

            async def finish(db: AsyncSession) -> None:  # reads status and error as they are at commit
                await QuestionRepository(db).finish(self.run_id, status=status, error=error)
                await SessionRepository(db).update(self.session_id, status=status)
                if error:
                    await AgentEventRepository(db).create(
                        session_id=self.session_id,
                        question_id=self.run_id,
                        event_id=f"run-{self.run_id}",
                        agent_name="runner",
                        event_type="error",
                        event_data={"status": status, "error": error},
                        elapsed_ms=elapsed_ms,
                    )

            for attempt in (1, 2):
                try:
                    self._write(finish)  # in the same transaction as the run's last events
                    await self.flush()
                    break
                except RuntimeError as exc:
                    if attempt == 2:
                        # Logged by the writer. The client still hears how the run ended; the
                        # run stays "running" until the start-up reaper marks it interrupted.
                        break
                    # The batches that failed are lost; the run's end gets a try of its own, so
                    # that a moment the database refused does not leave the run "running".
                    status, error = "failed", str(exc)
                    self._write_error = None
                    self._events.clear()  # come after a lost batch: they cannot be stored alone
            for message_id in sorted(self._open_messages):
                await self.emit(TextMessageEndEvent(message_id=message_id))
            self._open_messages.clear()
            if status == "failed":
                await self.emit(RunErrorEvent(message=error or "The run failed.", code="run_failed"))
            else:
                await self.emit(
                    RunFinishedEvent(
                        thread_id=self.session_id,
                        run_id=self.run_id,
                        result={"status": status, "error": error},
                    )
                )

    # -- steps (agent start/finish) -------------------------------------------------------------

    def _step_fields(self, agent: BaseAgent) -> dict[str, Any]:
        parent = agent.parent_agent
        fields: dict[str, Any] = {"agent": agent.name, "agentKind": _agent_kind(agent)}
        if parent is not None:
            fields["parent"] = parent.name
            max_iterations = getattr(parent, "max_iterations", None)
            if max_iterations is not None and parent.name in self._loop_iterations:
                fields["iteration"] = self._loop_iterations[parent.name]
                fields["maxIterations"] = max_iterations
        return fields

    async def agent_started(self, agent: BaseAgent) -> None:
        async with self._lock:
            if getattr(agent, "max_iterations", None) is not None and agent.sub_agents:
                self._loop_iterations[agent.name] = 0
            parent = agent.parent_agent
            if parent is not None and parent.name in self._loop_iterations and parent.sub_agents[0] is agent:
                self._loop_iterations[parent.name] += 1
            self._open_steps[agent.name] = self._open_steps.get(agent.name, 0) + 1
            self._agents[agent.name] = agent
            fields = self._step_fields(agent)
            self._step_row("agent_start", fields)
            await self.emit(StepStartedEvent(step_name=agent.name, **fields))

    async def agent_finished(self, agent: BaseAgent) -> None:
        async with self._lock:
            await self._finish_step(agent)

    async def _finish_step(self, agent: BaseAgent, **extra: Any) -> None:
        # An agent that transfers away is finished then; ADK may report its end again later.
        if self._open_steps.get(agent.name, 0) <= 0:
            return
        self._open_steps[agent.name] -= 1
        self.finished_steps.add(agent.name)
        fields = self._step_fields(agent) | extra
        self._step_row("agent_end", fields)
        await self.emit(StepFinishedEvent(step_name=agent.name, **fields))

    def _step_row(self, event_type: str, fields: dict[str, Any]) -> None:
        elapsed_ms = self._elapsed_ms()
        self._write_row(
            AgentEventRepository,
            event_id=f"step-{self.run_id}-{elapsed_ms}",
            agent_name=fields["agent"],
            event_type=event_type,
            event_data=fields,
            elapsed_ms=elapsed_ms,
        )

    def _write_row(self, repository: type[AgentEventRepository] | type[UsageRepository], **values: Any) -> None:
        """Queue one row of this run's session and question."""
        row = {"session_id": self.session_id, "question_id": self.run_id, **values}

        async def write(db: AsyncSession) -> None:
            await repository(db).create(**row)

        self._write(write)

    # -- usage and budget ------------------------------------------------------------------------

    async def record_usage(
        self, *, agent: str, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None:
        async with self._lock:
            self._write_row(
                UsageRepository,
                user_id=self.user_id,
                agent_name=agent,
                model=model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_usd=cost_usd,
            )
            self._run_cost += cost_usd
            await self.emit(
                CustomEvent(
                    name="usage",
                    value={
                        "agent": agent,
                        "model": model,
                        "promptTokens": prompt_tokens,
                        "completionTokens": completion_tokens,
                        "costUsd": cost_usd,
                        "runCostUsd": self._run_cost,
                    },
                )
            )

    async def check_budget(self, per_session: float | None, per_user_day: float | None) -> None:
        if per_session is None and per_user_day is None:
            return
        await self.flush()  # the calls of this run so far count too
        async with self.sessionmaker() as db:
            usage = UsageRepository(db)
            if per_session is not None:
                spent = await usage.cost(session_id=self.session_id)
                if spent >= per_session:
                    raise BudgetExceeded(
                        f"This session's LLM budget of ${per_session:g} is used up (${spent:.4f} spent); "
                        "no further model calls were made."
                    )
            if per_user_day is not None:
                spent = await usage.cost(user_id=self.user_id, since=utcnow() - timedelta(days=1))
                if spent >= per_user_day:
                    raise BudgetExceeded(
                        f"The daily LLM budget of ${per_user_day:g} is used up (${spent:.4f} spent in the "
                        "last 24 hours); no further model calls were made."
                    )

    # -- streaming chunks ----------------------------------------------------------------------

    async def on_partial(self, event: Event) -> None:
        text = _visible_text(event)
        if not text:
            return
        async with self._lock:
            if event.id not in self._open_messages:
                self._open_messages.add(event.id)
                await self.emit(
                    TextMessageStartEvent(message_id=event.id, role="assistant", agent=event.author)
                )
            await self.emit(TextMessageContentEvent(message_id=event.id, delta=text, agent=event.author))

    # -- stored events -----------------------------------------------------------------------------

    async def on_appended(self, service: RecordingSessionService, session: Session, event: Event) -> None:
        """ADK appended `event` to `session` in memory: store it and its rows, send its frames."""
        async with self._lock:
            self.stored_events += 1
            self._events_to = (service, session)
            self._events.append(event)
            self._open_calls.update(call.id for call in event.get_function_calls() if call.id)
            self._open_calls.difference_update(response.id for response in event.get_function_responses())
            if not self._open_calls:
                self._calls_closed.set()
            if _is_failure(event):
                self.error = _failure_text(event)
            self._store(event, public_state(dict(session.state)))
            await self._emit_stored(event)

    def _store(self, event: Event, state: dict[str, Any]) -> None:
        """Queues the rows for one stored event. `state` is the session state right after it."""
        agent = event.author or "unknown"
        actions = event.actions
        text = _visible_text(event)
        calls = event.get_function_calls()
        responses = event.get_function_responses()
        delta = dict(actions.state_delta or {})
        elapsed_ms = self._elapsed_ms()
        common = {"session_id": self.session_id, "question_id": self.run_id, "event_id": event.id}
        set_invocation = not self._invocation_recorded and bool(event.invocation_id)
        self._invocation_recorded = self._invocation_recorded or set_invocation

        reasoning: list[dict[str, Any]] = []
        for part in event.content.parts if event.content and event.content.parts else []:
            if part.thought and part.text:
                reasoning.append({"reasoning_type": "thought", "reasoning_text": part.text})
        for call in calls:
            args = dict(call.args or {})
            kind = _INTERNAL_TOOLS.get(call.name or "", "tool_call")
            if kind == "transfer":
                summary = f"{agent} hands over to {args.get('agent_name')}"
            elif kind == "loop_exit":
                loop, iteration = self._loop_of(agent)
                summary = f"{agent} ends {loop or 'the loop'} after round {iteration}"
            else:
                summary = f"{call.name}({_json(args)[:_TOOL_TEXT_LIMIT]})"
            reasoning.append({
                "reasoning_type": kind,
                "reasoning_text": summary,
                "tool_calls": {"id": call.id, "name": call.name, "args": args},
            })
        for response in responses:
            body = response.response or {}
            reasoning.append({
                "reasoning_type": "tool_result",
                "reasoning_text": f"{response.name} -> {_json(body)[:_TOOL_TEXT_LIMIT]}",
                "tool_calls": {"id": response.id, "name": response.name, "response": body},
            })
        if _is_failure(event):
            reasoning.append({"reasoning_type": "error", "reasoning_text": _failure_text(event)})

        snapshot: dict[str, Any] | None = None
        new_project: dict[str, Any] | None = None
        title: str | None = None
        if delta:
            self._state_version += 1
            snapshot = {
                "version": self._state_version,
                "changed_keys": sorted(delta),
                "state_value": public_state(state),
                "agent_name": event.author,
            }
            subject = delta.get(keys.PROMPT)
            if subject:
                self.project_id = new_id()
                new_project = {"id": self.project_id, "subject": str(subject)}
            outline = delta.get(keys.PLOT_OUTLINE)
            if outline and self.project_id:
                title = _title_from_outline(str(outline))
        project_id = self.project_id
        document = next(iter(actions.artifact_delta)) if actions.artifact_delta else None
        event_row = {
            "invocation_id": event.invocation_id,
            "agent_name": agent,
            "branch": event.branch,
            "event_type": self._event_type(event, text, calls, responses, delta),
            "event_data": {
                "text": text[:500],
                "function_calls": [c.name for c in calls],
                "function_responses": [r.name for r in responses],
                "state_delta_keys": sorted(delta),
                "artifact_delta": dict(actions.artifact_delta or {}),
                "transfer_to_agent": actions.transfer_to_agent,
                "escalate": bool(actions.escalate),
                "usage": event.usage_metadata.model_dump(exclude_none=True) if event.usage_metadata else None,
                "error": event.error_message,
            },
            "elapsed_ms": elapsed_ms,
        }

        async def write(db: AsyncSession) -> None:
            if set_invocation:
                await QuestionRepository(db).set_invocation(self.run_id, event.invocation_id)
            repository = ReasoningRepository(db)
            for values in reasoning:
                await repository.create(**common, agent_name=agent, **values)
            if text and agent != "user":
                answer = await AnswerRepository(db).create(
                    **common,
                    project_id=project_id,
                    agent_name=agent,
                    answer_text=text,
                    metadata_={"branch": event.branch, "invocation_id": event.invocation_id},
                )
                await repository.link_to_answer(question_id=self.run_id, agent_name=agent, answer_id=answer.id)
            if snapshot is not None:
                await StateRepository(db).create(
                    session_id=self.session_id, question_id=self.run_id, event_id=event.id, **snapshot
                )
            projects = ProjectRepository(db)
            if new_project is not None:
                await projects.create(
                    project_id=new_project["id"],
                    session_id=self.session_id,
                    user_id=self.user_id,
                    title=new_project["subject"][:300],
                    subject=new_project["subject"],
                )
                await QuestionRepository(db).set_project(self.run_id, new_project["id"])
                await SessionRepository(db).update(self.session_id, title=new_project["subject"][:200])
            if title and project_id:
                await projects.update(project_id, title=title)
            if document and project_id:
                await projects.update(project_id, status="pitched", document=document)
            await AgentEventRepository(db).create(**common, **event_row)

        self._write(write)

    def _loop_of(self, agent_name: str) -> tuple[str | None, int | None]:
        """The loop an agent works in, and the round it is in."""
        agent = self._agents.get(agent_name)
        parent = agent.parent_agent if agent is not None else None
        if parent is None or parent.name not in self._loop_iterations:
            return None, None
        return parent.name, self._loop_iterations[parent.name]

    @staticmethod
    def _event_type(event: Event, text: str, calls: list, responses: list, delta: dict) -> str:
        actions = event.actions
        if event.error_code == _ABORTED:
            return "cancelled"
        if _is_failure(event):
            return "error"
        if event.author == "user":
            return "user_message"
        if actions.escalate:
            return "loop_exit"
        if actions.transfer_to_agent:
            return "transfer"
        if actions.artifact_delta:
            return "artifact"
        if calls:
            return "tool_call"
        if responses:
            return "tool_result"
        if text:
            return "message"
        return "state_update" if delta else "other"

    async def _emit_stored(self, event: Event) -> None:
        agent = event.author
        if agent == "user":
            return
        actions = event.actions
        text = _visible_text(event)
        if text:
            if event.id not in self._open_messages:
                await self.emit(TextMessageStartEvent(message_id=event.id, role="assistant", agent=agent))
                await self.emit(TextMessageContentEvent(message_id=event.id, delta=text, agent=agent))
            self._open_messages.discard(event.id)
            await self.emit(TextMessageEndEvent(message_id=event.id, agent=agent))
        for call in event.get_function_calls():
            call_id = call.id or f"{event.id}-{call.name}"
            await self.emit(
                ToolCallStartEvent(
                    tool_call_id=call_id, tool_call_name=call.name or "", parent_message_id=event.id, agent=agent
                )
            )
            await self.emit(ToolCallArgsEvent(tool_call_id=call_id, delta=_json(call.args or {})))
            await self.emit(ToolCallEndEvent(tool_call_id=call_id))
        for response in event.get_function_responses():
            await self.emit(
                ToolCallResultEvent(
                    message_id=f"{event.id}-{response.id}",
                    tool_call_id=response.id or f"{event.id}-{response.name}",
                    content=_json(response.response or {})[:_TOOL_TEXT_LIMIT],
                    role="tool",
                    agent=agent,
                    toolName=response.name,
                )
            )
        delta = dict(actions.state_delta or {})
        if delta:
            await self.emit(
                StateDeltaEvent(
                    delta=[{"op": "add", "path": f"/{key}", "value": value} for key, value in delta.items()],
                    agent=agent,
                    version=self._state_version,
                )
            )
        for filename, version in (actions.artifact_delta or {}).items():
            await self.emit(
                CustomEvent(
                    name="artifact_saved",
                    value={"filename": filename, "version": version, "agent": agent}
                    | pitch_urls(self.session_id, filename, version),
                )
            )
        if actions.transfer_to_agent:
            await self.emit(
                CustomEvent(name="agent_transfer", value={"from": agent, "to": actions.transfer_to_agent})
            )
            source = self._agents.get(agent)
            if source is not None:
                await self._finish_step(source, handedOffTo=actions.transfer_to_agent)
        if actions.escalate:
            loop, iteration = self._loop_of(agent)
            await self.emit(
                CustomEvent(name="loop_exit", value={"agent": agent, "loop": loop, "iteration": iteration})
            )
        if _is_failure(event):
            await self.emit(
                CustomEvent(name="agent_error", value={"agent": agent, "message": self.error})
            )


class RecordingSessionService(DatabaseSessionService):
    """ADK's DatabaseSessionService, whose events, inside a run, are stored by the run's writer.

    Outside a run (creating a session, the stock API), this is ADK's service unchanged. Inside a
    run, `append_event` does ADK's in-memory part at once and hands the event to the run's
    recorder, which stores it together with our rows for it, in the writer's next transaction.
    ADK's own append costs a transaction of five statements per event, and resumability makes
    half of a turn's ~50 events pure checkpoints (agent started, agent ended): written one by one
    they were the largest cost a turn had besides the model. Batched, the database always holds
    a prefix of the run's events, with their rows, which is what a resume needs: ADK's
    `BaseSessionService.flush` exists for exactly such buffering services.
    """

    async def append_event(self, session: Session, event: Event) -> Event:
        recorder = running_recorder()
        if recorder is None or event.partial or recorder.session_id != session.id:
            return await super().append_event(session, event)
        await self.prepare_tables()
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        self._commit_event_to_session(session, event)
        await recorder.on_appended(self, session, event)
        return event

    async def store_events(self, db: AsyncSession, session: Session, events: list[Event]) -> tuple[float, str]:
        """ADK's `append_event` storage part, for several events of one session, in `db`'s
        transaction: same stale-writer check, same state merge, same rows. Returns the session's
        new update time and revision marker, for after the commit."""
        schema = self._get_schema_classes()
        row_locks = self._supports_row_level_locking()
        query = select(schema.StorageSession).filter_by(
            app_name=session.app_name, user_id=session.user_id, id=session.id
        )
        stored = (await db.execute(query.with_for_update() if row_locks else query)).scalars().one_or_none()
        if stored is None:
            raise SessionNotFoundError(f"Session {session.id} not found.")
        if session._storage_update_marker not in (None, stored.get_update_marker()):
            raise StaleSessionError("The session was changed by another writer during this run.")
        deltas: dict[str, dict[str, Any]] = {"app": {}, "user": {}, "session": {}}
        for event in events:
            for scope, delta in extract_json_safe_state_delta(event.actions.state_delta or {}).items():
                deltas[scope].update(delta)
        scoped_states = (
            ("app", schema.StorageAppState, (schema.StorageAppState.app_name == session.app_name,)),
            ("user", schema.StorageUserState, (
                schema.StorageUserState.app_name == session.app_name,
                schema.StorageUserState.user_id == session.user_id,
            )),
        )
        for scope, model, predicates in scoped_states:
            if deltas[scope]:
                state_row = await _select_required_state(
                    sql_session=db,
                    state_model=model,
                    predicates=predicates,
                    use_row_level_locking=row_locks,
                    missing_message=f"{scope} state missing for session {session.id}",
                )
                state_row.state.update(deltas[scope])
        if deltas["session"]:
            stored.state.update(deltas["session"])
        update_time = datetime.fromtimestamp(events[-1].timestamp, timezone.utc)
        stored.update_time = update_time.replace(tzinfo=None) if self._uses_naive_datetime() else update_time
        db.add_all(schema.StorageEvent.from_event(session, event) for event in events)
        # Read before the commit (ADK does the same: after it, asyncpg may not lazy-load); set on
        # the session only once the commit succeeded, so that a retried batch checks against the
        # revision that is really stored.
        return stored.get_update_timestamp(), stored.get_update_marker()


class StepPlugin(BasePlugin):
    """Tells the current run's recorder when each agent (LLM or workflow) starts and finishes, and
    holds each model call to the budget."""

    def __init__(self, budget_per_session_usd: float | None = None, budget_per_user_day_usd: float | None = None) -> None:
        super().__init__(name="agente_films_steps")
        self.budget_per_session_usd = budget_per_session_usd
        self.budget_per_user_day_usd = budget_per_user_day_usd

    async def before_model_callback(self, *, callback_context: CallbackContext, llm_request: Any) -> None:
        current_agent.set(callback_context.agent_name)
        recorder = running_recorder()
        if recorder is not None:
            await recorder.check_budget(self.budget_per_session_usd, self.budget_per_user_day_usd)
        return None

    async def before_agent_callback(self, *, agent: BaseAgent, callback_context: CallbackContext) -> None:
        recorder = running_recorder()
        if recorder is not None:
            await recorder.agent_started(agent)
        return None

    async def after_agent_callback(self, *, agent: BaseAgent, callback_context: CallbackContext) -> None:
        recorder = running_recorder()
        if recorder is not None:
            await recorder.agent_finished(agent)
        return None
