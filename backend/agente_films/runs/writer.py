"""Writes one run's ADK events and our rows behind its frames, in batches, by one task.

Whatever has queued up goes into one transaction: ADK's events first, then our rows, in the order
they happened. So nothing in the run waits on the database between two model calls, a busy run
costs a few transactions per second instead of one per event and one per row, and (on SQLite) a
run holds the single write lock once per batch. A process killed before a batch commits loses
that batch whole: the database always holds a prefix of the run, each event with its rows, which
is what a resume goes on from.

Three gates keep that prefix whole:
- an event is written only once its rows are planned (ADK appends an event just before the run
  loop sees it; the rows are planned there);
- a batch waits while a tool call has no result yet (unless someone flushes): ADK 2.13 skips an
  agent it resumes with a call and no result, so a kill during a tool would silently drop that
  agent's work;
- a batch waits while an agent's final answer has no end_of_agent checkpoint yet: stored without
  it, the agent looks unfinished to a resume, which runs its model again (a second answer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from google.adk.events import Event
from google.adk.sessions import Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agente_films.db.repositories import (
    AgentEventRepository,
    AnswerRepository,
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
    StateRepository,
)
from agente_films.runs.rows import RowPlan

log = logging.getLogger(__name__)
Write = Callable[[AsyncSession], Awaitable[None]]


class StoreRefused(RuntimeError):
    """The database refused the run's rows (after retries)."""


@dataclass
class _Entry:
    event: Event | None = None
    plan: RowPlan | None = None
    write: Write | None = None

    @property
    def ready(self) -> bool:
        return self.event is None or self.plan is not None


