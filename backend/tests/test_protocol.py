"""The run pipeline's translators on plain ADK events (no database), and the frames of whole runs
checked against the official AG-UI models and the stock client's verifier; history rebuilt from
stored rows reads like the live stream."""

from __future__ import annotations

import json
from pathlib import Path

import ag_ui.core as agui
import pytest
from google.adk.events import Event, EventActions
from google.genai import types

from agente_films import protocol as p
from agente_films.runs.facts import decode
from agente_films.runs.frames import FrameTranslator
from agente_films.runs.rows import RunRows
from agente_films.runs.timeline import session_timeline
from agente_films.runs.track import RunTrack
from agente_films.studio import Studio
from tests.conftest import agui_verify, make_settings

AGUI_CLASSES = {
    cls.model_fields["type"].default.value if hasattr(cls.model_fields["type"].default, "value") else None: cls
    for cls in (
        agui.RunStartedEvent, agui.RunFinishedEvent, agui.RunErrorEvent, agui.StepStartedEvent,
        agui.StepFinishedEvent, agui.TextMessageStartEvent, agui.TextMessageContentEvent,
        agui.TextMessageEndEvent, agui.ToolCallStartEvent, agui.ToolCallArgsEvent, agui.ToolCallEndEvent,
        agui.ToolCallResultEvent, agui.StateSnapshotEvent, agui.StateDeltaEvent, agui.CustomEvent,
    )
}


def dumped(frames: list) -> list[dict]:
    return [p.dump(f) for f in frames]


def text_event(author: str, text: str, *, event_id: str = "e1", partial: bool = False, **actions: object) -> Event:
    return Event(
        id=event_id,
        invocation_id="inv",
        author=author,
        partial=partial,
        content=types.Content(role="model", parts=[types.Part(text=text)]),
        actions=EventActions(**actions),
    )


def call_event(author: str, name: str, args: dict, call_id: str = "c1") -> Event:
    return Event(
        id=f"ev-{call_id}",
        invocation_id="inv",
        author=author,
        content=types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(id=call_id, name=name, args=args))]),
    )


def result_event(author: str, name: str, response: dict, call_id: str = "c1", **actions: object) -> Event:
    return Event(
        id=f"res-{call_id}",
        invocation_id="inv",
        author=author,
        content=types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(id=call_id, name=name, response=response))]),
        actions=EventActions(**actions),
    )


def translator() -> FrameTranslator:
    return FrameTranslator(session_id="s1", run_id="r1", track=RunTrack())


def test_streamed_text_opens_once_streams_and_closes_without_repeating_itself() -> None:
    frames = translator()
    out = frames.partial(decode(text_event("screenwriter", "Once ", partial=True)))
    out += frames.partial(decode(text_event("screenwriter", "upon", partial=True)))
    out += frames.stored(decode(text_event("screenwriter", "Once upon")))
    assert [f["type"] for f in dumped(out)] == [
        "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
    ]
    assert "".join(f.get("delta", "") for f in dumped(out)) == "Once upon"
    # An event that was never streamed comes whole.
    whole = dumped(frames.stored(decode(text_event("critic", "Approved.", event_id="e2"))))
    assert [f["type"] for f in whole] == ["TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END"]
    assert all(f["runId"] == "r1" for f in whole) and whole[1]["agent"] == "critic"


def test_tool_calls_state_documents_and_loop_exits_become_their_frames() -> None:
    track = RunTrack(state_version=6)
    frames = FrameTranslator(session_id="s1", run_id="r1", track=track)
    call = dumped(frames.stored(decode(call_event("researcher", "wikipedia_search", {"query": "Ada"}))))
    assert [f["type"] for f in call] == ["TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END"]
    assert json.loads(call[1]["delta"]) == {"query": "Ada"} and call[0]["toolCallName"] == "wikipedia_search"
    track.state_version = 7
    result = dumped(frames.stored(decode(result_event(
        "file_writer", "save_pitch_document", {"status": "saved"}, state_delta={"x": 1},
        artifact_delta={"ada.md": 2}, escalate=True,
    ))))
    assert [f["type"] for f in result] == ["TOOL_CALL_RESULT", "STATE_DELTA", "CUSTOM", "CUSTOM"]
    assert result[1]["delta"] == [{"op": "add", "path": "/x", "value": 1}] and result[1]["version"] == 7
    assert result[2]["name"] == "artifact_saved"
    assert result[2]["value"]["markdownUrl"] == "/api/v1/sessions/s1/pitches/ada.md?version=2&format=markdown"
    assert result[3]["name"] == "loop_exit"
    for frame in call + result:
        p.run_frame_adapter.validate_python(frame)
        AGUI_CLASSES[frame["type"]].model_validate(frame)


