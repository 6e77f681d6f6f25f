"""The real LiteLLM proxy between the app and a model: a fake OpenAI-compatible server plays the
model, the proxy (started here as `litellm --config ...`) prices each call, and the whole team
runs through it with streaming. Also: the shipped config/litellm_config.yaml starts."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agente_films.db.repositories import AnswerRepository, QuestionRepository, UsageRepository
from agente_films.studio import Studio
from bench.fake_llm import start_fake_llm
from tests.conftest import free_port, make_settings

ROOT = Path(__file__).resolve().parents[2]
MASTER_KEY = "sk-agente-films-test-0123456789abcdef"
INPUT_PRICE, OUTPUT_PRICE = 2e-6, 8e-6  # USD per token, as the proxy config below says


def start_proxy(config: Path, log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    litellm = Path(sys.executable).with_name("litellm")
    process = subprocess.Popen(
        [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_MASTER_KEY": MASTER_KEY, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"litellm proxy exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health/liveliness", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"litellm proxy did not start: {log.read_text()[-3000:]}")


@pytest.fixture
def fake_model() -> Iterator:
    with start_fake_llm(ttft_ms=2, tps=20000) as handle:
        yield handle


@pytest.fixture
def proxy(fake_model, tmp_path: Path) -> Iterator[str]:  # noqa: ANN001
    config = tmp_path / "proxy.yaml"
    config.write_text(
        f"""
model_list:
  - model_name: fake-model
    litellm_params:
      model: openai/fake-model
      api_base: {fake_model.base_url}
      api_key: not-needed
    model_info:
      input_cost_per_token: {INPUT_PRICE}
      output_cost_per_token: {OUTPUT_PRICE}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""
    )
    process, url = start_proxy(config, tmp_path / "proxy.log")
    yield url
    process.terminate()
    process.wait(timeout=20)


async def test_the_whole_team_streams_through_the_litellm_proxy_and_its_cost_is_recorded(
    proxy: str, fake_model, tmp_path: Path  # noqa: ANN001
) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/proxy.db",
        tmp_path,
        llm_model="fake-model",
        litellm_base_url=proxy,
        litellm_api_key=MASTER_KEY,
        llm_max_retries=0,
        wikipedia_base_url=fake_model.url,
    )
    studio = await Studio.open(settings)
    try:
        row = await studio.create_session("local")
        run = await studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace")
        await run.done.wait()
        frames = []
        async for frame in studio.bus.subscribe(row.id, 0, None):
            frames.append(frame)
            if frame["type"] in ("RUN_FINISHED", "RUN_ERROR"):
                break
        async with studio.sessionmaker() as db:
            question = await QuestionRepository(db).get(run.run_id, row.id)
            answers = await AnswerRepository(db).for_question(run.run_id)
            usage = []
            for _ in range(100):  # LiteLLM reports each call's success in a background task
                usage = await UsageRepository(db).totals(row.id, question_id=run.run_id)
                if sum(line["calls"] for line in usage) >= fake_model.summary()["requests"]:
                    break
                await asyncio.sleep(0.05)
    finally:
        await studio.close()

    assert question.run_status == "completed", question.run_error
    assert [a.agent_name for a in answers][-1] == "file_writer"
    assert any(f.get("name") == "artifact_saved" for f in frames)
    chunks = [f for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT"]
    assert len(chunks) > 3 * len(answers)  # streamed through the proxy, not in one piece

    calls = sum(line["calls"] for line in usage)
    assert calls == fake_model.summary()["requests"]  # every model call is accounted for
    agents = {line["agent_name"] for line in usage}
    assert agents == {"greeter", "researcher", "screenwriter", "critic", "box_office_researcher", "casting_agent", "file_writer"}
    for line in usage:
        assert line["prompt_tokens"] > 0 and line["completion_tokens"] > 0
        expected = line["prompt_tokens"] * INPUT_PRICE + line["completion_tokens"] * OUTPUT_PRICE
        assert line["cost_usd"] == pytest.approx(expected, rel=1e-6)


def test_the_shipped_proxy_config_starts(tmp_path: Path) -> None:
    """config/litellm_config.yaml as docker-compose runs it (provider keys are dummies here)."""
    process, url = start_proxy(
        ROOT / "config" / "litellm_config.yaml",
        tmp_path / "shipped.log",
        REDIS_HOST="127.0.0.1",
        REDIS_PORT="6379",
        OPENAI_API_KEY="sk-dummy",
        ANTHROPIC_API_KEY="sk-ant-dummy",
        GEMINI_API_KEY="dummy",
    )
    try:
        models = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=10).json()
        assert {m["id"] for m in models["data"]} == {"gemini-2.0-flash", "gpt-4o-mini", "claude-3-5-haiku"}
        refused = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer wrong"}, timeout=10)
        assert refused.status_code in (400, 401)
    finally:
        process.terminate()
        process.wait(timeout=20)
