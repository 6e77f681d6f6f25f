"""The producer's changes of the state without agents: an edit by hand and an undo. Each decides
its change from the current state (with the rules in edits.py) while the session is claimed, and
`RunManager.change_state` stores it as a run of one state event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agente_films import edits
from agente_films.db.repositories import QuestionRepository, StateRepository
from agente_films.errors import Refused, StaleVersion
from agente_films.runs.manager import ChangeMade, RunManager, StateChange


async def edit_state(
    runs: RunManager, *, session_id: str, user_id: str, changes: dict[str, Any], expected_version: int
) -> ChangeMade:
    """An edit by hand of the keys a person may edit, made on `expected_version` of the state."""

    async def decide(state: dict[str, Any], version: int, _db: AsyncSession) -> StateChange:
        if expected_version != version:
            raise StaleVersion(expected_version, version)
        plan = edits.plan_edit(changes, state, version=version, max_chars=runs.settings.max_state_value_chars)
        return StateChange(
            delta=plan.delta, summary=plan.summary,
            metadata={"changed": plan.changed, "edited_version": version},
            details={"changed": plan.changed},
        )

    return await runs.change_state(session_id=session_id, user_id=user_id, kind="edit", decide=decide)


async def undo_last(runs: RunManager, *, session_id: str, user_id: str) -> ChangeMade:
    """Take back the last revision, regeneration or edit of the current pitch: the pitch returns
    to the state just before it, as a new state version. Nothing stored is deleted: the undone
    run keeps its rows (marked `undone_by`), and its snapshots and documents stay."""

    async def decide(state: dict[str, Any], _version: int, db: AsyncSession) -> StateChange:
        questions = await QuestionRepository(db).for_session(session_id)
        by_question: dict[str | None, list[tuple[int, list[str]]]] = {}
        for version, changed, question_id in await StateRepository(db).changes(session_id):
            by_question.setdefault(question_id, []).append((version, changed))
        history = [
            edits.Change(
                question_id=q.id, text=q.question_text,
                kind="regenerate" if (q.metadata_ or {}).get("stage") else q.kind,
                changed_keys=frozenset(k for _, changed in by_question.get(q.id, []) for k in changed),
                first_version=min((v for v, _ in by_question.get(q.id, [])), default=None),
                undone=bool((q.metadata_ or {}).get("undone_by")),
            )
            for q in questions
        ]
        plan = edits.plan_undo(history)
        restored = await StateRepository(db).get(session_id, plan.restored_version)
        if restored is None:  # its snapshot was never stored (the database failed then): never guess
            raise Refused(409, f"The state before that change (version {plan.restored_version}) is not stored, "
                               "so it cannot be brought back.")
        target = plan.target

        async def mark_undone(write_db: AsyncSession, undo_id: str) -> None:
            await QuestionRepository(write_db).mark(target.question_id, undone_by=undo_id)

        kind = target.kind
        what = {"edit": "the edit by hand", "regenerate": "the regeneration"}.get(kind, "the revision")
        return StateChange(
            delta=edits.undo_delta(state, restored.state_value),
            summary=f"Undid {what}: {target.text}"[:500],
            metadata={"undid": target.question_id, "restored_version": plan.restored_version},
            also=mark_undone,
            details={"undid": target.question_id, "undid_kind": kind, "restored_version": plan.restored_version},
        )

    return await runs.change_state(session_id=session_id, user_id=user_id, kind="undo", decide=decide)