def test_a_run_ends_with_everything_closed_and_the_outcome_ag_ui_knows() -> None:
    frames = translator()
    frames.partial(decode(text_event("critic", "half a", partial=True)))
    cancelled = dumped(frames.run_finished("cancelled", None, state={"PROMPT": "Ada"}))
    assert [f["type"] for f in cancelled] == ["TEXT_MESSAGE_END", "STATE_SNAPSHOT", "RUN_FINISHED"]
    assert cancelled[-1]["outcome"] == {"type": "cancelled"} and cancelled[-1]["result"]["status"] == "cancelled"
    failed = dumped(translator().run_finished("failed", "RateLimitError (HTTP 429): slow down", state=None, resumable=True))
    assert failed[-1]["type"] == "RUN_ERROR" and failed[-1]["code"] == "run_failed" and failed[-1]["resumable"]
    assert "HTTP 429" in failed[-1]["message"] and "RateLimitError" not in failed[-1]["message"]
    done = translator()
    done.track.prompt_tokens, done.track.completion_tokens = 120, 30
    finished = dumped(done.run_finished("completed", None, state={}))[-1]
    assert finished["outcome"] == {"type": "success"}
    assert finished["usage"] == [{"inputTokens": 120, "outputTokens": 30, "totalTokens": 150}]
    for frame in cancelled + failed + [finished]:
        AGUI_CLASSES[frame["type"]].model_validate(frame)


def test_rows_plan_the_domain_rules_without_a_database() -> None:
    rows = RunRows(project_id=None)
    track = RunTrack(state_version=3)
    plan = rows.plan(decode(result_event("greeter", "append_to_state", {"status": "ok"}, state_delta={"PROMPT": "Ada Lovelace"})), track, {"PROMPT": "Ada Lovelace"})
    assert plan.new_project is not None and plan.new_project["subject"] == "Ada Lovelace"
    assert plan.invocation_id == "inv" and plan.snapshot["version"] == 3 and plan.snapshot["changed_keys"] == ["PROMPT"]
    assert plan.reasoning[0]["reasoning_type"] == "tool_result"
    outline = "**Title:** The Engine\n**Logline:** ..."
    plan = rows.plan(decode(text_event("screenwriter", "draft", state_delta={"PLOT_OUTLINE": outline})), track, {})
    assert plan.project_title == "The Engine" and plan.project_id == rows.project_id and plan.invocation_id is None
    assert plan.answer is not None and plan.answer["answer_text"] == "draft"
    transfer = rows.plan(decode(call_event("greeter", "transfer_to_agent", {"agent_name": "film_concept_team"})), track, {})
    assert transfer.reasoning[0] == {
        "reasoning_type": "transfer",
        "reasoning_text": "greeter hands over to film_concept_team",
        "tool_calls": {"id": "c1", "name": "transfer_to_agent", "args": {"agent_name": "film_concept_team"}},
    }
    assert transfer.event_row["event_type"] == "tool_call"


@pytest.fixture
async def studio(database_url: str, tmp_path: Path):
    studio = await Studio.open(make_settings(database_url, tmp_path))
    yield studio
    await studio.close()


def merged(frames: list[dict]) -> list[tuple]:
    """A run's frames without transport detail (seq, time) and with streamed text joined, so
    that a live run and its history compare."""
    out: list[tuple] = []
    text: dict[str, str] = {}
    for f in frames:
        kind = f["type"]
        if kind == "TEXT_MESSAGE_CONTENT":
            text[f["messageId"]] = text.get(f["messageId"], "") + f["delta"]
            continue
        if kind == "TEXT_MESSAGE_END":
            out.append(("TEXT", f["messageId"], text.pop(f["messageId"], "")))
            continue
        if kind in ("STATE_SNAPSHOT", "TEXT_MESSAGE_START"):
            continue  # live also sends the state at the start; a message counts where it ends
        key = f.get("stepName") or f.get("toolCallId") or f.get("name") or ""
        out.append((kind, key, f.get("iteration"), f.get("agent")))
    return out


async def test_a_whole_run_is_valid_ag_ui_and_its_history_reads_like_the_live_stream(studio: Studio) -> None:
    row = await studio.create_session("local")
    run = await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
    await run.done.wait()
    live = [f async for f in _until_end(studio, row.id)]
    assert live[0]["type"] == "RUN_STARTED" and live[0]["protocolVersion"] == p.PROTOCOL_VERSION
    assert live[1]["type"] == "STATE_SNAPSHOT" and live[-2]["type"] == "STATE_SNAPSHOT"
    assert live[-1]["type"] == "RUN_FINISHED" and live[-1]["usage"][0]["inputTokens"] > 0
    for frame in live:
        p.run_frame_adapter.validate_python(frame)
        AGUI_CLASSES[frame["type"]].model_validate(frame)
    report = agui_verify(live)
    assert report["ok"], report

    events = await studio.adk_events(row)
    async with studio.sessionmaker() as db:
        timeline = await session_timeline(db, row.id, events)
    [history] = timeline.runs
    replayed = dumped(history.frames)
    assert agui_verify(replayed)["ok"]
    assert merged(replayed) == merged(live)
    rounds = {f["iteration"] for f in replayed if f["type"] == "STEP_STARTED" and f["stepName"] == "critic"}
    assert rounds == {1, 2}, "the rounds come from the stored steps, not from a guess"


async def _until_end(studio: Studio, session_id: str):
    async for frame in studio.bus.subscribe(session_id, 0, None):
        yield frame
        if frame.get("type") in p.TERMINAL_TYPES:
            return
