"""The built-in offline model: plays every agent of the team deterministically, with no network.

It reads what a real model reads: its system instruction (which names the agent and carries the
session state in tagged blocks such as <PROMPT>...</PROMPT>) and the conversation so far (the tool
results of its current turn). It calls the same tools a real model would, streams its text in
small chunks, and says in its output that it is the offline demo model.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.genai import types

from agente_films.runs.context import report_usage

OFFLINE_LABEL = "offline demo model"
_AGENT_NAME = re.compile(r'Your internal name is "([^"]+)"')
_BLOCK = re.compile(r"<([A-Za-z_]+)>\n?(.*?)\n?</\1>", re.DOTALL)
_GREETINGS = {
    "hi", "hello", "hey", "hola", "good morning", "good afternoon", "good evening", "yo",
    "help", "start", "what can you do", "who are you", "thanks", "thank you",
}
_LEAD_INS = re.compile(
    r"^(?:please\s+)?(?:(?:i(?:'d| would)? like|i want|let'?s|can you|could you|make|write|create|"
    r"pitch|do|give me)\s+)?(?:(?:me|us)\s+)?(?:(?:a|an|the)\s+)?(?:(?:bio)?(?:pic|film|movie|"
    r"biopic|pitch|story)\s+)?(?:(?:about|on|of|for)\s+)?",
    re.IGNORECASE,
)


@dataclass
class Turn:
    """What the offline model knows when it is called."""

    agent: str
    state: dict[str, str]
    user_text: str
    tool_results: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get(self, key: str) -> str:
        return self.state.get(key, "").strip()

    def entries(self, key: str) -> list[str]:
        """A list-valued state key (research, CRITICAL_FEEDBACK) as rendered into the prompt."""
        raw = self.get(key)
        if not raw:
            return []
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return [raw]
        if isinstance(value, list):
            return [str(item) for item in value if str(item).strip()]
        return [str(value)]

    def last_result(self, tool: str) -> dict[str, Any] | None:
        for name, response in reversed(self.tool_results):
            if name == tool:
                return response
        return None


@dataclass
class Reply:
    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _pick(options: list[str], seed: str) -> str:
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return options[digest % len(options)]


def extract_subject(message: str) -> str | None:
    """The pitch subject in a user message, or None for a greeting or an empty message."""
    text = message.strip().strip(".!?").strip()
    if not text or text.lower() in _GREETINGS or len(text) > 300:
        return None
    subject = _LEAD_INS.sub("", text).strip(" .!?\"'")
    return subject or None


def _facts(turn: Turn) -> list[tuple[str, str]]:
    """(fact, source url) pairs parsed from the research entries."""
    facts: list[tuple[str, str]] = []
    for entry in turn.entries("research"):
        for line in entry.splitlines():
            match = re.match(r"- \*\*(.+?)\*\*: (.*?) \(source: (\S+)\)$", line.strip())
            if match:
                facts.append((f"{match.group(1)}: {match.group(2)}", match.group(3)))
    return facts


def _first_sentences(text: str, count: int = 2) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(sentences[:count]).strip()


# --- one function per agent -------------------------------------------------------------------


def _greeter(turn: Turn) -> Reply:
    if turn.last_result("append_to_state"):
        return Reply(calls=[("transfer_to_agent", {"agent_name": "film_concept_team"})])
    subject = extract_subject(turn.user_text)
    if subject is None:
        return Reply(
            "Welcome to **Agente Films**! I'm the greeter, running on the built-in "
            f"{OFFLINE_LABEL} (no real LLM is connected). Name a historical figure or topic "
            "(for example *Ada Lovelace*, *Hypatia of Alexandria* or *the Apollo 11 landing*) "
            "and our writers' room, box-office analyst and casting director will develop a film "
            "pitch about it."
        )
    return Reply(
        f"**{subject}**: a fine subject for a biographical film. I'm handing it to the film "
        f"concept team now; the writers' room starts with research. ({OFFLINE_LABEL})",
        [("append_to_state", {"key": "PROMPT", "value": subject})],
    )


def _research_focus(turn: Turn) -> str:
    feedback = turn.entries("CRITICAL_FEEDBACK")
    if feedback:
        match = re.search(r"Research focus: (.+)", feedback[-1])
        if match:
            return match.group(1).strip().rstrip(".")
    return ""


def _researcher(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or extract_subject(turn.user_text) or "the subject"
    focus = _research_focus(turn)
    query = f"{subject} {focus}".strip() if focus else subject
    found = turn.last_result("wikipedia_search")
    if found is None:
        return Reply(calls=[("wikipedia_search", {"query": query})])
    if turn.last_result("append_to_state") is None:
        lines = [f"### Research: {query}"]
        results = found.get("results") or []
        for result in results:
            extract = _first_sentences(result.get("extract") or result.get("description") or "")
            lines.append(f"- **{result.get('title')}**: {extract} (source: {result.get('url')})")
        if not results:
            lines.append(
                f"- Wikipedia could not be checked ({found.get('status', 'unavailable')}): "
                f"{found.get('message', '')} Working from general knowledge of {subject}."
            )
        return Reply(calls=[("append_to_state", {"key": "research", "value": "\n".join(lines)})])
    results = found.get("results") or []
    if results:
        titles = ", ".join(f"*{r.get('title')}*" for r in results)
        summary = f"I read {len(results)} Wikipedia article(s) on {query}: {titles}."
    else:
        summary = (
            f"Wikipedia was not reachable for \"{query}\", so the notes on {subject} say that "
            "their sources could not be checked."
        )
    return Reply(f"{summary} The findings and their source links are in the research notes.")


_TITLE_PATTERNS = [
    "The {word} of {subject}",
    "{subject}: The {word}",
    "{subject} and the {word}",
]
_TITLE_WORDS = ["Engine", "Long Night", "Unseen Hand", "Reckoning", "Last Draft", "Far Shore"]


def outline_title(subject: str) -> str:
    pattern = _pick(_TITLE_PATTERNS, subject)
    word = _pick(_TITLE_WORDS, subject[::-1])
    return pattern.format(subject=subject, word=word)


def _screenwriter(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    facts = _facts(turn)
    draft = len(turn.entries("CRITICAL_FEEDBACK")) + 1
    fact = facts[0][0].split(": ", 1)[-1] if facts else f"the life and times of {subject}."
    turning = facts[-1][0].split(": ", 1)[-1] if len(facts) > 1 else (
        f"the moment {subject}'s work is doubted by the people who matter most."
    )
    revision = ""
    if draft > 1:
        revision = (
            f"\n\n_Draft {draft}: revised for the critic. The stakes are now personal as well as "
            "historical, and every act leans on a researched fact._"
        )
    text = (
        f"**Title:** {outline_title(subject)}\n\n"
        f"**Logline:** When the world underestimates {subject}, one stubborn conviction becomes "
        f"a fight for a legacy that will outlast everyone who doubted it.\n\n"
        f"**Act I: The Spark.** We meet {subject} on the edge of obscurity. Grounding: {fact} "
        f"A chance encounter opens a door, and {subject} makes a choice that costs comfort and "
        f"reputation.\n\n"
        f"**Act II: The Cost.** Rivals, money and family pull against the work. Turning point: "
        f"{turning} The midpoint reversal leaves {subject} alone with the idea.\n\n"
        f"**Act III: The Legacy.** {subject} risks everything on one public test. Win or lose, "
        f"the final image shows what the world later understood and the people who paid for it."
        f"{revision}\n\n_Written by the {OFFLINE_LABEL}._"
    )
    return Reply(text)


def _critic(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    has_outline = bool(turn.get("PLOT_OUTLINE"))
    earlier_feedback = turn.entries("CRITICAL_FEEDBACK")
    if turn.last_result("append_to_state") is not None:
        return Reply(
            f"Not yet. **Structure:** solid three acts, but Act II sags without a midpoint "
            f"reversal. **Stakes:** the personal cost to {subject} is implied rather than shown. "
            f"**Historical grounding:** needs more on the legacy and the historical context, so I "
            f"sent the researcher back for it. ({OFFLINE_LABEL})"
        )
    if earlier_feedback and has_outline:
        return Reply(
            f"Approved. **Structure:** three clear acts with a midpoint reversal. **Stakes:** "
            f"personal and historical, and they now escalate. **Historical grounding:** each act "
            f"cites the research on {subject}. The outline is ready for preproduction. "
            f"({OFFLINE_LABEL})",
            [("exit_loop", {})],
        )
    feedback = (
        f"Structure: the three acts hold, but Act II needs a clear midpoint reversal. "
        f"Stakes: make the personal cost to {subject} explicit. Historical grounding: tie "
        f"each act to a researched fact.\nResearch focus: legacy and historical context"
    )
    return Reply(calls=[("append_to_state", {"key": "CRITICAL_FEEDBACK", "value": feedback})])


def _box_office(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    comparables = _pick(
        [
            "*The Imitation Game* (2014), *Hidden Figures* (2016), *Oppenheimer* (2023)",
            "*The Theory of Everything* (2014), *Lincoln* (2012), *A Beautiful Mind* (2001)",
            "*Bohemian Rhapsody* (2018), *The Aviator* (2004), *Gandhi* (1982)",
        ],
        subject,
    )
    return Reply(
        f"**Box-office outlook for a film about {subject}.** Comparable titles: {comparables}. "
        f"A prestige biopic like this plays best with a fall festival launch and an awards-season "
        f"platform release. Suggested budget: $25-40M. Core audience: adults 25-54 who follow "
        f"history and awards films, with a second wave on streaming. Risk: the subject's name "
        f"recognition; mitigate with a marketable lead. These are {OFFLINE_LABEL} estimates, "
        f"not market data."
    )


def _casting(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    return Reply(
        f"**Casting ideas for {subject}.** Lead: an actor with range to play {subject} across "
        f"two decades, from unknown to legend; a rising star paired with an awards-tested "
        f"supporting cast de-risks the budget. Key supporting roles: the mentor who opens the "
        f"first door, the rival who embodies the establishment, and the confidant who pays the "
        f"personal price. Look for chemistry reads between the lead and the rival early. "
        f"Director: someone with a track record in intimate period drama. ({OFFLINE_LABEL})"
    )


def _section(outline: str, label: str) -> str:
    match = re.search(rf"\*\*{label}:\*\*\s*(.+)", outline)
    return match.group(1).strip() if match else ""


def compose_pitch(turn: Turn) -> tuple[str, str]:
    """(title, markdown) of the pitch document, from the state the file writer was given."""
    subject = turn.get("PROMPT") or "Untitled subject"
    outline = turn.get("PLOT_OUTLINE")
    title = _section(outline, "Title") or outline_title(subject)
    logline = _section(outline, "Logline") or f"A film about {subject}."
    acts = "\n\n".join(
        line for line in outline.split("\n\n") if line.startswith("**Act")
    ) or outline
    sources = sorted({url for _, url in _facts(turn)})
    source_lines = "\n".join(f"- {url}" for url in sources) or (
        "- Wikipedia could not be reached during research; sources are unverified."
    )
    markdown = (
        f"# {title}\n\n"
        f"*A film pitch about {subject}*\n\n"
        f"## Logline\n\n{logline}\n\n"
        f"## Outline\n\n{acts}\n\n"
        f"## Box-office report\n\n{turn.get('box_office_report') or 'Not available.'}\n\n"
        f"## Casting report\n\n{turn.get('casting_report') or 'Not available.'}\n\n"
        f"## Sources\n\n{source_lines}\n\n"
        f"---\n\n_Generated by Agente Films with the {OFFLINE_LABEL}._\n"
    )
    return title, markdown


def _file_writer(turn: Turn) -> Reply:
    saved = turn.last_result("save_pitch_document")
    if saved is None:
        title, markdown = compose_pitch(turn)
        return Reply(calls=[("save_pitch_document", {"title": title, "markdown": markdown})])
    if saved.get("status") != "saved":
        return Reply(f"I could not save the pitch document: {saved.get('message', 'unknown error')}")
    return Reply(
        f"The pitch document **{saved.get('filename')}** (version {saved.get('version')}) is "
        f"saved and ready to download. ({OFFLINE_LABEL})"
    )


SCRIPTS = {
    "greeter": _greeter,
    "researcher": _researcher,
    "screenwriter": _screenwriter,
    "critic": _critic,
    "box_office_researcher": _box_office,
    "casting_agent": _casting,
    "file_writer": _file_writer,
}


# --- reading the request -----------------------------------------------------------------------


def _system_text(request: LlmRequest) -> str:
    instruction = request.config.system_instruction if request.config else None
    if instruction is None:
        return ""
    if isinstance(instruction, str):
        return instruction
    parts = getattr(instruction, "parts", None) or []
    return "\n".join(part.text or "" for part in parts)


def read_turn(request: LlmRequest) -> Turn:
    system = _system_text(request)
    match = _AGENT_NAME.search(system)
    agent = match.group(1) if match else "greeter"
    state = {key: value for key, value in _BLOCK.findall(system)}
    contents = list(request.contents or [])
    # The current turn is the trailing run of this agent's own tool calls and their results.
    results: list[tuple[str, dict[str, Any]]] = []
    for content in reversed(contents):
        parts = content.parts or []
        responses = [p.function_response for p in parts if p.function_response is not None]
        if responses:
            results[:0] = [(r.name or "", r.response or {}) for r in responses]
        elif content.role == "model" and any(p.function_call is not None for p in parts):
            continue
        else:
            break
    user_text = ""
    for content in reversed(contents):
        if content.role == "user":
            texts = [p.text for p in content.parts or [] if p.text and not p.text.startswith("For context:")]
            if texts:
                user_text = texts[-1]
                break
    return Turn(agent=agent, state=state, user_text=user_text, tool_results=results)


def _chunks(text: str, words_per_chunk: int) -> list[str]:
    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i : i + words_per_chunk]) for i in range(0, len(tokens), words_per_chunk)]


class OfflineLlm(BaseLlm):
    """Registered with ADK's LLMRegistry under the name `offline`."""

    model: str = "offline"
    chunk_delay_ms: int = 12
    chunk_words: int = 3

    @classmethod
    def supported_models(cls) -> list[str]:
        return [r"offline(/.*)?"]

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        turn = read_turn(llm_request)
        script = SCRIPTS.get(turn.agent)
        reply = script(turn) if script else Reply(f"({OFFLINE_LABEL}: no script for {turn.agent})")
        if stream and reply.text:
            for chunk in _chunks(reply.text, max(1, self.chunk_words)):
                if self.chunk_delay_ms:
                    await asyncio.sleep(self.chunk_delay_ms / 1000)
                yield LlmResponse(
                    content=types.Content(role="model", parts=[types.Part(text=chunk)]),
                    partial=True,
                )
        parts: list[types.Part] = []
        if reply.text:
            parts.append(types.Part(text=reply.text))
        for name, args in reply.calls:
            parts.append(
                types.Part(
                    function_call=types.FunctionCall(name=name, args=args)
                )
            )
        prompt_tokens = _count_tokens(_system_text(llm_request)) + sum(
            _count_tokens(p.text or "") for c in llm_request.contents or [] for p in c.parts or []
        )
        completion_tokens = _count_tokens(reply.text) + sum(
            _count_tokens(json.dumps(args)) for _, args in reply.calls
        )
        # Token counts are estimates; the offline model costs nothing.
        await report_usage(
            model=self.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost_usd=0.0
        )
        yield LlmResponse(
            content=types.Content(role="model", parts=parts),
            partial=False,
            turn_complete=True,
            usage_metadata=types.GenerateContentResponseUsageMetadata(
                prompt_token_count=prompt_tokens,
                candidates_token_count=completion_tokens,
                total_token_count=prompt_tokens + completion_tokens,
            ),
        )


def _count_tokens(text: str) -> int:
    # Roughly what a BPE tokenizer gives for English prose: four characters a token.
    return (len(text) + 3) // 4
