"""Runs execute as server-side tasks, one per session at a time, independent of any socket.

With Redis (several API instances) the one-run-per-session rule holds across instances through a
lock with expiry and renewal, a cancel reaches the instance that runs the run over pub/sub, and a
run whose instance died (its lock expired) is marked interrupted by whichever instance notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from google.adk.agents import RunConfig
from google.adk.agents.run_config import StreamingMode
from google.adk.events import Event, EventActions
from google.adk.runners import Runner
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from agente_films.agents.team import TEAM_AGENT
from agente_films.db.repositories import (
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
    StateRepository,
)
from agente_films.db.tables import StudioSession, new_id, utcnow
from agente_films import notes as producer_notes
from agente_films import protocol as p
from agente_films import state_keys as keys
from agente_films.intent import parse_message
from agente_films.errors import (  # noqa: F401 (the run's refusals, re-exported for callers)
    NothingToRegenerate,
    Refused,
    RunInProgress,
    RunNotResumable,
    RunRefused,
    ServiceUnavailable,
    SessionArchived,
    TooManyNotes,
)
from agente_films.runs.bus import EventBus, LocalAnnouncer
from agente_films.runs.context import enter_run
from agente_films.runs.frames import FrameTranslator
from agente_films.runs.locks import LocalRunLocks, RunLocks
from agente_films.runs.recorder import RunRecorder
from agente_films.runs.revision_plugin import STAGE_LABELS
from agente_films.runs.track import RunTrack
from agente_films.settings import Settings
from agente_films.state_keys import public_state

log = logging.getLogger(__name__)

RESUMABLE = ("interrupted", "failed")
INTERRUPTED = "The server running this run stopped before it finished; resume it or send the message again."
CANCEL_CHANNEL = "agente_films:cancel"
NOTES_CHANNEL = "agente_films:notes"
MAX_PENDING_NOTES = 20


def with_direction(text: str, direction: list[str]) -> str:
    """The message the greeter reads: the person's words, then the direction chips they chose."""
    return f"{text}\n\nDirection: {', '.join(direction)}" if direction else text


@dataclass(frozen=True)
class StateChange:
    """What a producer's change stores: the state delta, the question's text and metadata, a
    write for the same transaction (e.g. marking what an undo took back), and what to answer."""

    delta: dict[str, Any]
    summary: str
    metadata: dict[str, Any] = field(default_factory=dict)
    also: Callable[[Any, str], Awaitable[None]] | None = None  # (db, the change's run id)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeMade:
    """A stored change: its run (None when it changed nothing), the state version and state now."""

    change: StateChange
    run_id: str | None
    version: int
    state: dict[str, Any]


@dataclass(frozen=True)
class NoteAccepted:
    note_id: str
    run_id: str | None
    text: str
    # False: the running run's next round takes it; True: no run works now, the next run takes it.
    for_next_run: bool = False


@dataclass
class ActiveRun:
    session_id: str
    run_id: str
    owner: str
    task: asyncio.Task | None = None
    abort: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    status: str = "running"
    recorder: RunRecorder | None = None
    # Closed when the run ends: a note that comes later waits in the database for what follows.
    accepting_notes: bool = True
    # "message" (the team works), or a producer's change of the state ("edit", "undo"), which
    # takes milliseconds and no notes: a message arriving meanwhile waits for it, then starts.
    kind: str = "message"


def freeze_long_lived_objects() -> None:
    """Hide everything alive now from the garbage collector: full collections stop walking it
    (and it is never freed). ADK, LiteLLM and their pydantic models leave ~500k such objects at
    start-up and ~190k more in the first run (LiteLLM imports lazily); walked by each full
    collection, every few seconds under load, they paused every stream for 100-500 ms."""
    gc.collect()
    gc.freeze()


# /home/x/app/sessions/... but not the path of a URL (https://host/v1/...): no word character,
# colon or slash before its first slash.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:[\w.\-]+/)+[\w.\-]*")


