"""Branch a session: a new session holding exactly what the source had up to one state snapshot
version (given as a version, or as the end of a writers' room round), which then goes its own
way while the source stays exactly as it was.

Three stores are copied, each through its own public door:
- ADK's session: `create_session` and `append_event` of a copy of each stored event up to the
  event that produced the cut version (same ids: our rows point at them). `app:`/`user:` keys
  are shared by every session and `temp:` keys are never stored, so they are left out of the
  copied deltas; producer's note ids that are note rows get the branch's new row ids. Then one
  content-less event by the producer closes the branch point (see `_copy_adk_session`);
- the pitch documents (ADK artifacts) that the copied events saved, version by version, so that
  the branch's version numbers are the source's;
- our rows, in one transaction, with new ids and foreign keys pointing at the copies. Rows of ADK
  events are copied when their event is; the rest (steps, usage, notes, runs, projects) when they
  were written no later than the cut event's row ("order by created_at, id" is event order).
  What later runs wrote over earlier rows (a note's status, a project's title, an undo mark) is
  taken as it was at the cut. The run the cut falls inside becomes `cancelled`.

If anything fails once ADK's session exists, the ADK session and the documents are deleted again:
no half-made branch is left.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.adk.events import Event
from sqlalchemy import inspect as orm_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agente_films import notes as producer_notes
from agente_films import state_keys as keys
from agente_films.agents.team import APP_NAME
from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import as_utc
from agente_films.db.tables import (
    AgentEvent,
    Answer,
    Base,
    FilmProject,
    InferentialReasoning,
    LlmUsage,
    Question,
    SessionState,
    StudioSession,
    new_id,
    utcnow,
)
from agente_films.errors import Refused, RunInProgress
from agente_films.runs.rows import title_from_outline
from agente_films.studio import Studio
from agente_films.text import plain_text_problem

log = logging.getLogger(__name__)

# State keys ADK shares between sessions (`app:`, `user:`) or never stores (`temp:`): a branch
# must not write the first (it would overwrite what other sessions see) and cannot have the last.
SHARED_PREFIXES = ("app:", "user:", "temp:")
STEP_TYPES = ("agent_start", "agent_end")

RowKey = tuple[datetime, str]


@dataclass(frozen=True)
class BranchRequest:
    """Where to branch (exactly one of `from_version` and `from_round`; `run_id` names the run of
    `from_round`, by default the latest that had it) and the branch's title, if the person gave one."""

    from_version: int | None = None
    from_round: int | None = None
    run_id: str | None = None
    title: str | None = None


def _key(row: Any) -> RowKey:
    return (as_utc(row.created_at), row.id)  # type: ignore[return-value]


# -- where versions fall in writers' room rounds ------------------------------------------------


def version_rounds(steps: Iterable[AgentEvent], snapshots: Iterable[Any]) -> dict[int, int]:
    """State version -> the writers' room round of its run that produced it (versions made
    outside the loop are absent). A round begins when an agent of the loop starts with that
    `iteration` (the step rows, see runs/track.py StepFacts) and lasts until the next round or
    the loop's end; snapshots are placed among the step rows by "created_at, id"."""
    rows = sorted([*steps, *snapshots], key=_key)
    current: dict[str | None, int | None] = {}
    rounds: dict[int, int] = {}
    for row in rows:
        if isinstance(row, AgentEvent):
            data = row.event_data or {}
            if row.event_type == "agent_start" and data.get("iteration") is not None:
                current[row.question_id] = int(data["iteration"])
            elif row.event_type == "agent_end" and data.get("agentKind") == "loop":
                current[row.question_id] = None
        elif (round_ := current.get(row.question_id)) is not None:
            rounds[row.version] = round_
    return rounds


# -- reading the source ---------------------------------------------------------------------------


