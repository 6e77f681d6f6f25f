"""A session's past runs as the frames a live client would have seen, rebuilt from what is stored:
ADK's events, our step rows (with the writers' room round) and usage rows, through the same
translator as the live stream. The client feeds them to the same reducer, so history and live
read alike, rounds included, and nothing is guessed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from google.adk.events import Event
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from agente_films import protocol as p
from agente_films.db.repositories import (
    AgentEventRepository,
    QuestionRepository,
    StateRepository,
    UsageRepository,
)
from agente_films.db.tables import AgentEvent, LlmUsage, Question
from agente_films.runs.facts import decode
from agente_films.runs.frames import FrameTranslator
from agente_films.runs.track import RunTrack, StepFacts

_STEP_ROWS = {"agent_start": True, "agent_end": False}


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def _stamp(frames: list[BaseModel], at: int) -> list[BaseModel]:
    for frame in frames:
        frame.timestamp = at  # type: ignore[attr-defined]
    return frames


def run_frames(
    session_id: str,
    question: Question,
    rows: Sequence[AgentEvent | LlmUsage | Question],
    events: dict[str, Event],
    versions: dict[str, int],
    final_state: dict[str, Any] | None,
    note_status: dict[str, str] | None = None,
) -> list[BaseModel]:
    """One run's frames. `rows` are its step/event rows, usage rows and the notes said to it, in
    the order they happened; `events` ADK's stored events by id; `versions` the state version
    each event produced; `note_status` the notes' statuses as the runs before left them."""
    track = RunTrack(note_status=note_status if note_status is not None else {})
    translator = FrameTranslator(session_id=session_id, run_id=question.id, track=track)
    frames = _stamp(
        translator.run_started(question.question_text, resumed=False, state=None, kind=question.kind,
                               stage=(question.metadata_ or {}).get("stage")),
        _ms(question.created_at),
    )
    said: list[Question] = []
    for row in rows:
        at = _ms(row.created_at)
        if isinstance(row, Question):  # a producer's note said during this run
            said.append(row)
            frames += _stamp(translator.note_received(row.id, row.question_text), at)
        elif isinstance(row, LlmUsage):
            track.run_cost += row.cost_usd
            track.prompt_tokens += row.prompt_tokens
            track.completion_tokens += row.completion_tokens
            frames += _stamp(
                translator.usage(agent=row.agent_name, model=row.model, prompt_tokens=row.prompt_tokens,
                                 completion_tokens=row.completion_tokens, cost_usd=row.cost_usd),
                at,
            )
        elif row.event_type in _STEP_ROWS:
            frames += _stamp(translator.stored_step(_STEP_ROWS[row.event_type], StepFacts.from_row(row.event_data)), at)
        elif row.event_id in events:
            event = events[row.event_id]
            if row.event_id in versions:
                track.state_version = versions[row.event_id]
            frames += _stamp(translator.stored(decode(event)), at)
    if question.run_status == "running":
        return frames  # the live stream tells the rest
    end = _ms(question.finished_at) if question.finished_at else (_ms(rows[-1].created_at) if rows else None)
    resumable = question.invocation_id is not None
    if question.run_status != "completed":
        # As live: notes the run stopped before taking are kept for the next run, and it says so.
        for note in said:
            if track.note_status.get(note.id, "pending") == "pending":
                frames += _stamp(translator.note_received(note.id, note.question_text, kept_for_next_run=True),
                                 end or _ms(question.created_at))
    return frames + _stamp(
        translator.run_finished(question.run_status, question.run_error, state=final_state, resumable=resumable,
                                branched_at=(question.metadata_ or {}).get("branched_at")),
        end or _ms(question.created_at),
    )


async def session_timeline(db: AsyncSession, session_id: str, adk_events: list[Event]) -> p.SessionTimeline:
    questions = await QuestionRepository(db).for_session(session_id)
    notes = await QuestionRepository(db).notes_of(session_id)
    steps_and_events = await AgentEventRepository(db).for_session(session_id)
    usage = await UsageRepository(db).for_session(session_id)
    snapshots = await StateRepository(db).versions(session_id)
    events = {event.id: event for event in adk_events}
    versions = {s.event_id: s.version for s in snapshots if s.event_id}
    last_state: dict[str | None, dict[str, Any]] = {}
    for snapshot in snapshots:
        last_state[snapshot.question_id] = snapshot.state_value
    by_run: dict[str | None, list[AgentEvent | LlmUsage | Question]] = {}
    for row in sorted([*steps_and_events, *usage, *notes], key=lambda r: (r.created_at, r.id)):
        run_id = (row.metadata_ or {}).get("run_id") if isinstance(row, Question) else row.question_id
        by_run.setdefault(run_id, []).append(row)
    note_status: dict[str, str] = {}  # carried from run to run, as the live stream's state is
    runs = [
        p.RunFrames(
            run_id=question.id,
            frames=run_frames(session_id, question, by_run.get(question.id, []), events, versions,
                              last_state.get(question.id), note_status),
        )
        for question in questions
    ]
    return p.SessionTimeline(session_id=session_id, runs=runs)