def describe_error(exc: BaseException) -> str:
    """One line a person can read: the error type, the HTTP status of a failed LLM call, the message."""
    while exc.__cause__ is not None:  # ADK wraps plugin and node errors; the cause says what happened
        exc = exc.__cause__
    # Clients read it (run errors, 503 details): an OSError's file names and any other absolute
    # path are the server's, and stay out of it.
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip()
    text = _ABSOLUTE_PATH.sub("<path>", text.splitlines()[0]) if text else ""
    status = getattr(exc, "status_code", None)
    label = f"{type(exc).__name__} (HTTP {status})" if isinstance(status, int) else type(exc).__name__
    return f"{label}: {text}"[:1000] if text else label


# A lock held by a producer's change (an edit, an undo) says so, so that every instance can tell
# a change (milliseconds: wait for it) from a run (a message to it is a note).
CHANGE_MARK = "#change"


def _run_id_of(owner: str | None) -> str | None:
    return owner.rsplit("/", 1)[-1].removesuffix(CHANGE_MARK) if owner else None


class RunAdmission(Protocol):
    """Whether a user may start one more run now (api/rate_limits.py: runs an hour and at once);
    raises a RunRefused when not. Called in the transaction that marks the run running, so a
    refusal stores nothing. Producer's changes (edits, undos) are not asked: no agent works."""

    async def admit_run(self, db: Any, user_id: str) -> None: ...