@dataclass
class Source:
    """Everything stored of the source session, in event order per table."""

    projects: Sequence[FilmProject]
    questions: Sequence[Question]
    answers: Sequence[Answer]
    reasoning: Sequence[InferentialReasoning]
    snapshots: Sequence[SessionState]
    agent_events: Sequence[AgentEvent]
    usage: Sequence[LlmUsage]

    @classmethod
    async def read(cls, db: AsyncSession, session_id: str) -> Source:
        async def rows(table: type[Any]) -> Sequence[Any]:
            result = await db.scalars(
                select(table).where(table.session_id == session_id).order_by(table.created_at, table.id)
            )
            return result.all()

        return cls(
            projects=await rows(FilmProject),
            questions=await rows(Question),
            answers=await rows(Answer),
            reasoning=await rows(InferentialReasoning),
            snapshots=sorted(await rows(SessionState), key=lambda s: s.version),
            agent_events=await rows(AgentEvent),
            usage=await rows(LlmUsage),
        )


@dataclass(frozen=True)
class Cut:
    version: int
    round: int | None
    run_id: str | None  # the source's run that produced the cut version
    events: int  # how many of the source's ADK events are copied (a prefix)
    boundary: RowKey  # the last row written for the cut event


def check_point(point: BranchRequest) -> None:
    if (point.from_version is None) == (point.from_round is None):
        raise Refused(422, "Give exactly one of from_version (a state version) and from_round "
                                 "(a writers' room round, optionally with run_id).")
    if point.run_id is not None and point.from_round is None:
        raise Refused(422, "run_id names the run of from_round; a state version (from_version) "
                                 "needs no run.")
    problem = plain_text_problem(point.title) if point.title else None
    if problem:
        raise Refused(422, f"The title {problem}.")


def resolve_cut(point: BranchRequest, source: Source, events: Sequence[Event]) -> Cut:
    """The snapshot version a (checked) branch point names, and where it cuts the events and rows."""
    steps = [e for e in source.agent_events if e.event_type in STEP_TYPES]
    rounds = version_rounds(steps, source.snapshots)
    if point.from_version is not None:
        version = point.from_version
        if not any(s.version == version for s in source.snapshots):
            latest = max((s.version for s in source.snapshots), default=0)
            known = f"it has versions 1 to {latest}" if latest else "it has no state versions yet"
            raise Refused(404, f"State version {version} not found in this session ({known}).")
        round_ = rounds.get(version)
    else:
        version, round_ = _end_of_round(point, source, rounds)
    snapshot = next(s for s in source.snapshots if s.version == version)
    ids = [event.id for event in events]
    if snapshot.event_id and snapshot.event_id in ids:
        last = ids.index(snapshot.event_id)
    else:
        # A snapshot stored without its event id: the last event whose row is not later than it.
        rows_at = {e.event_id: _key(e) for e in source.agent_events}
        earlier = [i for i, event_id in enumerate(ids) if event_id in rows_at and rows_at[event_id] <= _key(snapshot)]
        if not earlier:
            raise Refused(409, f"State version {version} cannot be matched to a stored event; "
                                     "branch from another version.")
        last = earlier[-1]
    cut_event = ids[last]
    boundary = max([_key(snapshot), *(_key(e) for e in source.agent_events if e.event_id == cut_event)])
    return Cut(version=version, round=round_, run_id=snapshot.question_id, events=last + 1, boundary=boundary)


def _end_of_round(point: BranchRequest, source: Source, rounds: dict[int, int]) -> tuple[int, int]:
    """The last state version of writers' room round `from_round` of `run_id` (by default the
    latest run that had that round)."""
    wanted = int(point.from_round or 0)
    run_of = {s.version: s.question_id for s in source.snapshots}
    by_run: dict[str, dict[int, int]] = {}  # run -> round -> its last version
    for version, round_ in sorted(rounds.items()):
        run_id = run_of.get(version)
        if run_id is not None:
            by_run.setdefault(run_id, {})[round_] = version
    runs = [q.id for q in source.questions if q.kind != "note"]
    if point.run_id is not None:
        if point.run_id not in runs:
            raise Refused(404, f"Run {point.run_id} not found in this session.")
        found = by_run.get(point.run_id, {})
        if wanted not in found:
            had = _listed(found) or "no writers' room rounds"
            raise Refused(422, f"Run {point.run_id} has no round {wanted}; it has {had}.")
        return found[wanted], wanted
    for run_id in reversed(runs):
        if wanted in by_run.get(run_id, {}):
            return by_run[run_id][wanted], wanted
    had = "; ".join(f"run {run_id}: {_listed(by_run[run_id])}" for run_id in runs if run_id in by_run)
    raise Refused(422, f"No run of this session has a writers' room round {wanted}"
                             f"{'; the rounds that exist are ' + had if had else ' (it has had no rounds yet)'}.")


