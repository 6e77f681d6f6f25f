"""A scripted, OpenAI-compatible model server that plays the whole Agente Films team.

    python -m bench.fake_llm --port 9100 [--ttft-ms 100] [--tps 500] [--tokens-per-chunk 4]

POST /v1/chat/completions (and /chat/completions), streaming (`data: {chunk}` ... `data: [DONE]`,
plus a usage chunk when `stream_options.include_usage`) or not, with tool calls whose arguments are
split across chunks. It decides what to answer from the request alone, like a real model: the agent
(`Your internal name is "<agent>"` in the system message), the session state rendered into the
system prompt (<PROMPT>, <research>, <CRITICAL_FEEDBACK>, ...) and the tool results of the agent's
current turn (the trailing tool messages). The replies are those of the built-in offline model
(agente_films.models.offline.SCRIPTS), so the full team runs: greeter -> append_to_state(PROMPT) +
transfer, two writers' room rounds (researcher: wikipedia_search, append_to_state, text;
screenwriter; critic: feedback then approval + exit_loop), box office and casting in parallel, the
file writer's save_pitch_document.

Timing: the first chunk goes out `ttft_ms` after the request arrived, then one chunk every
`tokens_per_chunk / tps` seconds (on an absolute schedule: chunks that fall behind are written
together). A token is a word of text or four characters of tool-call arguments. A non-streamed
reply is sent whole after the same total time.

Bookkeeping for the harness (not part of the OpenAI API):
    GET  /_bench/stats?tags=a,b   per tag: requests, model time (sum and union of the request
                                  intervals), tool calls, text replies, pitch saved, chunk emit times
    GET  /_bench/summary          totals since the last reset
    POST /_bench/reset            forget everything
    POST /_bench/pace?ttft_ms=&tps=&tokens_per_chunk=   change the model's speed
A tag is a `bench-xxxxxxxx` token that the harness puts in each pitch subject: the greeter finds it
in the user's message, every other agent in the <PROMPT> block of its system prompt.

It also serves a tiny fake Wikipedia (`/w/rest.php/v1/search/page`, `/api/rest_v1/page/summary/..`)
so that the researcher's tool does real HTTP round trips and gets realistic results: point
WIKIPEDIA_BASE_URL at this server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from agente_films.models.offline import OFFLINE_LABEL, SCRIPTS, Reply, Turn

FAKE_LABEL = "fake benchmark model"
AGENT_RE = re.compile(r'Your internal name is "([^"]+)"')
BLOCK_RE = re.compile(r"<([A-Za-z_]+)>\n?(.*?)\n?</\1>", re.DOTALL)
TAG_RE = re.compile(r"bench-[0-9a-z]{6,16}")
CONTEXT_PREFIX = "For context:"
ARG_CHARS_PER_TOKEN = 4


# --- what to answer ------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return str(content)


def _texts_of(content: Any) -> list[str]:
    if isinstance(content, list):
        return [str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("text")]
    text = _text_of(content)
    return [text] if text else []


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"result": text}
    return value if isinstance(value, dict) else {"result": value}


def read_turn(messages: list[dict[str, Any]]) -> Turn:
    """The offline model's view of a request (agent, state, current turn's tool results)."""
    system = "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
    match = AGENT_RE.search(system)
    agent = match.group(1) if match else "greeter"
    state = dict(BLOCK_RE.findall(system))
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            names[call.get("id", "")] = (call.get("function") or {}).get("name", "")
    # The current turn is the trailing run of this agent's tool calls and their results.
    results: list[tuple[str, dict[str, Any]]] = []
    for message in reversed(messages):
        role = message.get("role")
        if role == "tool":
            name = message.get("name") or names.get(message.get("tool_call_id", ""), "")
            results.insert(0, (name, _loads(_text_of(message.get("content")))))
        elif role == "assistant" and message.get("tool_calls"):
            continue
        else:
            break
    user_text = ""
    for message in reversed(messages):
        if message.get("role") == "user":
            texts = [t for t in _texts_of(message.get("content")) if not t.startswith(CONTEXT_PREFIX)]
            if texts:
                user_text = texts[-1]
                break
    return Turn(agent=agent, state=state, user_text=user_text, tool_results=results)


def reply_for(turn: Turn) -> Reply:
    script = SCRIPTS.get(turn.agent)
    if script is None:
        return Reply(f"({FAKE_LABEL}: no script for {turn.agent})")
    reply = script(turn)
    return Reply(reply.text.replace(OFFLINE_LABEL, FAKE_LABEL), list(reply.calls))


def tag_of(turn: Turn) -> str:
    """The harness's run tag: the greeter reads it in the user's message, the others in <PROMPT>."""
    sources = [turn.user_text, turn.get("PROMPT")] if turn.agent == "greeter" else [turn.get("PROMPT"), turn.user_text]
    for source in sources:
        match = TAG_RE.search(source or "")
        if match:
            return match.group(0)
    return "untagged"


def text_tokens(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def arg_tokens(arguments: str) -> list[str]:
    return [arguments[i : i + ARG_CHARS_PER_TOKEN] for i in range(0, len(arguments), ARG_CHARS_PER_TOKEN)] or [""]


def _group(tokens: list[str], size: int) -> list[str]:
    return ["".join(tokens[i : i + size]) for i in range(0, len(tokens), size)]


# --- bookkeeping -----------------------------------------------------------------------------------


@dataclass
class RequestRecord:
    tag: str
    agent: str
    stream: bool
    start: float  # wall clock (time.time()) when the request body was read
    end: float = 0.0  # wall clock after the last byte was written
    first_emit: float | None = None
    nominal_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: list[str] = field(default_factory=list)
    has_text: bool = False
    chunk_emits: list[float] = field(default_factory=list)  # one per streamed text chunk
    chunk_texts: list[str] = field(default_factory=list)
    pitch_saved: bool = False


def union_ms(intervals: list[tuple[float, float]]) -> float:
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total * 1000


def summarize(records: list[RequestRecord], with_chunks: bool = True) -> dict[str, Any]:
    done = [r for r in records if r.end]
    per_agent_texts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if with_chunks:
        for r in sorted(done, key=lambda r: r.start):
            if r.has_text and r.stream:
                per_agent_texts[r.agent].append({"emits": r.chunk_emits, "texts": r.chunk_texts})
    first = min(done, key=lambda r: r.start) if done else None
    return {
        "requests": len(records),
        "unfinished": len(records) - len(done),
        "model_sum_ms": sum((r.end - r.start) * 1000 for r in done),
        "model_busy_ms": union_ms([(r.start, r.end) for r in done]),
        "nominal_sum_ms": sum(r.nominal_ms for r in done),
        "first_start": first.start if first else None,
        "first_ttft_ms": ((first.first_emit - first.start) * 1000) if first and first.first_emit else None,
        "last_end": max((r.end for r in done), default=None),
        "tool_calls": sum(len(r.tool_calls) for r in records),
        "tool_call_names": [name for r in sorted(records, key=lambda r: r.start) for name in r.tool_calls],
        "text_replies": sum(1 for r in records if r.has_text),
        "text_chunks": sum(len(r.chunk_emits) for r in done),
        "prompt_tokens": sum(r.prompt_tokens for r in records),
        "completion_tokens": sum(r.completion_tokens for r in records),
        "pitch_saved": any(r.pitch_saved for r in records),
        "agents": sorted({r.agent for r in records}),
        "chunks": dict(per_agent_texts) if with_chunks else {},
    }


# --- the ASGI app ------------------------------------------------------------------------------------


class FakeLLM:
    """Raw ASGI (no framework in the hot path: the fake must cost the machine as little as possible)."""

    def __init__(self, ttft_ms: float = 100.0, tps: float = 500.0, tokens_per_chunk: int = 4) -> None:
        self.pace(ttft_ms, tps, tokens_per_chunk)
        self.records: list[RequestRecord] = []
        self.by_tag: dict[str, list[RequestRecord]] = defaultdict(list)
        self.active = 0
        self.max_active = 0
        self.wiki_requests = 0

    def pace(self, ttft_ms: float, tps: float, tokens_per_chunk: int) -> dict[str, float]:
        """The model's speed; the harness changes it between phases (POST /_bench/pace)."""
        self.ttft = max(0.0, ttft_ms) / 1000
        self.tokens_per_chunk = max(1, int(tokens_per_chunk))
        self.interval = self.tokens_per_chunk / tps if tps > 0 else 0.0
        return {"ttft_ms": self.ttft * 1000, "tps": tps, "tokens_per_chunk": self.tokens_per_chunk}

    def reset(self) -> None:
        self.records.clear()
        self.by_tag.clear()
        self.max_active = self.active
        self.wiki_requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        query = parse_qs(scope.get("query_string", b"").decode())
        if method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            body = await _read_body(receive)
            await self.completion(body, send)
        elif path == "/_bench/stats":
            tags = [t for t in ",".join(query.get("tags", [])).split(",") if t]
            chunks = query.get("chunks", ["1"])[0] != "0"
            await _json(send, {t: summarize(self.by_tag.get(t, []), chunks) for t in tags})
        elif path == "/_bench/summary":
            data = summarize(self.records, with_chunks=False)
            data.update(active=self.active, max_active=self.max_active, wiki_requests=self.wiki_requests,
                        tags=len(self.by_tag))
            await _json(send, data)
        elif path == "/_bench/pace" and method == "POST":
            await _json(send, self.pace(float(query["ttft_ms"][0]), float(query["tps"][0]),
                                        int(query["tokens_per_chunk"][0])))
        elif path == "/_bench/reset" and method == "POST":
            self.reset()
            await _json(send, {"ok": True})
        elif path == "/_bench/health" or path == "/health":
            await _json(send, {"ok": True})
        elif path == "/w/rest.php/v1/search/page":
            self.wiki_requests += 1
            await _json(send, fake_search(query.get("q", [""])[0], int(query.get("limit", ["3"])[0])))
        elif path.startswith("/api/rest_v1/page/summary/"):
            self.wiki_requests += 1
            title = unquote(path.removeprefix("/api/rest_v1/page/summary/"))
            base = _base_url(scope)
            await _json(send, fake_summary(title, base))
        else:
            await _json(send, {"error": {"message": f"no route {method} {path}"}}, status=404)

    async def completion(self, body: bytes, send: Any) -> None:
        start = time.time()
        start_mono = time.monotonic()
        request = json.loads(body)
        messages = request.get("messages") or []
        turn = read_turn(messages)
        reply = reply_for(turn)
        record = RequestRecord(tag=tag_of(turn), agent=turn.agent, stream=bool(request.get("stream")), start=start)
        record.prompt_tokens = (len(body) + 3) // 4
        record.tool_calls = [name for name, _ in reply.calls]
        record.has_text = bool(reply.text)
        saved = turn.last_result("save_pitch_document")
        record.pitch_saved = turn.agent == "file_writer" and bool(saved) and saved.get("status") == "saved"
        self.records.append(record)
        self.by_tag[record.tag].append(record)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            model = request.get("model") or "fake-model"
            cid = "chatcmpl-" + uuid.uuid4().hex[:24]
            calls = [(f"call_{uuid.uuid4().hex[:16]}", name, json.dumps(args, ensure_ascii=False))
                     for name, args in reply.calls]
            text_pieces = _group(text_tokens(reply.text), self.tokens_per_chunk) if reply.text else []
            arg_pieces = [_group(arg_tokens(arguments), self.tokens_per_chunk) for _, _, arguments in calls]
            record.completion_tokens = len(text_tokens(reply.text)) + sum(len(arg_tokens(a)) for _, _, a in calls)
            n_chunks = len(text_pieces) + sum(len(p) + 1 for p in arg_pieces)
            record.nominal_ms = (self.ttft + max(n_chunks - 1, 0) * self.interval) * 1000
            usage = {
                "prompt_tokens": record.prompt_tokens,
                "completion_tokens": record.completion_tokens,
                "total_tokens": record.prompt_tokens + record.completion_tokens,
            }
            finish = "tool_calls" if calls else "stop"
            if not record.stream:
                await _sleep_until(start_mono + record.nominal_ms / 1000)
                message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
                if calls:
                    message["tool_calls"] = [
                        {"id": cid_, "type": "function", "function": {"name": name, "arguments": arguments}}
                        for cid_, name, arguments in calls
                    ]
                record.first_emit = time.time()
                await _json(send, {
                    "id": cid, "object": "chat.completion", "created": int(start), "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                })
                return
            include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            await self._stream(send, record, cid, model, start_mono, text_pieces, calls, arg_pieces, finish,
                               usage if include_usage else None)
        finally:
            record.end = time.time()
            self.active -= 1

    async def _stream(self, send: Any, record: RequestRecord, cid: str, model: str, start_mono: float,
                      text_pieces: list[str], calls: list[tuple[str, str, str]], arg_pieces: list[list[str]],
                      finish: str, usage: dict[str, int] | None) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        created = int(record.start)
        head = f'{{"id":"{cid}","object":"chat.completion.chunk","created":{created},"model":{json.dumps(model)},'

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            return b"data: " + (head + '"choices":[' + json.dumps(choice, ensure_ascii=False) + "]}").encode() + b"\n\n"

        # (bytes, text piece or None): everything the model emits, in order.
        plan: list[tuple[bytes, str | None]] = []
        role_sent = False
        for piece in text_pieces:
            delta: dict[str, Any] = {"content": piece}
            if not role_sent:
                delta = {"role": "assistant", "content": piece}
                role_sent = True
            plan.append((chunk(delta), piece))
        for index, ((call_id, name, _), pieces) in enumerate(zip(calls, arg_pieces, strict=True)):
            call: dict[str, Any] = {"index": index, "id": call_id, "type": "function",
                                    "function": {"name": name, "arguments": ""}}
            delta = {"tool_calls": [call]}
            if not role_sent:
                delta = {"role": "assistant", "content": None, "tool_calls": [call]}
                role_sent = True
            plan.append((chunk(delta), None))
            for piece in pieces:
                plan.append((chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}), None))
        tail = chunk({}, finish)
        if usage is not None:
            tail += b"data: " + (head + '"choices":[],"usage":' + json.dumps(usage) + "}").encode() + b"\n\n"
        tail += b"data: [DONE]\n\n"

        first_at = start_mono + self.ttft
        i = 0
        while i < len(plan):
            due = first_at + i * self.interval
            await _sleep_until(due)
            # Everything due by now goes out in one write (catching up if the loop fell behind).
            now = time.monotonic()
            j = i + 1
            while j < len(plan) and first_at + j * self.interval <= now:
                j += 1
            payload = b"".join(data for data, _ in plan[i:j])
            if j == len(plan):
                payload += tail
            emitted = time.time()
            if record.first_emit is None:
                record.first_emit = emitted
            for _, piece in plan[i:j]:
                if piece is not None:
                    record.chunk_emits.append(emitted)
                    record.chunk_texts.append(piece)
            await send({"type": "http.response.body", "body": payload, "more_body": j < len(plan)})
            i = j
        if not plan:
            await _sleep_until(first_at)
            record.first_emit = time.time()
            await send({"type": "http.response.body", "body": tail, "more_body": False})


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _read_body(receive: Any) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