class RunManager:
    _warmed_up = False  # per process, as the garbage collector is

    def __init__(
        self,
        *,
        runner: Runner,
        sessionmaker: async_sessionmaker,
        bus: EventBus,
        settings: Settings,
        locks: RunLocks | None = None,
        redis: Any = None,
        announcer: LocalAnnouncer | None = None,
        admission: RunAdmission | None = None,
    ) -> None:
        self.runner = runner
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.settings = settings
        self.locks = locks or LocalRunLocks()
        self.redis = redis
        self.announcer = announcer or LocalAnnouncer()
        self.admission = admission
        self.instance_id = uuid.uuid4().hex[:12]
        self._active: dict[str, ActiveRun] = {}
        self._finished: dict[str, ActiveRun] = {}
        self._background: list[asyncio.Task] = []
        self._tasks: set[asyncio.Task] = set()  # follow-ups, kept referenced until they are done
        # Admission control: past a few dozen runs a process only gets slower for all of them,
        # and their database transactions queue for connections until they time out.
        self._slots = asyncio.Semaphore(settings.max_active_runs)
        self._queued = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        await self.reap_interrupted()
        if self.redis is not None:
            self._background.append(asyncio.create_task(self._listen_for_cancels(), name="cancel-and-note-listener"))
            self._background.append(asyncio.create_task(self._reap_forever(), name="run-reaper"))

    async def shutdown(self) -> None:
        # Follow-ups first, so that none starts a run once the runs are cancelled.
        for task in [*self._tasks]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for session_id in list(self._active):
            await self.cancel(session_id)
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def reap_interrupted(self) -> int:
        """Mark runs whose process died as interrupted, so that nobody waits for them forever.

        Embedded mode: at start-up every "running" run belonged to the previous process. With
        Redis: a running run whose lock expired lost its instance.
        """
        async with self.sessionmaker.begin() as db:
            questions = QuestionRepository(db)
            running = await questions.running()
            dead = []
            for question in running:
                if question.session_id in self._active:
                    continue
                if self.redis is not None:
                    try:
                        if await self.locks.holder(question.session_id) is not None:
                            continue
                    except Exception:  # Redis down: decide later, never guess
                        return 0
                dead.append(question)
            sessions = SessionRepository(db)
            for question in dead:
                await questions.finish(question.id, status="interrupted", error=INTERRUPTED)
                await sessions.update(question.session_id, status="interrupted")
        for question in dead:
            # Sockets following the session learn it now, not at their next reconnect.
            frames = FrameTranslator(session_id=question.session_id, run_id=question.id, track=RunTrack()).run_finished(
                "interrupted", INTERRUPTED, state=None, resumable=question.invocation_id is not None
            )
            with contextlib.suppress(Exception):
                for frame in frames:
                    await self.bus.publish(question.session_id, p.dump(frame))
        if dead:
            log.warning("marked %d run(s) interrupted: %s", len(dead), [q.id for q in dead])
        return len(dead)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(max(self.locks.ttl_seconds, 1.0))
            try:
                await self.reap_interrupted()
            except Exception:
                log.warning("could not check for interrupted runs", exc_info=True)

    # -- starting ----------------------------------------------------------------------------

    async def _claim(self, session_id: str, run_id: str, kind: str = "message") -> ActiveRun:
        if session_id in self._active:
            raise RunInProgress(self._active[session_id].run_id)
        # Claimed before the first await, so two messages arriving together cannot both start.
        mark = CHANGE_MARK if kind != "message" else ""
        run = self._active[session_id] = ActiveRun(
            session_id=session_id, run_id=run_id, owner=f"{self.instance_id}/{run_id}{mark}", kind=kind,
            accepting_notes=kind == "message",
        )
        try:
            holder = await self.locks.acquire(session_id, run.owner)
        except Exception as exc:
            self._active.pop(session_id, None)
            raise ServiceUnavailable(f"Redis is unavailable, so no run can start: {describe_error(exc)}") from exc
        if holder is not None:
            self._active.pop(session_id, None)
            raise RunInProgress(_run_id_of(holder))
        try:
            await self._refuse_archived(session_id)
        except BaseException:
            await self._unclaim(run)
            raise
        return run

    async def _refuse_archived(self, session_id: str) -> None:
        """An archived session is read-only (retention.py). Every run and producer's change, from
        any transport (REST, the socket, AG-UI), claims its session in _claim: refused there. Looked
        at once claimed, as archiving looks for a claim once archived_at is set, so neither misses
        the other."""
        async with self.sessionmaker() as db:
            archived_at = await db.scalar(select(StudioSession.archived_at).where(StudioSession.id == session_id))
        if archived_at is not None:
            raise SessionArchived()

    @staticmethod
    async def _mark_running(db: Any, session_id: str) -> None:
        """The session's status "running", unless it was archived since _refuse_archived looked:
        one statement, so a retention pass in another process without Redis (the CLI), which
        sees no claim of ours, and this run never both go ahead (retention skips a session the
        database says is running; this refuses one archived meanwhile)."""
        marked = await db.execute(
            update(StudioSession)
            .where(StudioSession.id == session_id, StudioSession.archived_at.is_(None))
            .values(status="running", updated_at=utcnow())
        )
        if marked.rowcount == 0:
            archived = await db.scalar(select(StudioSession.archived_at).where(StudioSession.id == session_id))
            if archived is not None:
                raise SessionArchived()
            raise Refused(404, f"Session {session_id} not found (it may have been deleted).")

    async def _unclaim(self, run: ActiveRun) -> None:
        self._active.pop(run.session_id, None)
        with contextlib.suppress(Exception):
            await self.locks.release(run.session_id, run.owner)

    async def say(
        self, *, session_id: str, user_id: str, text: str, direction: list[str] | None = None
    ) -> ActiveRun | NoteAccepted:
        """A message from the person: it starts a run, or while one works it is a producer's note
        for the writers' room (a new subject then is refused: it would start another film)."""
        await self._wait_for_change(session_id)
        run_id = await self.active_run_id(session_id)
        if run_id is None:
            try:
                return await self.start(session_id=session_id, user_id=user_id, text=text, direction=direction)
            except RunInProgress as exc:  # another message started one meanwhile
                run_id = exc.run_id
        state = await self._state(session_id, user_id)
        intent = parse_message(text, str(state.get(keys.PROMPT) or "") or None)
        working_on = state.get(keys.PROMPT) or "a pitch"
        if intent.kind in ("new_subject", "switch"):
            raise RunInProgress(
                run_id,
                f"The team is working on {working_on}; a new subject ({intent.subject}) can start "
                "once this run finishes or is cancelled. A note about the current pitch is taken at "
                "the next round.",
            )
        if intent.kind in ("greeting", "question"):
            # Nobody could answer now (the greeter handed over), and it is not a note on the pitch.
            raise RunInProgress(
                run_id,
                f"The team is working on {working_on}; the greeter answers once this run finishes. "
                "A note about the pitch (for example \"make it darker\") is taken at the next round.",
            )
        # Chips chosen with a note are part of it ("make it darker; thriller"), as the parser reads them.
        note = "; ".join([text, ", ".join(direction)]) if direction else text
        return await self.add_note(session_id=session_id, user_id=user_id, run_id=run_id, text=note)

    async def _wait_for_change(self, session_id: str, timeout: float = 5.0) -> None:
        """A producer's change under way (here or on another instance) takes milliseconds: a
        message waits for it, then starts a run, rather than becoming a note to a change."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            local = self._active.get(session_id)
            if local is not None:
                if local.kind == "message":
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(local.done.wait(), timeout=0.5)
                continue
            try:
                holder = await self.locks.holder(session_id)
            except Exception:
                return  # Redis down: start() says so
            if not (holder or "").endswith(CHANGE_MARK):
                return
            await asyncio.sleep(0.05)
        raise RunInProgress(None, "The pitch is being changed by hand right now; send the message again in a moment.")

    async def add_note(self, *, session_id: str, user_id: str, run_id: str | None, text: str) -> NoteAccepted:
        """Store the note at once (a question of kind note), then hand it to the run's queue:
        here, or over Redis to the instance that runs it. A note that misses its run (it ended
        meanwhile) is not lost: it waits in the database, and if the run completed, a revision
        applies it right away."""
        async with self.sessionmaker.begin() as db:
            # One note of a session at a time, so that the cap holds when notes arrive together.
            await SessionRepository(db).lock(session_id)
            await SessionRepository(db).update(session_id)  # a note is activity: retention's idle clock
            questions = QuestionRepository(db)
            if len(await questions.pending_notes(session_id)) >= MAX_PENDING_NOTES:
                raise TooManyNotes(run_id, MAX_PENDING_NOTES)
            project = await ProjectRepository(db).latest_for_session(session_id)
            note = await questions.create_note(
                session_id=session_id, text=text, project_id=project.id if project else None, run_id=run_id
            )
        run = self._active.get(session_id)
        delivered = False
        if run is not None and run.run_id == run_id:
            delivered = await self._deliver_note(run, note.id, text)
        elif self.redis is not None and run_id is not None:
            message = {"session_id": session_id, "user_id": user_id, "run_id": run_id, "note_id": note.id, "text": text}
            with contextlib.suppress(Exception):  # undelivered, it still waits in the database
                await self.redis.publish(NOTES_CHANNEL, json.dumps(message))
                delivered = True  # the instance that runs it takes it, or follows up if it ended
        if not delivered:
            self._spawn(self._note_missed(session_id, user_id, run_id))
        return NoteAccepted(note_id=note.id, run_id=run_id, text=text, for_next_run=not delivered)

    @staticmethod
    async def _pending_notes(db: Any, session_id: str) -> list[dict[str, Any]]:
        """Notes kept from a run that ended before taking them: the next run's rounds take them
        (unless it starts another film: then they are dropped, see RunRecorder.take_queued_notes)."""
        return [{"id": q.id, "text": q.question_text, "inherited": True}
                for q in await QuestionRepository(db).pending_notes(session_id)]

    async def _notes_said_to(self, session_id: str, run_id: str) -> list[dict[str, Any]]:
        async with self.sessionmaker() as db:
            pending = await QuestionRepository(db).pending_notes(session_id, said_to=run_id)
        return [{"id": q.id, "text": q.question_text} for q in pending]

    async def _deliver_note(self, run: ActiveRun, note_id: str, text: str) -> bool:
        if run.recorder is None or not run.accepting_notes:
            return False
        await run.recorder.note_received(note_id, text)
        return True

    async def _note_missed(self, session_id: str, user_id: str, run_id: str | None) -> None:
        """A note reached its run only after the run stopped taking notes."""
        run = self._active.get(session_id)
        if run is not None and run.run_id == run_id:
            await run.done.wait()  # it is finishing: its end decides
        finished = self._finished.get(run_id) if run_id else None
        if finished is not None and finished.status == "completed":
            await self._follow_up(session_id, user_id, finished.run_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(
        self, *, session_id: str, user_id: str, text: str, direction: list[str] | None = None,
        state_delta: dict[str, Any] | None = None, stage: p.Stage | None = None,
    ) -> ActiveRun:
        """A run of the team on a message; `stage`: a regeneration of that stage alone."""
        run = await self._claim(session_id, new_id())
        message = with_direction(text, list(direction or []))
        try:
            async with self.sessionmaker.begin() as db:
                project = await ProjectRepository(db).latest_for_session(session_id)
                question = await QuestionRepository(db).create(
                    question_id=run.run_id,
                    session_id=session_id,
                    text=message,
                    project_id=project.id if project else None,
                )
                if stage is not None:
                    question.metadata_ = {"stage": stage}
                await self._mark_running(db, session_id)
                if self.admission is not None:  # rate limits: one more run of this user
                    await self.admission.admit_run(db, user_id)
                inherited = await self._pending_notes(db, session_id)
            recorder = self._recorder(run, user_id, project.id if project else None, inherited)
            await recorder.run_started(message, state=await self._state(session_id, user_id), stage=stage)
        except IntegrityError:
            await self._unclaim(run)
            # The session was deleted meanwhile: its question has no session left to belong to.
            raise Refused(404, f"Session {session_id} not found (it may have been deleted).") from None
        except BaseException:
            await self._unclaim(run)
            raise
        self._launch(run, recorder, user_id, new_message=types.UserContent(message), state_delta=state_delta)
        return run

    async def regenerate(self, *, session_id: str, user_id: str, stage: p.Stage) -> ActiveRun:
        """Run one stage again on the current pitch, as the next revision: the stages it does not
        name keep their work (`RevisionPlugin`), and the file writer saves the next version."""
        running = await self.active_run_id(session_id)
        if running is not None:
            raise RunInProgress(running, "The team is working; regenerate once this run finishes or is cancelled.")
        state = await self._state(session_id, user_id)
        if not str(state.get(keys.PLOT_OUTLINE) or "").strip():
            raise NothingToRegenerate("There is no pitch to regenerate yet; name a subject first.")
        revision = int(state.get(keys.REVISION) or 0) + 1
        return await self.start(
            session_id=session_id, user_id=user_id, text=f"Regenerate: {STAGE_LABELS[stage]}",
            state_delta={keys.REVISION: revision, keys.REGENERATE: {"stage": stage, "revision": revision}},
            stage=stage,
        )

    async def change_state(
        self, *, session_id: str, user_id: str, kind: p.RunKind,
        decide: Callable[[dict[str, Any], int, Any], Awaitable[StateChange]],
    ) -> ChangeMade:
        """A change of the state by the producer, without agents (an edit by hand, an undo): made
        while the session is claimed like a run (so it is refused during one, and two changes
        never interleave), stored as a run of one state event through the same recorder, rows and
        frames as any run, so snapshots, history and the live stream see it alike.

        `decide(state, version, db)` reads the current state and version and returns the change
        (or raises a RunRefused, and nothing is stored)."""
        run = await self._claim(session_id, new_id(), kind)
        try:
            return await asyncio.create_task(self._change_state(run, user_id, kind, decide))
        finally:
            await self._unclaim(run)
            run.done.set()

    async def _change_state(
        self, run: ActiveRun, user_id: str, kind: p.RunKind,
        decide: Callable[[dict[str, Any], int, Any], Awaitable[StateChange]],
    ) -> ChangeMade:
        session = await self.runner.session_service.get_session(
            app_name=self.runner.app_name, user_id=user_id, session_id=run.session_id,
            config=GetSessionConfig(num_recent_events=0),
        )
        if session is None:
            raise Refused(404, f"Session {run.session_id} not found (it may have been deleted).")
        async with self.sessionmaker() as db:
            version = await StateRepository(db).latest_version(run.session_id)
            change = await decide(dict(session.state), version, db)
        if not change.delta and change.also is None:  # an edit that changes nothing stores nothing
            return ChangeMade(change, run_id=None, version=version, state=public_state(dict(session.state)))
        async with self.sessionmaker.begin() as db:
            project = await ProjectRepository(db).latest_for_session(run.session_id)
            question = await QuestionRepository(db).create(
                question_id=run.run_id, session_id=run.session_id, text=change.summary,
                project_id=project.id if project else None, kind=kind,
            )
            question.metadata_ = change.metadata
        recorder = self._recorder(run, user_id, project.id if project else None, [])
        enter_run(recorder)  # this task's only: the session service hands the event to the recorder
        await recorder.run_started(change.summary, state=dict(session.state), kind=kind)
        try:
            event = Event(author=keys.PRODUCER, invocation_id="", actions=EventActions(state_delta=change.delta))
            await self.runner.session_service.append_event(session, event)
            await recorder.on_event(event)
            if change.also is not None:
                also = change.also
                recorder.writer.write(lambda db: also(db, run.run_id))
        except Exception as exc:  # the database failed: the change's run ends, never "running"
            log.warning("change %s failed", run.run_id, exc_info=True)
            await recorder.run_finished("failed", describe_error(exc))
            raise ServiceUnavailable(f"The change could not be stored: {describe_error(exc)}") from exc
        if await recorder.run_finished("completed", None) != "completed":
            raise ServiceUnavailable("The change could not be stored; try again.")
        return ChangeMade(change, run_id=run.run_id, version=recorder.track.state_version,
                          state=public_state(dict(session.state)))

    async def resume(self, *, session_id: str, user_id: str, run_id: str) -> ActiveRun:
        """Continue an interrupted or failed run where ADK's checkpoints left it."""
        run = await self._claim(session_id, run_id)
        try:
            async with self.sessionmaker.begin() as db:
                question = await QuestionRepository(db).get(run_id, session_id)
                if question is None or question.kind != "message":
                    raise RunNotResumable(f"Run {run_id} not found in this session.", 404)
                if (question.metadata_ or {}).get("undone_by"):
                    raise RunNotResumable(
                        f"Run {run_id} was undone; send the note again to revise the pitch anew.", 409
                    )
                if question.run_status not in RESUMABLE or not question.invocation_id:
                    raise RunNotResumable(
                        f"Run {run_id} is {question.run_status}; only interrupted or failed runs "
                        "that got as far as the agents can be resumed.",
                        409,
                    )
                await QuestionRepository(db).reopen(run_id)
                await self._mark_running(db, session_id)
                if self.admission is not None:  # rate limits: a resumed run works again
                    await self.admission.admit_run(db, user_id)
                inherited = await self._pending_notes(db, session_id)
            # The attempt that stopped ended on the stream; the resumed one is a new stream, so
            # that a client reads the run once (it reloads the history, then follows along).
            with contextlib.suppress(Exception):
                await self.bus.restart(session_id)
            recorder = self._recorder(run, user_id, question.project_id, inherited)
            # A regeneration cut before the greeter handed over hands over again.
            await recorder.run_started(
                question.question_text, state=await self._state(session_id, user_id), resumed=True,
                stage=(question.metadata_ or {}).get("stage"),
            )
        except BaseException:
            await self._unclaim(run)
            raise
        self._launch(run, recorder, user_id, invocation_id=question.invocation_id)
        return run

    async def _state(self, session_id: str, user_id: str) -> dict[str, Any]:
        """The state a run starts from (its first STATE_SNAPSHOT): the state alone, no events."""
        session = await self.runner.session_service.get_session(
            app_name=self.runner.app_name, user_id=user_id, session_id=session_id,
            config=GetSessionConfig(num_recent_events=0),
        )
        return dict(session.state) if session is not None else {}

    def _recorder(
        self, run: ActiveRun, user_id: str, project_id: str | None, notes: list[dict[str, Any]]
    ) -> RunRecorder:
        run.recorder = RunRecorder(
            sessionmaker=self.sessionmaker,
            bus=self.bus,
            announcer=self.announcer,
            session_id=run.session_id,
            user_id=user_id,
            run_id=run.run_id,
            project_id=project_id,
            note_queue=notes,
        )
        return run.recorder

    def _launch(self, run: ActiveRun, recorder: RunRecorder, user_id: str, **run_args: object) -> None:
        run_args = {key: value for key, value in run_args.items() if value is not None}
        run.task = asyncio.create_task(self._execute(run, recorder, user_id, run_args), name=f"run-{run.run_id}")

    # -- running -----------------------------------------------------------------------------

    async def _keep_lock(self, run: ActiveRun) -> None:
        while True:
            await asyncio.sleep(self.locks.ttl_seconds / 3)
            try:
                if not await self.locks.renew(run.session_id, run.owner):
                    log.warning("run %s lost its lock; another instance may start a run", run.run_id)
            except Exception:
                log.warning("could not renew the lock of run %s", run.run_id, exc_info=True)

    async def _execute(
        self, run: ActiveRun, recorder: RunRecorder, user_id: str, run_args: dict[str, object]
    ) -> None:
        enter_run(recorder)
        keeper = asyncio.create_task(self._keep_lock(run)) if self.locks.ttl_seconds else None
        status, error = "completed", None
        try:
            async with self._slot(recorder):
                await self._run_team(run, recorder, user_id, run_args)
            if run.abort.is_set():
                status = "cancelled"
            elif recorder.error:
                status, error = "failed", recorder.error
        except asyncio.CancelledError:
            status = "cancelled"
        except Exception as exc:  # an LLM or tool failure ends the run, never the server
            log.warning("run %s failed", run.run_id, exc_info=True)
            status, error = "failed", describe_error(exc)
        run.status = status
        run.accepting_notes = False
        left_over: list[dict[str, Any]] = []
        with contextlib.suppress(Exception):  # the database is down: the notes stay where they are
            left_over = await self._notes_said_to(run.session_id, run.run_id)
        # Taken by this run already (their new status may still be in the writer's queue).
        left_over = [n for n in left_over if recorder.track.note_status.get(n["id"], "pending") == "pending"]
        if left_over and status != "completed":
            # Said to a run that stopped: stored as pending, they wait for the next run; say so.
            for note in left_over:
                with contextlib.suppress(Exception):
                    await recorder.note_received(note["id"], note["text"], kept_for_next_run=True)
        try:
            await asyncio.shield(recorder.run_finished(status, error))
            await self.bus.expire(run.session_id, self.settings.run_stream_ttl_seconds)
        except Exception:
            log.exception("could not record the end of run %s", run.run_id)
        finally:
            if keeper is not None:
                keeper.cancel()
            await self._unclaim(run)
            run.recorder = None  # finished runs are remembered, their recorder (and events) not
            self._finished[run.run_id] = run
            while len(self._finished) > 1000:
                self._finished.pop(next(iter(self._finished)))
            run.done.set()
            if left_over and status == "completed":
                # Said after the writers' room had finished: applied as a revision right away.
                self._spawn(self._follow_up(run.session_id, user_id, run.run_id))
            if not self._active and not RunManager._warmed_up:
                # Idle after a first run: what stays now was loaded to serve runs. Called soon,
                # once this task has let go of the run's objects, so they are not kept with it.
                RunManager._warmed_up = True
                asyncio.get_running_loop().call_soon(freeze_long_lived_objects)

    @contextlib.asynccontextmanager
    async def _slot(self, recorder: RunRecorder) -> AsyncIterator[None]:
        if self._slots.locked():
            await recorder.run_queued(ahead=self._queued)
        self._queued += 1
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self._slots.release()

    async def _follow_up(self, session_id: str, user_id: str, run_id: str) -> None:
        """The run that applies notes said too late for the completed run they were sent to: the
        notes enter the state as this revision's pending notes with the message, and the greeter
        hands over. At most one starts (the session's claim); a run that starts first takes them."""
        notes = await self._notes_said_to(session_id, run_id)
        if not notes:
            return
        state = await self._state(session_id, user_id)
        revision = int(state.get(keys.REVISION) or 0) + 1
        pending = [producer_notes.new_note(note["id"], note["text"], revision) for note in notes]
        text = f"{producer_notes.FOLLOW_UP_PREFIX} " + "; ".join(note["text"] for note in notes)
        try:
            await self.start(
                session_id=session_id, user_id=user_id, text=text,
                state_delta={
                    keys.REVISION: revision,
                    keys.PRODUCER_NOTES: producer_notes.add(state.get(keys.PRODUCER_NOTES), pending),
                },
            )
        except Exception:  # another run started first: the notes wait in the database for it
            log.info("notes %s wait for the next run of %s", [n["id"] for n in notes], session_id, exc_info=True)

    async def _run_team(
        self, run: ActiveRun, recorder: RunRecorder, user_id: str, run_args: dict[str, object]
    ) -> None:
        attempts = 0
        while not run.abort.is_set():  # a run cancelled while queued never starts
            attempts += 1
            recorder.stored_events = 0
            async for event in self.runner.run_async(
                user_id=user_id,
                session_id=run.session_id,
                run_config=RunConfig(streaming_mode=StreamingMode.SSE),
                abort_signal=run.abort,
                **run_args,
            ):
                await recorder.on_event(event)
            # ADK 2.13 resumes an agent cut off right after a tool result, but then stops
            # without going back up to the workflow; resuming once more continues the team.
            resumed = "invocation_id" in run_args
            if not (resumed and attempts < 4 and recorder.stored_events and not run.abort.is_set()):
                return
            await recorder.flush()
            if TEAM_AGENT in recorder.finished_steps or not await self._transferred(run.run_id):
                return

    async def _transferred(self, run_id: str) -> bool:
        async with self.sessionmaker() as db:
            return await ReasoningRepository(db).has_type(run_id, "transfer")

    # -- looking up and cancelling --------------------------------------------------------------

    def active(self, session_id: str) -> ActiveRun | None:
        return self._active.get(session_id)

    async def active_run_id(self, session_id: str) -> str | None:
        """The session's running run, on this instance or (with Redis) on any other."""
        run = self._active.get(session_id)
        if run is not None:
            return run.run_id
        try:
            return _run_id_of(await self.locks.holder(session_id))
        except Exception:
            return None

    async def cancel(self, session_id: str) -> str | None:
        """Stop the session's run promptly, wherever it runs; what it produced so far stays stored.
        Returns the cancelled run's id, or None when nothing was running."""
        run = self._active.get(session_id)
        if run is not None:
            await self._cancel_local(run)
            return run.run_id
        run_id = await self.active_run_id(session_id)
        if run_id is None or self.redis is None:
            return None
        await self.redis.publish(CANCEL_CHANNEL, json.dumps({"session_id": session_id}))
        deadline = asyncio.get_running_loop().time() + self.settings.cancel_grace_seconds + 5
        while asyncio.get_running_loop().time() < deadline:
            if await self.locks.holder(session_id) is None:
                break
            await asyncio.sleep(0.1)
        return run_id

    async def _cancel_local(self, run: ActiveRun) -> None:
        run.abort.set()
        try:
            await asyncio.wait_for(run.done.wait(), timeout=self.settings.cancel_grace_seconds)
        except TimeoutError:
            # ADK checks the abort signal between steps; a step stuck in I/O is cancelled outright.
            if run.task is not None:
                run.task.cancel()
            await run.done.wait()

    async def _listen_for_cancels(self) -> None:
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(CANCEL_CHANNEL, NOTES_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = json.loads(message["data"])
                    channel = message.get("channel")
                    channel = channel.decode() if isinstance(channel, bytes) else channel
                    if channel == NOTES_CHANNEL:
                        self._spawn(self._note_arrived(data))
                        continue
                    run = self._active.get(data.get("session_id"))
                    if run is not None:
                        asyncio.create_task(self._cancel_local(run))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cancel channel lost; retrying", exc_info=True)
                await asyncio.sleep(1)

    async def _note_arrived(self, data: dict[str, Any]) -> None:
        """A note sent to another instance for a run: delivered if the run is ours and still
        takes notes; if it was ours and just ended, its end decides (a follow-up or the next run)."""
        session_id, run_id = data.get("session_id"), data.get("run_id")
        run = self._active.get(session_id)
        if run is not None and run.run_id == run_id and await self._deliver_note(run, data["note_id"], data["text"]):
            return
        if run_id in self._finished or (run is not None and run.run_id == run_id):
            await self._note_missed(session_id, data.get("user_id") or "", run_id)

    def find(self, run_id: str) -> ActiveRun | None:
        for run in self._active.values():
            if run.run_id == run_id:
                return run
        return self._finished.get(run_id)