def _listed(found: dict[int, int]) -> str:
    numbers = sorted(found)
    if not numbers:
        return ""
    return f"round {numbers[0]}" if len(numbers) == 1 else "rounds " + ", ".join(str(n) for n in numbers)


# -- planning the copy -----------------------------------------------------------------------------


def _clone(row: Base, **changes: Any) -> Any:
    """A new row of the same table with the same column values, but `changes`."""
    mapper = orm_inspect(type(row))
    values = {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}
    values.update(changes)
    return type(row)(**values)


def _remap_notes(value: Any, note_ids: dict[str, str]) -> Any:
    """A producer_notes value with note-row ids replaced by the branch's (other ids, e.g. a
    revision's note made by the greeter, have no row and stay)."""
    if not isinstance(value, list):
        return value
    return [
        {**note, "id": note_ids.get(str(note.get("id")), note.get("id"))} if isinstance(note, dict) else note
        for note in value
    ]


def _remap_state(state: dict[str, Any], note_ids: dict[str, str]) -> dict[str, Any]:
    if keys.PRODUCER_NOTES not in state:
        return state
    return {**state, keys.PRODUCER_NOTES: _remap_notes(state[keys.PRODUCER_NOTES], note_ids)}


def _private(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if not k.startswith(SHARED_PREFIXES)}


def copy_event(event: Event, note_ids: dict[str, str]) -> Event:
    """A copy of a stored ADK event for the branch: same id and content, its own state delta."""
    copied = event.model_copy(deep=True)
    delta = copied.actions.state_delta or {}
    if delta:
        copied.actions.state_delta = _remap_state(_private(dict(delta)), note_ids)
    return copied


@dataclass
class Copy:
    """The branch's rows, with new ids, in the order they are inserted."""

    projects: list[FilmProject] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    rest: list[Any] = field(default_factory=list)  # reasoning, snapshots, agent events, usage
    note_ids: dict[str, str] = field(default_factory=dict)
    status: str = "idle"


