"""One repository per table. Each takes an open AsyncSession; callers own the transaction.

Every read that can cross users filters on user_id, so ownership is enforced here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agente_films.db.tables import (
    AgentEvent,
    Answer,
    FilmProject,
    InferentialReasoning,
    LlmUsage,
    Question,
    SessionState,
    StudioSession,
    new_id,
    utcnow,
)


# The questions that are runs (the run id is the question id); notes are said to a run.
RUN_KINDS = ("message", "edit", "undo")


def _stamped(values: dict[str, Any]) -> dict[str, Any]:
    """Id and time fixed when the row is made, not when it is flushed: the run's rows are written in
    batches (one flush per transaction), and "order by created_at, id" must stay the event order."""
    return {"id": new_id(), "created_at": utcnow(), **values}


class SessionRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(
        self, *, session_id: str, user_id: str, title: str, model: str, title_set_by_user: bool = False
    ) -> StudioSession:
        row = StudioSession(
            id=session_id, user_id=user_id, title=title, model=model, status="idle", title_set_by_user=title_set_by_user
        )
        self.db.add(row)
        await self.db.flush()
        return row

    async def get(self, session_id: str, user_id: str) -> StudioSession | None:
        row = await self.db.get(StudioSession, session_id)
        return row if row is not None and row.user_id == user_id else None

    async def owner_of(self, session_id: str) -> str | None:
        """Who owns the session, whoever asks (None: no such session)."""
        return await self.db.scalar(select(StudioSession.user_id).where(StudioSession.id == session_id))

    async def list(self, user_id: str, *, limit: int, offset: int) -> tuple[Sequence[StudioSession], int]:
        rows = await self.db.scalars(
            select(StudioSession)
            .where(StudioSession.user_id == user_id)
            .order_by(StudioSession.created_at.desc(), StudioSession.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.db.scalar(
            select(func.count()).select_from(StudioSession).where(StudioSession.user_id == user_id)
        )
        return rows.all(), int(total or 0)

    async def update(self, session_id: str, **values: Any) -> None:
        await self.db.execute(
            update(StudioSession)
            .where(StudioSession.id == session_id)
            .values(updated_at=utcnow(), **values)
        )

    async def lock(self, session_id: str) -> None:
        """Hold the session's row until the transaction ends (PostgreSQL; SQLite has one writer)."""
        await self.db.execute(select(StudioSession.id).where(StudioSession.id == session_id).with_for_update())

    async def name_after_subject(self, session_id: str, title: str) -> None:
        """A new subject names the session, unless the person named it."""
        await self.db.execute(
            update(StudioSession)
            .where(StudioSession.id == session_id, StudioSession.title_set_by_user.is_(False))
            .values(updated_at=utcnow(), title=title)
        )

    async def branches_of(self, session_id: str, user_id: str) -> Sequence[StudioSession]:
        """The sessions branched from this one (not their branches), oldest first."""
        rows = await self.db.scalars(
            select(StudioSession)
            .where(StudioSession.parent_id == session_id, StudioSession.user_id == user_id)
            .order_by(StudioSession.created_at, StudioSession.id)
        )
        return rows.all()

    async def delete(self, session_id: str) -> None:
        # Branches outlive their parent; said here because SQLite may not enforce ON DELETE SET NULL.
        await self.db.execute(
            update(StudioSession).where(StudioSession.parent_id == session_id).values(parent_id=None)
        )
        # Children go first so that SQLite without ON DELETE CASCADE enforcement stays clean too.
        for table in (LlmUsage, AgentEvent, SessionState, InferentialReasoning, Answer, Question, FilmProject):
            await self.db.execute(delete(table).where(table.session_id == session_id))
        await self.db.execute(delete(StudioSession).where(StudioSession.id == session_id))


class ProjectRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(
        self, *, session_id: str, user_id: str, title: str, subject: str, project_id: str | None = None
    ) -> FilmProject:
        row = FilmProject(id=project_id or new_id(), session_id=session_id, user_id=user_id, title=title, subject=subject)
        self.db.add(row)
        await self.db.flush()
        return row

    async def get(self, project_id: str, user_id: str) -> FilmProject | None:
        row = await self.db.get(FilmProject, project_id)
        return row if row is not None and row.user_id == user_id else None

    async def latest_for_session(self, session_id: str) -> FilmProject | None:
        return await self.db.scalar(
            select(FilmProject)
            .where(FilmProject.session_id == session_id)
            .order_by(FilmProject.created_at.desc())
            .limit(1)
        )

    async def list(
        self, user_id: str, *, session_id: str | None, limit: int, offset: int
    ) -> Sequence[FilmProject]:
        query = select(FilmProject).where(FilmProject.user_id == user_id)
        if session_id:
            query = query.where(FilmProject.session_id == session_id)
        rows = await self.db.scalars(
            query.order_by(FilmProject.created_at.desc()).limit(limit).offset(offset)
        )
        return rows.all()

    async def update(self, project_id: str, **values: Any) -> None:
        await self.db.execute(
            update(FilmProject).where(FilmProject.id == project_id).values(updated_at=utcnow(), **values)
        )

    async def delete(self, project_id: str) -> None:
        await self.db.execute(delete(FilmProject).where(FilmProject.id == project_id))


class QuestionRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(
        self, *, session_id: str, text: str, project_id: str | None, question_id: str | None = None,
        kind: str = "message",
    ) -> Question:
        row = Question(session_id=session_id, question_text=text, project_id=project_id, kind=kind)
        if question_id:
            row.id = question_id
        self.db.add(row)
        await self.db.flush()
        return row

    async def create_note(
        self, *, session_id: str, text: str, project_id: str | None, run_id: str | None
    ) -> Question:
        row = Question(
            session_id=session_id, question_text=text, project_id=project_id, kind="note",
            run_status="note", note_status="pending", metadata_={"run_id": run_id},
        )
        self.db.add(row)
        await self.db.flush()
        return row

    async def pending_notes(self, session_id: str, *, said_to: str | None = None) -> Sequence[Question]:
        """Notes said and not taken yet, oldest first: the next round (or run) takes them.
        `said_to`: only those said to that run."""
        rows = await self.db.scalars(
            select(Question)
            .where(Question.session_id == session_id, Question.note_status == "pending")
            .order_by(Question.created_at, Question.id)
        )
        notes = rows.all()
        return [q for q in notes if (q.metadata_ or {}).get("run_id") == said_to] if said_to else notes

    async def update_notes(self, notes: Sequence[dict[str, Any]]) -> None:
        """Note rows follow the notes in the session state: status, and the round and verdict."""
        ids = [str(note["id"]) for note in notes]
        rows = await self.db.scalars(select(Question).where(Question.id.in_(ids), Question.kind == "note"))
        by_id = {note["id"]: note for note in notes}
        for row in rows.all():
            note = by_id[row.id]
            row.note_status = note["status"]
            row.metadata_ = {
                **(row.metadata_ or {}),
                "round": note.get("round"), "revision": note.get("revision"),
                "addressed": note.get("addressed"), "verdict": note.get("verdict") or "",
            }

    async def drop_notes(self, note_ids: Sequence[str]) -> None:
        """Notes kept for a film the session has left (a new subject): never applied to another."""
        await self.db.execute(
            update(Question)
            .where(Question.id.in_(list(note_ids)), Question.kind == "note", Question.note_status == "pending")
            .values(note_status="dropped")
        )

    async def notes_of(self, session_id: str) -> Sequence[Question]:
        rows = await self.db.scalars(
            select(Question)
            .where(Question.session_id == session_id, Question.kind == "note")
            .order_by(Question.created_at, Question.id)
        )
        return rows.all()

    async def get(self, question_id: str, session_id: str) -> Question | None:
        row = await self.db.get(Question, question_id)
        return row if row is not None and row.session_id == session_id else None

    async def for_session(
        self, session_id: str, *, kinds: Sequence[str] | None = RUN_KINDS
    ) -> Sequence[Question]:
        """The session's runs in order (messages, and the producer's edits and undos, each a run);
        `kinds=None`: notes as well."""
        query = select(Question).where(Question.session_id == session_id)
        if kinds is not None:
            query = query.where(Question.kind.in_(list(kinds)))
        rows = await self.db.scalars(query.order_by(Question.created_at, Question.id))
        return rows.all()

    async def finish(self, question_id: str, *, status: str, error: str | None) -> None:
        await self.db.execute(
            update(Question)
            .where(Question.id == question_id)
            .values(run_status=status, run_error=error, finished_at=utcnow())
        )

    async def reopen(self, question_id: str) -> None:
        await self.db.execute(
            update(Question)
            .where(Question.id == question_id)
            .values(run_status="running", run_error=None, finished_at=None)
        )

    async def set_invocation(self, question_id: str, invocation_id: str) -> None:
        await self.db.execute(
            update(Question)
            .where(Question.id == question_id, Question.invocation_id.is_(None))
            .values(invocation_id=invocation_id)
        )

    async def mark(self, question_id: str, **values: Any) -> None:
        """Add to a question's metadata (e.g. the undo that took its change back)."""
        row = await self.db.get(Question, question_id)
        if row is not None:
            row.metadata_ = {**(row.metadata_ or {}), **values}

    async def set_project(self, question_id: str, project_id: str) -> None:
        await self.db.execute(update(Question).where(Question.id == question_id).values(project_id=project_id))

    async def running(self) -> Sequence[Question]:
        rows = await self.db.scalars(select(Question).where(Question.run_status == "running"))
        return rows.all()


class AnswerRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(self, **values: Any) -> Answer:
        row = Answer(**_stamped(values))
        self.db.add(row)
        return row

    async def for_session(self, session_id: str) -> Sequence[Answer]:
        rows = await self.db.scalars(
            select(Answer).where(Answer.session_id == session_id).order_by(Answer.created_at, Answer.id)
        )
        return rows.all()

    async def for_question(self, question_id: str) -> Sequence[Answer]:
        rows = await self.db.scalars(
            select(Answer).where(Answer.question_id == question_id).order_by(Answer.created_at, Answer.id)
        )
        return rows.all()


class ReasoningRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(self, **values: Any) -> InferentialReasoning:
        row = InferentialReasoning(**_stamped(values))
        self.db.add(row)
        return row

    async def link_to_answer(self, *, question_id: str, agent_name: str, answer_id: str) -> None:
        """The reasoning an agent did before answering explains that answer."""
        await self.db.execute(
            update(InferentialReasoning)
            .where(
                InferentialReasoning.question_id == question_id,
                InferentialReasoning.agent_name == agent_name,
                InferentialReasoning.answer_id.is_(None),
            )
            .values(answer_id=answer_id)
        )

    async def has_type(self, question_id: str, reasoning_type: str) -> bool:
        found = await self.db.scalar(
            select(InferentialReasoning.id)
            .where(
                InferentialReasoning.question_id == question_id,
                InferentialReasoning.reasoning_type == reasoning_type,
            )
            .limit(1)
        )
        return found is not None

    async def for_session(self, session_id: str) -> Sequence[InferentialReasoning]:
        rows = await self.db.scalars(
            select(InferentialReasoning)
            .where(InferentialReasoning.session_id == session_id)
            .order_by(InferentialReasoning.created_at, InferentialReasoning.id)
        )
        return rows.all()


class StateRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def latest_version(self, session_id: str) -> int:
        value = await self.db.scalar(
            select(func.max(SessionState.version)).where(SessionState.session_id == session_id)
        )
        return int(value or 0)

    async def create(self, **values: Any) -> SessionState:
        row = SessionState(**_stamped(values))
        self.db.add(row)
        return row

    async def changes(self, session_id: str) -> Sequence[tuple[int, list[str], str | None]]:
        """(version, changed keys, question) of every snapshot, without the states themselves."""
        rows = await self.db.execute(
            select(SessionState.version, SessionState.changed_keys, SessionState.question_id)
            .where(SessionState.session_id == session_id)
            .order_by(SessionState.version)
        )
        return [(int(v), list(k or []), q) for v, k, q in rows.all()]

    async def versions(self, session_id: str) -> Sequence[SessionState]:
        rows = await self.db.scalars(
            select(SessionState).where(SessionState.session_id == session_id).order_by(SessionState.version)
        )
        return rows.all()

    async def get(self, session_id: str, version: int) -> SessionState | None:
        return await self.db.scalar(
            select(SessionState).where(SessionState.session_id == session_id, SessionState.version == version)
        )


class AgentEventRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(self, **values: Any) -> AgentEvent:
        row = AgentEvent(**_stamped(values))
        self.db.add(row)
        return row

    async def saved_documents(self, session_id: str) -> dict[tuple[str, int], str | None]:
        """(file name, version) -> the run that saved that document version."""
        rows = await self.db.execute(
            select(AgentEvent.question_id, AgentEvent.event_data).where(AgentEvent.session_id == session_id)
        )
        saved: dict[tuple[str, int], str | None] = {}
        for question_id, data in rows.all():
            for filename, version in ((data or {}).get("artifact_delta") or {}).items():
                saved[(str(filename), int(version))] = question_id
        return saved

    async def event_ids(self, question_id: str) -> set[str]:
        rows = await self.db.scalars(select(AgentEvent.event_id).where(AgentEvent.question_id == question_id))
        return set(rows.all())

    async def for_session(self, session_id: str, *, question_id: str | None = None) -> Sequence[AgentEvent]:
        query = select(AgentEvent).where(AgentEvent.session_id == session_id)
        if question_id:
            query = query.where(AgentEvent.question_id == question_id)
        rows = await self.db.scalars(query.order_by(AgentEvent.created_at, AgentEvent.id))
        return rows.all()


class UsageRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(self, **values: Any) -> LlmUsage:
        row = LlmUsage(**_stamped(values))
        self.db.add(row)
        return row

    async def for_session(self, session_id: str) -> Sequence[LlmUsage]:
        rows = await self.db.scalars(
            select(LlmUsage).where(LlmUsage.session_id == session_id).order_by(LlmUsage.created_at, LlmUsage.id)
        )
        return rows.all()

    async def cost(
        self,
        *,
        session_id: str | None = None,
        question_id: str | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
    ) -> float:
        query = select(func.coalesce(func.sum(LlmUsage.cost_usd), 0.0))
        if session_id:
            query = query.where(LlmUsage.session_id == session_id)
        if question_id:
            query = query.where(LlmUsage.question_id == question_id)
        if user_id:
            query = query.where(LlmUsage.user_id == user_id)
        if since:
            query = query.where(LlmUsage.created_at >= since)
        return float(await self.db.scalar(query) or 0.0)

    async def totals(self, session_id: str, *, question_id: str | None = None) -> list[dict[str, Any]]:
        """Per agent and model: calls, tokens and cost."""
        query = (
            select(
                LlmUsage.question_id,
                LlmUsage.agent_name,
                LlmUsage.model,
                func.count(),
                func.sum(LlmUsage.prompt_tokens),
                func.sum(LlmUsage.completion_tokens),
                func.sum(LlmUsage.cost_usd),
            )
            .where(LlmUsage.session_id == session_id)
            .group_by(LlmUsage.question_id, LlmUsage.agent_name, LlmUsage.model)
        )
        if question_id:
            query = query.where(LlmUsage.question_id == question_id)
        rows = await self.db.execute(query)
        return [
            {
                "run_id": run_id,
                "agent_name": agent,
                "model": model,
                "calls": int(calls),
                "prompt_tokens": int(prompt or 0),
                "completion_tokens": int(completion or 0),
                "cost_usd": float(cost or 0.0),
            }
            for run_id, agent, model, calls, prompt, completion, cost in rows.all()
        ]
