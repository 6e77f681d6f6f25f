"""The real-LLM path: ADK's LiteLlm against an OpenAI-compatible endpoint mocked with respx.

Streamed text, a streamed tool call (arguments split across chunks), an HTTP 500 and a timeout;
after a failure the session stays usable.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import httpx
import pytest
import respx

from agente_films.db.repositories import AnswerRepository, QuestionRepository, ReasoningRepository, StateRepository
from agente_films.models import make_model_resolver
from agente_films.models.offline import OfflineLlm
from agente_films.runs.producer_changes import edit_state
from agente_films.studio import Studio
from tests.conftest import agui_verify, make_settings

# respx sees httpx only; LiteLLM otherwise talks through aiohttp (see ADK_NOTES.md).
os.environ["DISABLE_AIOHTTP_TRANSPORT"] = "True"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

API_BASE = "http://llm.test/v1"
COMPLETIONS = f"{API_BASE}/chat/completions"


def sse(*deltas: dict, finish: str = "stop") -> httpx.Response:
    chunks = [
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        for delta in deltas
    ]
    chunks.append({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


def text_stream(*pieces: str) -> httpx.Response:
    return sse({"role": "assistant", "content": pieces[0]}, *({"content": p} for p in pieces[1:]))


@pytest.fixture
async def studio(tmp_path: Path):
    import litellm

    litellm.in_memory_llm_clients_cache.flush_cache()
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/llm.db",
        tmp_path,
        llm_model="openai/gpt-4o-mini",
        litellm_api_key="sk-test",
        llm_max_retries=0,
        llm_timeout_seconds=2,
    )
    # Point every agent at the mocked endpoint (what LITELLM_BASE_URL does for a proxy).
    settings.litellm_base_url = API_BASE
    studio = await Studio.open(settings)
    yield studio
    await studio.close()


async def latest_version(studio: Studio, session_id: str) -> int:
    async with studio.sessionmaker() as db:
        return await StateRepository(db).latest_version(session_id)


async def send(studio: Studio, session_id: str, text: str) -> tuple[str, list[dict]]:
    run = await studio.runs.start(session_id=session_id, user_id="local", text=text)
    await run.done.wait()
    frames = []
    async for frame in studio.bus.subscribe(session_id, 0, None):
        if frame.get("runId") == run.run_id:
            frames.append(frame)
            if frame["type"] in ("RUN_FINISHED", "RUN_ERROR"):
                break
    return run.run_id, frames


async def test_streamed_text_arrives_in_chunks_and_is_stored_whole(studio: Studio) -> None:
    row = await studio.create_session("local")
    with respx.mock(assert_all_mocked=True) as router:
        route = router.post(COMPLETIONS).mock(return_value=text_stream("Welcome to ", "Agente ", "Films! Who ", "inspires you?"))
        run_id, frames = await send(studio, row.id, "hello")
    request = json.loads(route.calls[0].request.content)
    assert request["model"] == "gpt-4o-mini" and request["stream"] is True
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test"
    chunks = [f["delta"] for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT"]
    assert chunks == ["Welcome to ", "Agente ", "Films! Who ", "inspires you?"]
    async with studio.sessionmaker() as db:
        answers = await AnswerRepository(db).for_question(run_id)
    assert [(a.agent_name, a.answer_text) for a in answers] == [("greeter", "Welcome to Agente Films! Who inspires you?")]
    assert frames[-1]["type"] == "RUN_FINISHED"


def tool_call(call_id: str, name: str, args: dict, split: bool = False) -> httpx.Response:
    """A streamed tool call; `split`: its arguments come in two chunks."""
    text = json.dumps(args)
    pieces = [text[: len(text) // 2], text[len(text) // 2 :]] if split else [text]
    return sse(
        {"role": "assistant", "tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                             "function": {"name": name, "arguments": ""}}]},
        *({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in pieces),
        finish="tool_calls",
    )


async def test_streamed_tool_call_with_split_arguments_runs_the_tool(studio: Studio) -> None:
    row = await studio.create_session("local")

    def reply(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        if messages[-1]["role"] == "tool":
            return text_stream("Sorry, I could not brief the team.")
        # An unknown intent: the tool refuses it, so the greeter answers instead of handing over.
        return tool_call("call_1", "brief_team", {"intent": "sequel", "subject": "Ada Lovelace"}, split=True)

    with respx.mock(assert_all_mocked=True) as router:
        route = router.post(COMPLETIONS).mock(side_effect=reply)
        run_id, frames = await send(studio, row.id, "Ada Lovelace please")
    assert route.call_count == 2
    tools = {t["function"]["name"]: t["function"] for t in json.loads(route.calls[0].request.content)["tools"]}
    assert set(tools) >= {"brief_team", "transfer_to_agent"}
    assert {"intent", "subject", "direction", "note"} <= set(tools["brief_team"]["parameters"]["properties"])
    assert "PROMPT" not in (await studio.adk_state(row))
    async with studio.sessionmaker() as db:
        reasoning = [r for r in await ReasoningRepository(db).for_session(row.id) if r.question_id == run_id]
    call = next(r for r in reasoning if r.reasoning_type == "tool_call")
    assert call.tool_calls["args"] == {"intent": "sequel", "subject": "Ada Lovelace"}
    result = next(r for r in reasoning if r.reasoning_type == "tool_result")
    assert result.tool_calls["response"]["status"] == "error"
    args = [f for f in frames if f["type"] == "TOOL_CALL_ARGS"]
    assert json.loads(args[0]["delta"]) == {"intent": "sequel", "subject": "Ada Lovelace"}


class ScriptedTeam:
    """A real model's side of the whole team, scripted per agent from what LiteLLM sends: the
    greeter briefs through its typed tool, the critic judges the notes it is shown, and a note is
    said to the run while the researcher works on round 1."""

    def __init__(self, studio: Studio, session_id: str, brief: dict) -> None:
        self.studio, self.session_id, self.brief = studio, session_id, brief
        self.note: object = None
        self.say_during_round_one: str | None = None
        self.calls: list[tuple[str, str]] = []  # (agent, system prompt) of every model call

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        system = messages[0]["content"] if messages[0]["role"] == "system" else ""
        system = system if isinstance(system, str) else " ".join(p.get("text", "") for p in system)
        last = messages[-1]
        after_tool = last["role"] == "tool"
        agent = next(name for name in ("greeter", "researcher", "screenwriter", "critic", "box-office",
                                       "casting", "file writer") if f"You are the {name}" in system or
                     f"You are a {name}" in system)
        self.calls.append((agent, system))
        if agent == "greeter":
            return text_stream("The team takes it from here.") if after_tool else tool_call("call_brief", "brief_team", self.brief)
        if agent == "researcher":
            if self.say_during_round_one and self.note is None:
                # Said while the researcher works on round 1: the next round takes it.
                self.note = await self.studio.runs.say(
                    session_id=self.session_id, user_id="local", text=self.say_during_round_one
                )
            return text_stream("Research: ", "nothing new needed.")
        if agent == "screenwriter":
            return text_stream("**Title:** The Compiler\n\n**Logline:** A darker tale.\n\n", "**Act I: A.** a\n\n**Act II: B.** b")
        if agent == "critic":
            taken = re.findall(r"'id': '([^']+)', 'text': '[^']*', 'status': 'taken'", system)
            if taken and not after_tool:
                return tool_call("call_judge", "judge_note", {"note_id": taken[0], "addressed": True,
                                                              "verdict": "Act II is tighter now."})
            if after_tool and last.get("tool_call_id") == "call_feedback":
                return text_stream("Not yet: Act II needs work.")
            if not taken and "<CRITICAL_FEEDBACK>\n[]" in system and "'status': 'addressed'" not in system:
                return tool_call("call_feedback", "append_to_state", {"key": "CRITICAL_FEEDBACK", "value": "Tighten Act II."})
            return tool_call("call_exit", "exit_loop", {})
        if agent == "file writer":
            if after_tool:
                return text_stream("Saved the pitch.")
            return tool_call("call_save", "save_pitch_document", {"title": "The Compiler", "markdown": "# The Compiler\n\n" + system[-40:]})
        return text_stream(f"The {agent} report.")


async def test_a_scripted_model_briefs_a_subject_takes_a_note_mid_run_and_revises(studio: Studio) -> None:
    row = await studio.create_session("local")
    team = ScriptedTeam(studio, row.id, {"intent": "new_subject", "subject": "Grace Hopper", "direction": "darker in tone"})
    team.say_during_round_one = "Act II drags"
    with respx.mock(assert_all_mocked=True) as router:
        router.post(COMPLETIONS).mock(side_effect=team)
        first, frames = await send(studio, row.id, "I'd like a film about Grace Hopper, darker in tone")
        note = team.note
        state = await studio.adk_state(row)
        assert (state["PROMPT"], state["direction"], state["revision"]) == ("Grace Hopper", "darker in tone", 0)
        [stored] = state["producer_notes"]
        assert (stored["id"], stored["status"], stored["round"]) == (note.note_id, "addressed", 2)
        assert stored["verdict"] == "Act II is tighter now."
        taken = [f["value"] for f in frames if f.get("name") == "note_taken"]
        assert [(t["noteId"], t["round"]) for t in taken] == [(note.note_id, 2)]

        # A revision: the greeter reports it through its tool; the team continues from the work.
        team.brief, team.say_during_round_one = {"intent": "revision", "note": "make it funnier"}, None
        revision, frames = await send(studio, row.id, "make it funnier")
    assert frames[-1]["type"] == "RUN_FINISHED", frames[-1]
    state = await studio.adk_state(row)
    assert state["PROMPT"] == "Grace Hopper" and state["revision"] == 1
    assert [(n["text"], n["status"], n["revision"]) for n in state["producer_notes"]][-1] == ("make it funnier", "addressed", 1)
    kept = sorted(f["agent"] for f in frames if f["type"] == "STEP_FINISHED" and f.get("kept"))
    assert kept == ["box_office_researcher", "casting_agent"]
    saved = [f["value"]["version"] for f in frames if f.get("name") == "artifact_saved"]
    assert saved == [1]
    assert agui_verify(frames)["ok"]


async def test_a_real_model_regenerates_one_stage_and_is_told_what_the_producer_edited(studio: Studio) -> None:
    row = await studio.create_session("local")
    team = ScriptedTeam(studio, row.id, {"intent": "new_subject", "subject": "Grace Hopper"})
    with respx.mock(assert_all_mocked=True) as router:
        router.post(COMPLETIONS).mock(side_effect=team)
        await send(studio, row.id, "Grace Hopper")
        version = await latest_version(studio, row.id)
        state = await studio.adk_state(row)
        edited = state["PLOT_OUTLINE"].replace("A darker tale.", "A rear admiral teaches machines to read.")
        made = await edit_state(studio.runs, session_id=row.id, user_id="local",
                                  changes={"PLOT_OUTLINE": edited}, expected_version=version)
        assert made.change.details["changed"] == ["Logline"]

        team.calls.clear()
        run = await studio.runs.regenerate(session_id=row.id, user_id="local", stage="casting")
        await run.done.wait()
        regenerated = list(team.calls)

        team.calls.clear()
        team.brief = {"intent": "revision", "note": "make it funnier"}
        await send(studio, row.id, "make it funnier")
    # The regeneration: no greeter call (the plugin hands over), no writers' room, no box office.
    assert [agent for agent, _ in regenerated] == ["casting", "file writer", "file writer"]
    casting_prompt = regenerated[0][1]
    assert "<regenerate>\n{'stage': 'casting', 'revision': 1}\n</regenerate>" in casting_prompt
    assert "<revision>\n1\n</revision>" in casting_prompt
    # The revision after the edit: the screenwriter and the critic see what the producer wrote.
    for agent in ("screenwriter", "critic"):
        prompt = next(system for name, system in team.calls if name == agent)
        assert "<producer_edits>\n{'sections': ['Logline']" in prompt, agent
        assert "producer's version" in prompt
    screenwriter = next(system for name, system in team.calls if name == "screenwriter")
    assert "A rear admiral teaches machines to read." in screenwriter  # its previous draft: the edit


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.Response(500, json={"error": {"message": "upstream exploded", "type": "server_error"}}), "500"),
        (httpx.ReadTimeout("timed out"), "imeout"),
    ],
    ids=["http-500", "timeout"],
)
async def test_llm_failure_ends_the_run_with_a_stored_error_and_the_session_stays_usable(
    studio: Studio, failure: object, expected: str
) -> None:
    row = await studio.create_session("local")
    with respx.mock(assert_all_mocked=True) as router:
        route = router.post(COMPLETIONS)
        route.side_effect = failure if isinstance(failure, Exception) else None
        if isinstance(failure, httpx.Response):
            route.return_value = failure
        run_id, frames = await send(studio, row.id, "hello")
        assert frames[-1]["type"] == "RUN_ERROR" and expected in frames[-1]["message"]
        assert frames[-1]["resumable"] and "litellm" not in frames[-1]["message"]
        assert agui_verify(frames)["ok"], "a failed run is a valid AG-UI stream"

        route.side_effect = None
        route.return_value = text_stream("Back again. Who is it about?")
        retry_id, retry_frames = await send(studio, row.id, "hello again")
    assert retry_frames[-1]["type"] == "RUN_FINISHED"
    async with studio.sessionmaker() as db:
        failed = await QuestionRepository(db).get(run_id, row.id)
        retried = await QuestionRepository(db).get(retry_id, row.id)
        answers = await AnswerRepository(db).for_question(retry_id)
    assert failed.run_status == "failed" and expected in failed.run_error
    assert retried.run_status == "completed" and answers[0].answer_text == "Back again. Who is it about?"
    assert (await studio.adk_state(row)) is not None


def test_per_agent_models_let_cheap_agents_use_cheap_models(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db", tmp_path, agent_models={"critic": "anthropic/claude-haiku"}
    )
    model_for = make_model_resolver(settings)
    assert isinstance(model_for("greeter"), OfflineLlm)
    critic = model_for("critic")
    assert critic.model == "anthropic/claude-haiku"
    assert model_for("greeter") is model_for("screenwriter")  # one object per model name


async def test_usage_and_cost_are_recorded_per_agent_and_the_budget_stops_the_next_call(studio: Studio) -> None:
    from agente_films.db.repositories import UsageRepository

    row = await studio.create_session("local")
    usage_chunk = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}

    def reply(request: httpx.Request) -> httpx.Response:
        response = text_stream("Hello ", "there.")
        chunks = response.text.replace("data: [DONE]\n\n", "")
        usage = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [], "usage": usage_chunk}
        return httpx.Response(200, text=chunks + f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n",
                              headers={"content-type": "text/event-stream"})

    with respx.mock(assert_all_mocked=True) as router:
        route = router.post(COMPLETIONS).mock(side_effect=reply)
        first_id, _ = await send(studio, row.id, "hello")
        for _ in range(50):  # LiteLLM reports success in a background task
            async with studio.sessionmaker() as db:
                lines = await UsageRepository(db).totals(row.id)
            if lines:
                break
            await asyncio.sleep(0.05)
        assert [(l["agent_name"], l["prompt_tokens"], l["completion_tokens"]) for l in lines] == [("greeter", 1000, 500)]
        # gpt-4o-mini from LiteLLM's price list: $0.15 / 1M input, $0.60 / 1M output tokens.
        assert lines[0]["cost_usd"] == pytest.approx(1000 * 0.15e-6 + 500 * 0.6e-6)

        studio.runner.app.plugins[0].budget_per_session_usd = 0.0001
        second_id, frames = await send(studio, row.id, "hello again")
    assert route.call_count == 1  # the budget stopped the second run before its model call
    assert frames[-1]["type"] == "RUN_ERROR" and "budget of $0.0001 is used up" in frames[-1]["message"]
    async with studio.sessionmaker() as db:
        failed = await QuestionRepository(db).get(second_id, row.id)
    assert failed.run_status == "failed" and "BudgetExceeded" in failed.run_error