def plan_copy(source: Source, cut: Cut, events: Sequence[Event], branch_id: str) -> Copy:
    all_events = {event.id for event in events}
    copied_events = {event.id for event in events[: cut.events]}

    def in_cut(row: Any) -> bool:
        event_id = getattr(row, "event_id", None)
        if event_id is not None and event_id in all_events:
            return event_id in copied_events
        return _key(row) <= cut.boundary

    # New ids in the source's order across all tables, so "order by created_at, id" stays the
    # event order in the branch even where two rows share a timestamp.
    kept: list[Any] = sorted(
        [
            *(p for p in source.projects if in_cut(p)),
            *(q for q in source.questions if in_cut(q)),
            *(a for a in source.answers if in_cut(a)),
            *(r for r in source.reasoning if in_cut(r)),
            *(s for s in source.snapshots if s.version <= cut.version),
            *(e for e in source.agent_events if in_cut(e)),
            *(u for u in source.usage if in_cut(u)),
        ],
        key=_key,
    )
    ids = {row.id: new_id() for row in kept}
    copied_runs = {ids[q.id] for q in source.questions if q.id in ids}
    note_ids = {q.id: ids[q.id] for q in source.questions if q.kind == "note" and q.id in ids}
    snapshots = [s for s in kept if isinstance(s, SessionState)]
    cut_state = next((s.state_value for s in snapshots if s.version == cut.version), {})
    notes_at_cut = {str(n["id"]): n for n in producer_notes.as_notes(cut_state.get(keys.PRODUCER_NOTES))}
    projects = [p for p in kept if isinstance(p, FilmProject)]

    def project_at(project_id: str | None, at: RowKey) -> str | None:
        """The branch's copy of a project; a project made after the cut (set on a run that had
        started before it) gives way to the one that was current then."""
        if project_id in ids:
            return ids[project_id]
        current = [p for p in projects if _key(p) <= at]
        return ids[current[-1].id] if current else None

    plan = Copy(note_ids=note_ids)
    for project in _projects_at_cut(projects, kept):
        plan.projects.append(_clone(project, id=ids[project.id], session_id=branch_id, updated_at=utcnow()))
    last_run = None
    for row in kept:
        if isinstance(row, Question):
            question = _question_at_cut(row, ids, notes_at_cut, projects, branch_id)
            question.project_id = project_at(row.project_id, _key(row))
            plan.questions.append(question)
            if row.kind != "note":
                last_run = (row, question)
        elif isinstance(row, Answer):
            plan.answers.append(_clone(
                row, id=ids[row.id], session_id=branch_id, question_id=ids.get(row.question_id),
                project_id=project_at(row.project_id, _key(row)),
            ))
        elif isinstance(row, InferentialReasoning):
            plan.rest.append(_clone(
                row, id=ids[row.id], session_id=branch_id, question_id=ids.get(row.question_id),
                # Linked to an answer that came after the cut: it explains the question again.
                answer_id=ids.get(row.answer_id) if row.answer_id else None,
            ))
        elif isinstance(row, SessionState):
            plan.rest.append(_clone(
                row, id=ids[row.id], session_id=branch_id,
                question_id=ids.get(row.question_id) if row.question_id else None,
                state_value=_remap_state(dict(row.state_value or {}), note_ids),
            ))
        elif isinstance(row, AgentEvent):
            plan.rest.append(_clone(
                row, id=ids[row.id], session_id=branch_id,
                question_id=ids.get(row.question_id) if row.question_id else None,
                event_id=_run_scoped(row.event_id, row.question_id, ids),
            ))
        elif isinstance(row, LlmUsage):
            plan.rest.append(_clone(
                row, id=ids[row.id], session_id=branch_id,
                question_id=ids.get(row.question_id) if row.question_id else None,
            ))
    # Rows of runs that were not copied (none should be): they would break their foreign keys.
    plan.answers = [a for a in plan.answers if a.question_id in copied_runs]
    plan.rest = [
        r for r in plan.rest
        if r.question_id in copied_runs or (r.question_id is None and not isinstance(r, InferentialReasoning))
    ]
    if last_run is not None:
        plan.status = _end_cut_run(last_run, source, cut)
    return plan


def _run_scoped(event_id: str, run_id: str | None, ids: dict[str, str]) -> str:
    """Our own rows' event ids carry their run's id (step-<run>-<ms>, run-<run>): the branch's."""
    if run_id and run_id in ids and event_id.startswith(("step-", "run-")):
        return event_id.replace(run_id, ids[run_id], 1)
    return event_id


def _question_at_cut(
    row: Question, ids: dict[str, str], notes_at_cut: dict[str, dict[str, Any]],
    projects: Sequence[FilmProject], branch_id: str,
) -> Question:
    meta = dict(row.metadata_ or {})
    for key in ("run_id", "undid"):  # the run a note was said to; the run an undo took back
        if meta.get(key) in ids:
            meta[key] = ids[meta[key]]
    if "undone_by" in meta:
        if meta["undone_by"] in ids:
            meta["undone_by"] = ids[meta["undone_by"]]
        else:
            del meta["undone_by"]  # undone after the cut: not in the branch
    question = _clone(row, id=ids[row.id], session_id=branch_id, metadata_=meta)
    if row.kind == "note":
        note = notes_at_cut.get(row.id)
        if note is not None:  # as QuestionRepository.update_notes keeps note rows
            question.note_status = note["status"]
            meta.update({"round": note.get("round"), "revision": note.get("revision"),
                         "addressed": note.get("addressed"), "verdict": note.get("verdict") or ""})
        else:
            for stale in ("round", "addressed", "verdict"):
                meta.pop(stale, None)
            # Not in the state yet at the cut: it waits for the branch's next run, unless it was
            # dropped because the session had moved on to another film before the cut.
            moved_on = any(_key(p) > _key(row) for p in projects)
            question.note_status = "dropped" if row.note_status == "dropped" and moved_on else "pending"
        question.metadata_ = meta
    return question


