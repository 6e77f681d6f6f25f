"""A run's recorder wires its pipeline: ADK events in, frames out to the bus, rows to the writer.

Events reach it through one door, the run loop (`RunManager`), which sees every event ADK yields,
streamed chunks and whole events alike, after ADK appended it: each is decoded once
(`facts.decode`), translated to frames (`frames.py`) and planned into rows (`rows.py`), with the
run's bookkeeping in `track.py`. Besides that door, ADK tells it when agents start and finish (the
plugin), the models report usage (`context.report_usage`), and the session service hands it each
appended event to store (`session_service.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from google.adk.agents import BaseAgent
from google.adk.events import Event
from google.adk.sessions import Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agente_films import protocol as p
from agente_films import state_keys as keys
from agente_films.db.repositories import (
    AgentEventRepository,
    QuestionRepository,
    SessionRepository,
    StateRepository,
    UsageRepository,
)
from agente_films.db.tables import utcnow
from agente_films.runs.bus import EventBus, LocalAnnouncer
from agente_films.runs.facts import EventFacts, decode
from agente_films.runs.frames import FrameTranslator, readable_error
from agente_films.runs.rows import RowPlan, RunRows
from agente_films.runs.track import RunTrack, StepFacts
from agente_films.runs.writer import RunWriter, StoreRefused
from agente_films.state_keys import public_state

log = logging.getLogger(__name__)


class BudgetExceeded(Exception):
    """A run stops before a model call that would go over the configured budget."""


class RunRecorder:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker,
        bus: EventBus,
        announcer: LocalAnnouncer | None = None,
        session_id: str,
        user_id: str,
        run_id: str,
        project_id: str | None,
        note_queue: list[dict[str, Any]] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.announcer = announcer
        self.session_id = session_id
        self.user_id = user_id
        self.run_id = run_id
        self.started = time.monotonic()
        self.track = RunTrack()
        self.frames = FrameTranslator(session_id=session_id, run_id=run_id, track=self.track)
        self.rows = RunRows(project_id=project_id)
        self.started_project_id = project_id
        self.writer = RunWriter(sessionmaker=sessionmaker, session_id=session_id, user_id=user_id, run_id=run_id)
        self.stored_events = 0
        self._session: Session | None = None
        self._stream_failed = False
        self._resumed = False
        self.escalated_ends: set[str] = set()
        # A regeneration's stage: the greeter hands over without a model call (RevisionPlugin).
        self.regenerating: p.Stage | None = None
        # Producer's notes said during the run, waiting for the writers' room's next round.
        self.note_queue = note_queue if note_queue is not None else []
        # Parallel branches call in concurrently: one caller at a time keeps rows and seq in order.
        self._lock = asyncio.Lock()

    @property
    def error(self) -> str | None:
        return self.track.error

    @property
    def finished_steps(self) -> set[str]:
        return self.track.finished_steps

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    async def _publish(self, frames: list[Any]) -> bool:
        """Frames go out at once; a bus that fails (Redis down) does not stop the run, whose rows
        are still stored: clients reload the history once the stream is back."""
        delivered = True
        for frame in frames:
            try:
                await self.bus.publish(self.session_id, p.dump(frame))
            except Exception:
                if not self._stream_failed:
                    log.warning("run %s: the live stream is unavailable", self.run_id, exc_info=True)
                self._stream_failed = True
                delivered = False
        return delivered

    # -- the session service's door: store what ADK appended ---------------------------------

    def queue_event(self, service: Any, session: Session, event: Event) -> None:
        self._session = session
        self.writer.queue_event(service, session, event)
        if event.author == "user":
            # The user's message is appended but never yielded to the run loop: plan it here.
            self.writer.attach(event.id, self._plan(decode(event)))

    def _plan(self, facts: EventFacts) -> RowPlan:
        if facts.state_delta:
            self.track.state_version += 1
        state = public_state(dict(self._session.state)) if self._session is not None else {}
        plan = self.rows.plan(facts, self.track, state)
        plan.event_row["elapsed_ms"] = self._elapsed_ms()
        return plan

    # -- the run loop's door: every event ADK yields -----------------------------------------

    async def on_event(self, event: Event) -> None:
        facts = decode(event)
        async with self._lock:
            if facts.partial:
                await self._publish(self.frames.partial(facts))
                return
            self.stored_events += 1
            if facts.failure:
                self.track.error = facts.failure
            plan = self._plan(facts)
            if not self.writer.attach(facts.event_id, plan):
                # Stored by ADK itself (not through this run's session service): rows alone.
                self.writer.write_plan(plan)
            failure = readable_error("failed", facts.failure) if facts.failure else None
            frames = self.frames.stored(facts, failure_message=failure)
            if facts.transfer_to:  # an agent that hands over is finished then
                step = self.track.finish_step(facts.author, handed_off_to=facts.transfer_to)
                if step is not None:
                    self._step_row("agent_end", step)
                    frames += self.frames.step_finished(step)
            await self._publish(frames)

    # -- the plugin's door: agents starting and finishing ----------------------------------------

    def _step_row(self, event_type: str, step: StepFacts) -> None:
        elapsed_ms = self._elapsed_ms()
        self._write_row(
            AgentEventRepository,
            event_id=f"step-{self.run_id}-{elapsed_ms}",
            elapsed_ms=elapsed_ms,
            **self.rows.step(event_type, step),
        )

    def _write_row(self, repository: type[AgentEventRepository] | type[UsageRepository], **values: Any) -> None:
        """Queue one row of this run's session and question."""
        row = {"session_id": self.session_id, "question_id": self.run_id, **values}

        async def write(db: AsyncSession) -> None:
            await repository(db).create(**row)

        self.writer.write(write)

    async def agent_started(self, agent: BaseAgent, rounds_before: int = 0) -> None:
        async with self._lock:
            step = self.track.start_step(agent, rounds_before)
            self._step_row("agent_start", step)
            await self._publish(self.frames.step_started(step))

    async def agent_skipped(self, agent: BaseAgent) -> None:
        """A resumed run passes over an agent whose end is stored: no step, but it is done, and a
        loop's first agent still begins a round."""
        async with self._lock:
            self.track.count_round(agent)
            self.track.finished_steps.add(agent.name)

    async def agent_kept(self, agent: BaseAgent) -> None:
        """A revision passed over the agent: it keeps its earlier report (its step ends at once)."""
        async with self._lock:
            step = self.track.finish_step(agent.name, kept=True)
            if step is not None:
                self._step_row("agent_end", step)
                await self._publish(self.frames.step_finished(step))

    # -- the producer's door: notes said while the team works ------------------------------------

    async def note_received(self, note_id: str, text: str, *, kept_for_next_run: bool = False) -> None:
        """Acknowledge a stored note on the stream; unless the run is over, queue it for the
        writers' room's next round."""
        async with self._lock:
            if not kept_for_next_run:
                self.note_queue.append({"id": note_id, "text": text})
            await self._publish(self.frames.note_received(note_id, text, kept_for_next_run=kept_for_next_run))

    def take_queued_notes(self) -> list[dict[str, Any]]:
        """The notes queued since the last round ({id, text}; the caller makes them notes).
        Notes this run inherited belong to the film it started on: if it started another one
        (a new subject), they are dropped, not applied to the wrong film."""
        taken, self.note_queue[:] = list(self.note_queue), []
        if self.rows.project_id != self.started_project_id:
            stale = [note["id"] for note in taken if note.get("inherited")]
            if stale:
                async def drop(db: AsyncSession) -> None:
                    await QuestionRepository(db).drop_notes(stale)

                self.writer.write(drop)
                taken = [note for note in taken if not note.get("inherited")]
        return [{"id": note["id"], "text": note["text"]} for note in taken]

    async def agent_finished(self, agent: BaseAgent) -> None:
        async with self._lock:
            step = self.track.finish_step(agent.name)
            if step is not None:
                self._step_row("agent_end", step)
                await self._publish(self.frames.step_finished(step))

    # -- the models' door: usage and budget ----------------------------------------------------

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
            self.track.run_cost += cost_usd
            self.track.prompt_tokens += prompt_tokens
            self.track.completion_tokens += completion_tokens
            await self._publish(
                self.frames.usage(
                    agent=agent, model=model, prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens, cost_usd=cost_usd,
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

    # -- the run's start and end ---------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every queued event and row is committed; raises if the database refused them."""
        for event in self.writer.unplanned():
            # Appended but never seen by the run loop (it stopped): store it with its rows.
            log.debug("run %s: event %s was not yielded; planning it at flush", self.run_id, event.id)
            self.writer.attach(event.id, self._plan(decode(event)))
        await self.writer.flush()

    async def run_started(
        self, question_text: str, *, state: dict[str, Any], resumed: bool = False,
        kind: p.RunKind = "message", stage: p.Stage | None = None,
    ) -> None:
        """`stage`: the run regenerates that stage (the greeter hands over without a model call)."""
        self._resumed = resumed
        self.regenerating = stage
        self.track.remember_notes(state.get(keys.PRODUCER_NOTES))
        async with self.sessionmaker() as db:
            self.track.state_version = await StateRepository(db).latest_version(self.session_id)
            if resumed:
                usage = UsageRepository(db)
                self.track.run_cost = await usage.cost(question_id=self.run_id)
        async with self._lock:
            await self._publish(self.frames.run_started(
                question_text, resumed=resumed, state=public_state(state), kind=kind, stage=stage
            ))

    async def run_queued(self, ahead: int) -> None:
        """The process is running as many runs as it may: this one waits for a free slot."""
        async with self._lock:
            await self._publish(self.frames.run_queued(ahead))

    async def run_finished(self, status: str, error: str | None) -> str:
        """Store and announce the run's end; returns the status stored (a run whose rows the
        database refused ends "failed")."""
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
                    self.writer.write(finish)  # in the same transaction as the run's last events
                    await self.flush()
                    break
                except StoreRefused as exc:
                    if attempt == 2:
                        # Logged by the writer. The client still hears how the run ended; the
                        # run stays "running" until the start-up reaper marks it interrupted.
                        break
                    # The batches that failed are lost; the run's end gets a try of its own, so
                    # that a moment the database refused does not leave the run "running".
                    status, error = "failed", str(exc)
                    self.writer.forget_failure()
            state = public_state(dict(self._session.state)) if self._session is not None else None
            # As the API decides it: only a run that got as far as the agents can be resumed.
            resumable = self.track.invocation_recorded or self._resumed
            frames = self.frames.run_finished(status, error, state=state, resumable=resumable)
            if not await self._publish(frames) and self.announcer is not None:
                # The stream could not carry the end: tell this process's sockets directly.
                self.announcer.announce(
                    self.session_id, p.RunEnded(run_id=self.run_id, status=status, error=error)
                )
            return status