async def _json(send: Any, payload: Any, status: int = 200) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _base_url(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return f"http://{value.decode()}"
    host, port = scope.get("server") or ("127.0.0.1", 80)
    return f"http://{host}:{port}"


# --- fake Wikipedia ------------------------------------------------------------------------------------


def _topic(query: str) -> str:
    return " ".join(TAG_RE.sub("", query).split()) or "History"


def fake_search(query: str, limit: int) -> dict[str, Any]:
    topic = _topic(query)
    titles = [topic, f"Legacy of {topic}", f"{topic} in popular culture"][: max(1, min(limit, 3))]
    return {"pages": [
        {"id": 1000 + i, "key": t.replace(" ", "_"), "title": t,
         "excerpt": f'<span class="searchmatch">{t}</span> is a subject of historical study',
         "description": f"Article about {t}"}
        for i, t in enumerate(titles)
    ]}


def fake_summary(title: str, base: str) -> dict[str, Any]:
    name = title.replace("_", " ")
    return {
        "title": title,
        "titles": {"normalized": name},
        "description": f"Article about {name}",
        "extract": (
            f"{name} is remembered for work that changed how later generations understood the field. "
            f"Contemporaries doubted {name} for years. The records that survive describe long nights, "
            f"public setbacks and a final vindication."
        ),
        "content_urls": {"desktop": {"page": f"{base}/wiki/{quote(title.replace(' ', '_'))}"}},
    }


# --- running it ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeLLMHandle:
    """A running fake model: `base_url` for LITELLM_BASE_URL, `url` for WIKIPEDIA_BASE_URL."""

    def __init__(self, port: int, process: subprocess.Popen[bytes] | None = None,
                 server: Any = None, thread: threading.Thread | None = None, app: FakeLLM | None = None) -> None:
        self.port = port
        self.process = process
        self._server = server
        self._thread = thread
        self.app = app  # only in thread mode

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else os.getpid()

    def _get(self, path: str) -> Any:
        import httpx

        response = httpx.get(self.url + path, timeout=30)
        response.raise_for_status()
        return response.json()

    def stats(self, *tags: str, chunks: bool = True) -> dict[str, Any]:
        return self._get(f"/_bench/stats?tags={','.join(tags)}&chunks={int(chunks)}")

    def summary(self) -> dict[str, Any]:
        return self._get("/_bench/summary")

    def reset(self) -> None:
        import httpx

        httpx.post(self.url + "/_bench/reset", timeout=30).raise_for_status()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)

    def __enter__(self) -> FakeLLMHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"fake LLM exited with {process.returncode}")
        try:
            if httpx.get(url + "/_bench/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("fake LLM did not start")


def start_fake_llm(port: int | None = None, ttft_ms: float = 100.0, tps: float = 500.0,
                   tokens_per_chunk: int = 4, *, in_thread: bool = False,
                   log_path: Path | None = None) -> FakeLLMHandle:
    """Start the fake model and wait until it answers. Use as a context manager, or call close().

    By default it runs in a child process (its CPU is then not shared with the caller's event loop);
    `in_thread=True` runs it on a thread of this process (handy in tests; `handle.app` is the app).
    """
    port = port or free_port()
    if in_thread:
        import uvicorn

        app = FakeLLM(ttft_ms, tps, tokens_per_chunk)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                timeout_keep_alive=600)
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        thread = threading.Thread(target=server.run, name="fake-llm", daemon=True)
        thread.start()
        handle = FakeLLMHandle(port, server=server, thread=thread, app=app)
        _wait_ready(handle.url, None)
        return handle
    env = child_env({"PYTHONPATH": _pythonpath()})
    out = log_path.open("ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_llm", "--port", str(port), "--ttft-ms", str(ttft_ms),
         "--tps", str(tps), "--tokens-per-chunk", str(tokens_per_chunk)],
        env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
    )
    handle = FakeLLMHandle(port, process=process)
    try:
        _wait_ready(handle.url, process)
    except Exception:
        handle.close()
        raise
    return handle