def _projects_at_cut(projects: Sequence[FilmProject], kept: Sequence[Any]) -> list[FilmProject]:
    """The projects as they were at the cut: titled by their latest outline then, pitched if a
    document of theirs was saved by then (later runs may have changed both in the source)."""
    at_cut = []
    for project in projects:
        at_cut.append(_clone(project, title=project.subject[:300], status="developing", document=None))
    current: FilmProject | None = None
    by_id = {p.id: p for p in at_cut}
    for row in kept:
        if isinstance(row, FilmProject):
            current = by_id[row.id]
        elif current is None:
            continue
        elif isinstance(row, SessionState) and keys.PLOT_OUTLINE in (row.changed_keys or []):
            title = title_from_outline(str((row.state_value or {}).get(keys.PLOT_OUTLINE) or ""))
            if title:
                current.title = title
        elif isinstance(row, AgentEvent) and (row.event_data or {}).get("artifact_delta"):
            current.status, current.document = "pitched", next(iter(row.event_data["artifact_delta"]))
    return at_cut


def _end_cut_run(last_run: tuple[Question, Question], source: Source, cut: Cut) -> str:
    """The last copied run: if the cut falls inside it (it wrote rows after the cut), it becomes
    a cancelled run of the branch; if it had finished by then, it keeps its status. Returns the
    branch's status."""
    original, question = last_run
    later = [
        row for row in (*source.agent_events, *source.usage, *source.snapshots)
        if row.question_id == original.id and _key(row) > cut.boundary
    ]
    if not later and original.run_status != "running":
        return "completed" if original.run_status == "completed" else "idle"
    where = f"round {cut.round}" if cut.round is not None else f"state version {cut.version}"
    question.run_status = "cancelled"
    question.run_error = f"The branch starts at {where} of this run."
    question.finished_at = cut.boundary[0]
    question.metadata_ = {
        **(question.metadata_ or {}),
        "branched_at": {"version": cut.version, "round": cut.round, "source_run_id": original.id},
    }
    return "idle"


# -- making the branch -----------------------------------------------------------------------------


async def branch_session(studio: Studio, row: StudioSession, point: BranchRequest) -> StudioSession:
    """A new session of the same user holding what `row` had up to the branch point; `row` is
    left exactly as it was. Raises Refused (4xx) or RunInProgress (409)."""
    check_point(point)
    running = await studio.runs.active_run_id(row.id)
    if running is not None:
        raise RunInProgress(running, "The team is working in this session; branch it once the run "
                                     "finishes or is cancelled.")
    events = await studio.adk_events(row)
    async with studio.sessionmaker() as db:
        source = await Source.read(db, row.id)
    cut = resolve_cut(point, source, events)
    limit = studio.settings.max_branch_events
    if cut.events > limit:
        raise Refused(413, f"A branch at version {cut.version} would copy {cut.events} events; "
                                 f"at most {limit} can be copied (MAX_BRANCH_EVENTS). Branch from an "
                                 "earlier version.")
    branch_id = str(uuid.uuid4())
    plan = plan_copy(source, cut, events, branch_id)
    branch_point = {"version": cut.version, "round": cut.round, "run_id": cut.run_id, "events": cut.events}
    scope = {"app_name": APP_NAME, "user_id": row.user_id}
    try:
        closing = await _copy_adk_session(studio, scope, branch_id, events[: cut.events], plan.note_ids, cut, source,
                                          {"session_id": row.id, **branch_point})
        await _copy_documents(studio, scope, row.id, branch_id, events[: cut.events])
        async with studio.sessionmaker.begin() as db:
            # Held until the commit: the source cannot be deleted under the copy.
            await SessionRepository(db).lock(row.id)
            fresh = await SessionRepository(db).get(row.id, row.user_id)
            if fresh is None:
                raise Refused(404, f"Session {row.id} not found (it may have been deleted).")
            title = (point.title or "").strip()
            branch = StudioSession(
                id=branch_id, user_id=row.user_id, model=fresh.model, status=plan.status,
                title=title or f"{fresh.title} (branch)"[:200],
                title_set_by_user=bool(title) or fresh.title_set_by_user,
                parent_id=row.id, branch_point=branch_point,
            )
            marker = AgentEvent(
                id=new_id(), session_id=branch_id, question_id=None, event_id=closing.id,
                invocation_id=closing.invocation_id, agent_name=closing.author, event_type="branch",
                event_data={"branched_from": {"session_id": row.id, **branch_point}}, created_at=utcnow(),
            )
            # Parents before children: SQLite checks the foreign keys row by row.
            for rows in ([branch], plan.projects, plan.questions, plan.answers, [*plan.rest, marker]):
                db.add_all(rows)
                await db.flush()
    except BaseException:
        await _discard(studio, scope, branch_id)
        raise
    return branch


