"""Messages: send one (wait for the answers, or get a run id back), follow and cancel its run."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Response, status

from agente_films.api.deps import OwnedSession, StudioDep, WritableSession
from agente_films.api.schemas import AnswerOut, MessageIn, NoteOut, RunOut, UsageOut
from agente_films.db.repositories import (
    RUN_KINDS,
    AnswerRepository,
    QuestionRepository,
    UsageRepository,
)
from agente_films.db.tables import StudioSession
from agente_films.errors import BadText, EmptyMessage, MessageTooLong, NoActiveRun, Refused
from agente_films.runs.manager import ActiveRun, NoteAccepted
from agente_films.studio import Studio
from agente_films.text import plain_text_problem

router = APIRouter(prefix="/sessions/{session_id}", tags=["messages"])


def checked_content(studio: Studio, content: str) -> str:
    text = content.strip()
    if not text:
        raise EmptyMessage()
    problem = plain_text_problem(text)
    if problem:
        raise BadText(f"The message {problem}.")
    limit = studio.settings.max_message_chars
    if len(text) > limit:
        raise MessageTooLong(len(text), limit)
    return text


async def run_out(studio: Studio, row: StudioSession, run_id: str) -> RunOut:
    async with studio.sessionmaker() as db:
        question = await QuestionRepository(db).get(run_id, row.id)
        if question is None or question.kind not in RUN_KINDS:  # a note has no run of its own
            raise Refused(404, f"Run {run_id} not found in this session.")
        answers = await AnswerRepository(db).for_question(run_id)
        usage = await UsageRepository(db).totals(row.id, question_id=run_id)
    return RunOut(
        run_id=question.id,
        session_id=row.id,
        status=question.run_status,
        error=question.run_error,
        question=question.question_text,
        created_at=question.created_at,
        finished_at=question.finished_at,
        answers=[AnswerOut.model_validate(a) for a in answers],
        usage=UsageOut.from_lines(row.id, usage),
    )


def note_out(row: StudioSession, note: NoteAccepted) -> NoteOut:
    return NoteOut(
        note_id=note.note_id, run_id=note.run_id, session_id=row.id, text=note.text, status="pending",
        applies_to="the next run" if note.for_next_run else "the next round of the running run",
    )


async def say(studio: Studio, row: StudioSession, body: MessageIn) -> ActiveRun | NoteAccepted:
    return await studio.runs.say(
        session_id=row.id, user_id=row.user_id, text=checked_content(studio, body.content),
        direction=list(body.direction),
    )


_NOTE_RESPONSE = {202: {"model": NoteOut, "description": "The team is working: the message is a producer's note."}}


@router.post("/messages", responses=_NOTE_RESPONSE)
async def send_message(studio: StudioDep, row: WritableSession, body: MessageIn, response: Response) -> RunOut | NoteOut:
    """Runs the team on the message and answers when the run is over (or the wait times out).
    While a run works, the message is a note for the writers' room: 202 and the note."""
    said = await say(studio, row, body)
    if isinstance(said, NoteAccepted):
        response.status_code = status.HTTP_202_ACCEPTED
        return note_out(row, said)
    try:
        await asyncio.wait_for(asyncio.shield(said.done.wait()), studio.settings.sync_message_timeout_seconds)
    except TimeoutError:
        pass  # the run goes on server-side; the body says "running" and the run id to follow
    return await run_out(studio, row, said.run_id)


@router.post("/messages/async", status_code=status.HTTP_202_ACCEPTED)
async def send_message_async(studio: StudioDep, row: WritableSession, body: MessageIn) -> RunOut | NoteOut:
    """Starts a run on the message (the run to follow), or while one works stores a note for it."""
    said = await say(studio, row, body)
    if isinstance(said, NoteAccepted):
        return note_out(row, said)
    return await run_out(studio, row, said.run_id)


@router.get("/runs/{run_id}")
async def get_run(studio: StudioDep, row: OwnedSession, run_id: uuid.UUID) -> RunOut:
    return await run_out(studio, row, str(run_id))


@router.post("/runs/{run_id}/resume", status_code=status.HTTP_202_ACCEPTED)
async def resume_run(studio: StudioDep, row: WritableSession, run_id: uuid.UUID) -> RunOut:
    """Continue an interrupted (server died) or failed run from ADK's last checkpoint."""
    run = await studio.runs.resume(session_id=row.id, user_id=row.user_id, run_id=str(run_id))
    return await run_out(studio, row, run.run_id)


@router.post("/cancel")
async def cancel_run(studio: StudioDep, row: OwnedSession) -> RunOut:
    run_id = await studio.runs.cancel(row.id)
    if run_id is None:
        raise NoActiveRun()
    return await run_out(studio, row, run_id)