def die_with_parent() -> None:
    """preexec_fn for the harness's children: SIGTERM when the harness dies (Linux), no orphans."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the processes the harness starts.

    Where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes), every process would compile ADK and
    LiteLLM from source at start-up (seconds each). The children write their bytecode cache to a
    folder under the system temp dir instead (PYTHONPYCACHEPREFIX), never into the repo or the venv.
    This changes start-up time only, not what is measured.
    """
    env = {**os.environ, **(extra or {})}
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        import tempfile

        env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "agente-bench-pycache"))
    return env


def _pythonpath() -> str:
    root = str(Path(__file__).resolve().parent.parent)
    existing = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{existing}" if existing else root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_llm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--ttft-ms", type=float, default=100.0, help="time to first token (ms)")
    parser.add_argument("--tps", type=float, default=500.0, help="tokens per second after the first")
    parser.add_argument("--tokens-per-chunk", type=int, default=8)
    args = parser.parse_args(argv)
    import uvicorn

    app = FakeLLM(args.ttft_ms, args.tps, args.tokens_per_chunk)
    with contextlib.suppress(KeyboardInterrupt):
        # A long keep-alive: uvicorn's default (5 s) closes pooled connections that LiteLLM's aiohttp
        # client may be reusing at that very moment ("Can not write request body"), which under load
        # fails runs for reasons that have nothing to do with the contenders. Real providers keep
        # connections open far longer.
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on",
                    access_log=False, backlog=4096, timeout_keep_alive=600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