async def _copy_adk_session(
    studio: Studio, scope: dict[str, str], branch_id: str, events: Sequence[Event], note_ids: dict[str, str],
    cut: Cut, source: Source, branched_from: dict[str, Any],
) -> Event:
    """ADK's session of the branch: the copied events, then one closing event. Returns that one."""
    # Outside a run, BatchingSessionService is ADK's DatabaseSessionService: each append is its
    # own transaction (ADK's public door; a few ms an event).
    session = await studio.session_service.create_session(**scope, session_id=branch_id)
    for event in events:
        await studio.session_service.append_event(session, copy_event(event, note_ids))
    snapshot = next(s for s in source.snapshots if s.version == cut.version)
    expected = _private(_remap_state(dict(snapshot.state_value or {}), note_ids))
    if _private(dict(session.state)) != expected:
        # Not refused: the branch holds every event, so its state is what ADK makes of them.
        differing = sorted(k for k in {*expected, *session.state} if expected.get(k) != session.state.get(k))
        log.warning("branch %s: ADK state differs from snapshot %d in %s", branch_id, cut.version, differing)
    # The cut event often answers a tool call (a state tool's result). A resumable app routes the
    # next message to the agent whose call the last event answers (ADK's agent router), so the
    # branch's next message would go to, say, the critic mid-round instead of the greeter. An
    # event after it, by the producer (outside the agent tree: the router passes over it, and
    # with no content no model sees it), closes the branch point, as the producer's edits do.
    closing = Event(
        author=keys.PRODUCER, invocation_id="", custom_metadata={"branched_from": branched_from},
    )
    await studio.session_service.append_event(session, closing)
    return closing


async def _copy_documents(
    studio: Studio, scope: dict[str, str], source_id: str, branch_id: str, events: Sequence[Event]
) -> None:
    """The documents the copied events saved, every version up to the last one saved by then,
    saved again in version order so that the branch's numbers are the source's."""
    saved: dict[str, int] = {}
    for event in events:
        for filename, version in (event.actions.artifact_delta or {}).items():
            if not filename.startswith("user:"):  # user-scoped: shared by every session already
                saved[filename] = max(int(version), saved.get(filename, -1))
    artifacts = studio.artifact_service
    for filename, last in saved.items():
        versions = await artifacts.list_versions(**scope, session_id=source_id, filename=filename)
        for version in sorted(v for v in versions if v <= last):
            part = await artifacts.load_artifact(**scope, session_id=source_id, filename=filename, version=version)
            meta = await artifacts.get_artifact_version(
                **scope, session_id=source_id, filename=filename, version=version
            )
            if part is None:
                continue
            copied = await artifacts.save_artifact(
                **scope, session_id=branch_id, filename=filename, artifact=part,
                custom_metadata=dict(meta.custom_metadata) if meta else None,
            )
            if copied != version:
                # The source's versions have a gap (a save killed half-way keeps its number):
                # the copied events would name the wrong versions.
                raise Refused(409, f"Document {filename!r} is missing versions before {version} (a save "
                                   "was interrupted), so its versions cannot be copied as they are; "
                                   "branch from a version after the next save.")


async def _discard(studio: Studio, scope: dict[str, str], branch_id: str) -> None:
    """Undo a branch that could not be finished: its ADK session and its documents."""
    try:
        await studio.session_service.delete_session(**scope, session_id=branch_id)
        for filename in await studio.artifact_service.list_artifact_keys(**scope, session_id=branch_id):
            if not filename.startswith("user:"):  # listed with every session's, but the user's own
                await studio.artifact_service.delete_artifact(**scope, session_id=branch_id, filename=filename)
    except Exception:
        log.exception("could not clean up the unfinished branch %s", branch_id)
