"""Keeps the benchmark harness (bench/) working: the fake model speaks OpenAI's API, and a tiny run
of `python -m bench.run` measures every contender and gets complete pitches. The full benchmark
(`python -m bench.run`, tens of minutes) is not part of the test suite; see docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.fake_llm import start_fake_llm  # noqa: E402

TAG = "bench-abcdef12"


def _system(agent: str, prompt: str = "") -> dict:
    return {"role": "system", "content": f'You are an agent. Your internal name is "{agent}".\n<PROMPT>\n{prompt}\n</PROMPT>'}


def _events(body: str) -> list:
    lines = [line[6:] for line in body.split("\n\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_fake_llm_streams_text_and_split_tool_calls_and_counts_model_time() -> None:
    with start_fake_llm(ttft_ms=5, tps=20_000, tokens_per_chunk=2, in_thread=True) as fake:
        user = {"role": "user", "content": [{"type": "text", "text": f"Ada Lovelace {TAG}"}]}
        request = {"model": "fake-model", "stream": True, "stream_options": {"include_usage": True},
                   "messages": [_system("greeter"), user]}
        response = httpx.post(f"{fake.base_url}/chat/completions", json=request, timeout=10)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.text)
        text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
        assert "Ada Lovelace" in text and "fake benchmark model" in text
        calls = [tc for e in events if e["choices"] for tc in e["choices"][0]["delta"].get("tool_calls") or []]
        assert len(calls) > 2, "arguments are split across chunks"
        assert calls[0]["function"]["name"] == "brief_team"
        arguments = json.loads("".join(c["function"]["arguments"] for c in calls))
        assert arguments == {"intent": "new_subject", "subject": f"Ada Lovelace {TAG}", "direction": ""}
        finish = [e["choices"][0]["finish_reason"] for e in events if e["choices"]]
        assert finish[-1] == "tool_calls"
        assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] > 0

        # An accepted brief hands over by itself; a refused one comes back and the greeter says so
        # (non-streamed this time).
        assistant = {"role": "assistant", "content": text,
                     "tool_calls": [{"id": calls[0]["id"], "type": "function",
                                     "function": {"name": "brief_team", "arguments": json.dumps(arguments)}}]}
        tool = {"role": "tool", "tool_call_id": calls[0]["id"], "content": '{"status": "error", "message": "no"}'}
        request = {"model": "fake-model", "messages": [_system("greeter"), user, assistant, tool]}
        message = httpx.post(f"{fake.base_url}/chat/completions", json=request, timeout=10).json()["choices"][0]["message"]
        assert not message.get("tool_calls") and "could not brief the team: no" in message["content"]

        stats = fake.stats(TAG)[TAG]
        assert stats["requests"] == 2 and stats["tool_call_names"] == ["brief_team"]
        assert stats["model_busy_ms"] >= 10 and stats["text_chunks"] > 1
        assert stats["chunks"]["greeter"][0]["texts"][0] == events[0]["choices"][0]["delta"]["content"]

        # The fake Wikipedia answers like the real REST API.
        hits = httpx.get(f"{fake.url}/w/rest.php/v1/search/page", params={"q": f"Ada Lovelace {TAG}", "limit": 3}).json()
        assert hits["pages"][0]["title"] == "Ada Lovelace"
        summary = httpx.get(f"{fake.url}/api/rest_v1/page/summary/Ada_Lovelace").json()
        assert summary["content_urls"]["desktop"]["page"].endswith("/wiki/Ada_Lovelace")


def test_quick_benchmark_measures_every_contender(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [
        sys.executable, "-m", "bench.run", "--quick", "--parallel", "--databases", "sqlite", "--concurrency", "2",
        "--runs", "2", "--conversation-turns", "2", "--idle-sessions", "3", "--warmup", "0",
        "--out", str(out), "--workdir", str(tmp_path / "work"),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "overhead/turn" in done.stdout and "Chunk latency" in done.stdout  # the tables
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"floor", "stock/sqlite", "ours-ws/sqlite", "ours-post/sqlite"}
    for key, result in report["results"].items():
        assert not result.get("failed"), (key, result.get("failed"))
        assert [level["concurrency"] for level in result["levels"]] == [2]
        paced = result["paced"]  # the phase with the slower model ran on the same harness
        assert paced["concurrency"] == 1 and paced["model"]["tps"] == 4000 and paced["incomplete"] == 0
        for level in [*result["levels"], paced]:
            assert (level["errors"], level["lost_events"], level["incomplete"]) == (0, 0, 0), (key, level)
            assert level["throughput_per_min"] > 0
            assert level["model_busy_ms"]["median"] > 0
            assert 0 < level["overhead_ms"]["median"] < level["wall_ms"]["median"], key
            # The whole team ran: the greeter's brief hands over in its one call, then 15 more.
            assert level["model_requests_per_pipeline"]["median"] == 16
            if key != "ours-post/sqlite":  # POST answers at the end: no chunks to time
                assert level["chunk_ms"]["n"] > 40 and level["chunk_mismatched"] == 0, key
                assert level["chunk_ms"]["median"] > 0 and level["ttft_ms"]["median"] > 0
        assert result["peak_rss"] > 0 and result["idle"]["sessions"] == 3
        assert len(result["conversation"]["overhead_ms"]) == 2 and result["conversation"]["incomplete"] == 0
        storage = result["levels"][0].get("storage")
        if key == "floor":
            assert storage is None
        else:
            assert storage["rows_per_turn"] > 0 and storage["rows_per_turn_by_table"]["events"] > 0
    ours = report["results"]["ours-ws/sqlite"]["levels"][0]["storage"]
    stock = report["results"]["stock/sqlite"]["levels"][0]["storage"]
    assert ours["rows_per_turn"] > stock["rows_per_turn"]  # we persist more than ADK alone


@pytest.mark.parametrize("name", ["run", "fake_llm", "plot", "report"])
def test_bench_commands_have_help(name: str) -> None:
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", "--help"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage" in done.stdout


async def test_the_branching_benchmark_branches_and_times_the_copy(tmp_path: Path) -> None:
    from bench.branching import bench_database

    report = await bench_database(f"sqlite+aiosqlite:///{tmp_path}/bench.db", 1, tmp_path)
    assert report["source_events"] > 50
    for point in ("last version", "round 1"):
        assert 0 < report[point]["events_copied"] <= report["source_events"]
        assert 0 < report[point]["append_event_s"] < report[point]["wall_s"]
    assert report["round 1"]["events_copied"] < report["last version"]["events_copied"]