class RunWriter:
    def __init__(self, *, sessionmaker: async_sessionmaker, session_id: str, user_id: str, run_id: str) -> None:
        self.sessionmaker = sessionmaker
        self.session_id = session_id
        self.user_id = user_id
        self.run_id = run_id
        self._entries: list[_Entry] = []
        self._by_event: dict[str, _Entry] = {}
        self._store_with: tuple[Any, Session] | None = None
        self._open_calls: set[str] = set()
        self._open_answers: set[str] = set()
        self._wake = asyncio.Event()
        self._flushing = 0
        self._task: asyncio.Task | None = None
        self.error: BaseException | None = None

    # -- queueing ------------------------------------------------------------------------------

    def _check(self) -> None:
        if self.error is not None:
            # The database failed under this run: stop it here, with the reason, rather than go
            # on producing work nobody can store.
            # Clients read this (the run's error): the first line only, as SQLAlchemy's next
            # lines hold the statement and its parameters (the log has them).
            said = str(self.error).strip().splitlines()
            reason = said[0][:300] if said else type(self.error).__name__
            raise StoreRefused(f"could not store the run's rows: {reason}") from self.error

    def _kick(self) -> None:
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name=f"rows-{self.run_id}")

    def queue_event(self, service: Any, session: Session, event: Event) -> None:
        """ADK appended `event` in memory; it is written once its rows are planned."""
        self._check()
        self._store_with = (service, session)
        entry = _Entry(event=event)
        self._entries.append(entry)
        self._by_event[event.id] = entry
        self._open_calls.update(call.id for call in event.get_function_calls() if call.id)
        self._open_calls.difference_update(r.id for r in event.get_function_responses())
        if event.actions.end_of_agent:
            self._open_answers.discard(event.author)
        elif event.author != "user" and event.is_final_response() and event.content and event.content.parts:
            # A final answer, or a tool result that ends the turn (exit_loop skips summarization).
            self._open_answers.add(event.author)

    def attach(self, event_id: str, plan: RowPlan) -> bool:
        """The rows of a queued event. False if no such event is waiting (not ours to store)."""
        entry = self._by_event.pop(event_id, None)
        if entry is None:
            return False
        entry.plan = plan
        self._kick()
        return True

    def unplanned(self) -> list[Event]:
        return [entry.event for entry in self._by_event.values() if entry.event is not None]

    def write_plan(self, plan: RowPlan) -> None:
        """The rows of an event stored elsewhere (by ADK itself), in order with the rest."""
        self.write(lambda db: self._apply(db, plan))

    def write(self, work: Write) -> None:
        """A row write of its own (a step, usage, the run's end), in order with the rest."""
        self._check()
        self._entries.append(_Entry(write=work))
        self._kick()

    # -- writing -------------------------------------------------------------------------------

    def _take_batch(self) -> list[_Entry]:
        if (self._open_calls or self._open_answers) and not self._flushing:
            return []
        ready = 0
        # A flush writes what it has: an event whose rows never came is stored without them.
        while ready < len(self._entries) and (self._entries[ready].ready or self._flushing):
            ready += 1
        batch, self._entries = self._entries[:ready], self._entries[ready:]
        return batch

    async def _drain(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                if not self._entries:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            events = [entry.event for entry in batch if entry.event is not None]
            for attempt in (1, 2, 3):
                try:
                    revision = None
                    async with self.sessionmaker.begin() as db:
                        if events and self._store_with is not None:
                            service, session = self._store_with
                            revision = await service.store_events(db, session, events)
                        for entry in batch:
                            if entry.plan is not None:
                                await self._apply(db, entry.plan)
                            if entry.write is not None:
                                await entry.write(db)
                    if revision is not None:
                        service.mark_stored(session, revision)
                    break
                except Exception as exc:  # a dropped connection or a locked database: retry, then give up
                    if attempt == 3:
                        log.error("run %s: could not store a batch of %d", self.run_id, len(batch), exc_info=True)
                        self.error = exc
                        self._entries.clear()
                        self._by_event.clear()
                        return
                    await asyncio.sleep(0.2 * attempt)

    async def _apply(self, db: AsyncSession, plan: RowPlan) -> None:
        common = {"session_id": self.session_id, "question_id": self.run_id, "event_id": plan.event_id}
        if plan.invocation_id:
            await QuestionRepository(db).set_invocation(self.run_id, plan.invocation_id)
        reasoning = ReasoningRepository(db)
        for values in plan.reasoning:
            await reasoning.create(**common, agent_name=plan.agent, **values)
        if plan.answer is not None:
            answer = await AnswerRepository(db).create(**common, **plan.answer)
            await reasoning.link_to_answer(question_id=self.run_id, agent_name=plan.agent, answer_id=answer.id)
        if plan.snapshot is not None:
            await StateRepository(db).create(**common, **plan.snapshot)
        projects = ProjectRepository(db)
        if plan.new_project is not None:
            subject = plan.new_project["subject"]
            await projects.create(
                project_id=plan.new_project["id"],
                session_id=self.session_id,
                user_id=self.user_id,
                title=subject[:300],
                subject=subject,
            )
            await QuestionRepository(db).set_project(self.run_id, plan.new_project["id"])
            await SessionRepository(db).name_after_subject(self.session_id, subject[:200])
        if plan.notes:
            await QuestionRepository(db).update_notes(plan.notes)
        if plan.project_title and plan.project_id:
            await projects.update(plan.project_id, title=plan.project_title)
        if plan.document and plan.project_id:
            await projects.update(plan.project_id, status="pitched", document=plan.document)
        await AgentEventRepository(db).create(**common, **plan.event_row)

    async def flush(self) -> None:
        """Wait until everything queued is committed (tool calls still open or not); raises
        StoreRefused if the database refused it."""
        self._flushing += 1
        try:
            self._kick()
            while self._task is not None and not self._task.done():
                await asyncio.shield(self._task)
        finally:
            self._flushing -= 1
        self._check()

    def forget_failure(self) -> None:
        """After a refused batch, let the run's end try on its own: the lost batches stay lost,
        and ADK events queued after them cannot be stored alone."""
        self.error = None
        self._entries = [entry for entry in self._entries if entry.event is None]
        self._by_event.clear()
