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

from agente_films import notes as producer_notes
from agente_films.edits import later_note_touches, outline_sections
from agente_films.intent import Intent, note_effect, parse_message
from agente_films.runs.context import report_usage

OFFLINE_LABEL = "offline demo model"
_AGENT_NAME = re.compile(r'Your internal name is "([^"]+)"')
_BLOCK = re.compile(r"<([A-Za-z_]+)>\n?(.*?)\n?</\1>", re.DOTALL)
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

    def notes(self) -> list[dict[str, Any]]:
        """The producer's notes as the prompt renders them (a Python list of dicts)."""
        raw = self.get("producer_notes")
        try:
            return producer_notes.as_notes(ast.literal_eval(raw)) if raw else []
        except (ValueError, SyntaxError):
            return []

    @property
    def revision(self) -> int:
        raw = self.get("revision")
        return int(raw) if raw.isdigit() else 0

    def _literal(self, key: str) -> Any:
        raw = self.get(key)
        try:
            return ast.literal_eval(raw) if raw else None
        except (ValueError, SyntaxError):
            return None

    def regenerating(self, stage: str) -> bool:
        """The producer asked this revision for a fresh take of `stage`."""
        value = self._literal("regenerate")
        return isinstance(value, dict) and value.get("stage") == stage and value.get("revision") == self.revision

    def producer_edits(self) -> tuple[list[str], int]:
        """(sections the producer wrote by hand, the revision they wrote them in)."""
        value = self._literal("producer_edits")
        if not isinstance(value, dict):
            return [], 0
        return [str(s) for s in value.get("sections") or []], int(value.get("revision") or 0)

    def applied_notes(self) -> list[dict[str, Any]]:
        """Every note the writers' room has taken so far, in order: a draft applies them all."""
        return [n for n in self.notes() if n["status"] != "pending"]

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


_ANSWERS = {
    "capabilities": (
        "Name a historical figure or event and a team of agents develops a film pitch about it: a "
        "writers' room (researcher with Wikipedia, screenwriter, critic) drafts until the critic "
        "approves, a box-office analyst and a casting director report, and a file writer saves the "
        "pitch document. Afterwards, tell me what to change (\"make it darker\", \"Act II drags\") "
        "and the team revises it."
    ),
    "duration": (
        "With this offline model a pitch takes well under a minute; with a real model, a few "
        "minutes. You can send notes to the writers' room while it works."
    ),
    "model": (
        f"This studio runs on the built-in {OFFLINE_LABEL}: deterministic scripts for every agent, "
        "no real LLM and no network. Configure a LiteLLM model to use a real one."
    ),
    "other": "I can develop a film pitch about a historical figure or event, and revise it with you.",
}


def _greeting(subject: str) -> str:
    if subject:
        return (
            f"Hello again! The current pitch is about **{subject}**. Tell me what to change (for "
            "example *make it darker* or *Act II drags*), or name another subject."
        )
    return (
        "Welcome to **Agente Films**! I'm the greeter, running on the built-in "
        f"{OFFLINE_LABEL} (no real LLM is connected). Name a historical figure or topic "
        "(for example *Ada Lovelace*, *Hypatia of Alexandria* or *the Apollo 11 landing*) "
        "and our writers' room, box-office analyst and casting director will develop a film "
        "pitch about it."
    )


def _brief(intent: Intent, subject: str) -> Reply:
    if intent.kind == "revision":
        return Reply(
            f"Noted: \"{intent.note}\". The writers' room revises the current pitch on **{subject}** "
            f"with it; research, title and what the note does not touch stay. ({OFFLINE_LABEL})",
            [("brief_team", {"intent": "revision", "note": intent.note})],
        )
    direction = f", {intent.direction}" if intent.direction else ""
    lead = (
        f"A new film project: **{intent.subject}**{direction}. The pitch on {subject} stays in "
        "Documents. " if intent.kind == "switch" else f"**{intent.subject}**{direction}: a fine subject. "
    )
    return Reply(
        f"{lead}I'm handing it to the film concept team now; the writers' room starts with research. "
        f"({OFFLINE_LABEL})",
        [("brief_team", {"intent": intent.kind, "subject": intent.subject, "direction": intent.direction})],
    )


def _greeter(turn: Turn) -> Reply:
    subject = turn.get("PROMPT")
    refused = turn.last_result("brief_team")
    if refused is not None:  # an accepted brief hands over at once; this one was refused
        return Reply(f"I could not brief the team: {refused.get('message', 'unknown error')}")
    if turn.user_text.startswith(producer_notes.FOLLOW_UP_PREFIX):
        return Reply(
            f"The notes you sent came after the writers' room had finished, so the team now "
            f"revises the pitch on **{subject}** with them. ({OFFLINE_LABEL})",
            [("brief_team", {"intent": "revision", "note": ""})],
        )
    intent = parse_message(turn.user_text, subject or None)
    if intent.kind == "greeting":
        return Reply(_greeting(subject))
    if intent.kind == "question":
        return Reply(f"{_ANSWERS.get(intent.topic, _ANSWERS['other'])} ({OFFLINE_LABEL})")
    if intent.kind == "unclear":
        ask = (
            f"tell me what to change in the pitch on **{subject}**, or name another subject"
            if subject else "name a historical figure or event for the film (for example *Marie Curie*)"
        )
        return Reply(f"I did not catch a subject or a change there. Please {ask}. ({OFFLINE_LABEL})")
    return _brief(intent, subject)


def _research_focus(turn: Turn) -> str:
    feedback = turn.entries("CRITICAL_FEEDBACK")
    if feedback:
        match = re.search(r"Research focus: (.+)", feedback[-1])
        if match:
            return match.group(1).strip().rstrip(".")
    return ""


def _revision_query(turn: Turn) -> str | None:
    """In a revision the research stays: look up only a person a taken note brings in that the
    research does not mention yet."""
    known = " ".join(turn.entries("research")).lower()
    for note in turn.notes():
        name = note_effect(note["text"]).bigger_role if note["status"] == "taken" else None
        if name and name.lower() not in known:
            return name
    return None


def _researcher(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    found = turn.last_result("wikipedia_search")
    if turn.revision and turn.entries("research"):
        needed = _revision_query(turn)
        if needed is None:
            return Reply(
                f"The research on {subject} already covers this revision's notes; nothing new to "
                f"look up. ({OFFLINE_LABEL})"
            )
        query = f"{needed} {subject}"
    else:
        focus = _research_focus(turn)
        query = f"{subject} {focus}".strip() if focus else subject
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


# How a tone changes the draft: the logline's turn of phrase and one line in every act. The critic
# checks a tone note against the logline.
_TONES = {
    "darker": ("one stubborn conviction curdles into an obsession that costs everything and everyone",
               "The shadows lengthen: every gain is paid for in grief."),
    "lighter": ("one stubborn conviction turns into a joyful, stubborn adventure",
                "The mood stays warm: setbacks are met with wit and friendship."),
    "funnier": ("one stubborn conviction sets off a chain of gloriously absurd mishaps",
                "The comedy comes from pride colliding with bad timing."),
    "thriller": ("one stubborn conviction becomes a race against the clock with enemies closing in",
                 "The tension tightens: someone is watching, and time is running out."),
    "drama": ("one stubborn conviction becomes an intimate drama of loyalty and sacrifice",
              "The drama is in the quiet scenes: what is said, and what is not."),
    "comedy": ("one stubborn conviction sets off a chain of gloriously absurd mishaps",
               "The comedy comes from pride colliding with bad timing."),
    "family": ("one stubborn conviction becomes an adventure the whole family can cheer for",
               "The heart of it is family: who believes first, and who comes around."),
}
_BASE_LOGLINE = "one stubborn conviction becomes a fight for a legacy that will outlast everyone who doubted it"


def _tone_of(turn: Turn) -> str | None:
    """The tone the draft takes: the latest tone note, else the direction's tone."""
    for note in reversed(turn.applied_notes()):
        tone = note_effect(note["text"]).tone
        if tone in _TONES:
            return tone
    direction = turn.get("direction").lower()
    return next((tone for tone in _TONES if tone in direction), None)


def compose_outline(turn: Turn) -> str:
    """The offline screenwriter's draft: the subject and research, in the direction asked for,
    with every note taken so far applied where a reader can see it."""
    subject = turn.get("PROMPT") or "the subject"
    facts = _facts(turn)
    draft = len(turn.entries("CRITICAL_FEEDBACK")) + 1
    fact = facts[0][0].split(": ", 1)[-1] if facts else f"the life and times of {subject}."
    turning = facts[-1][0].split(": ", 1)[-1] if len(facts) > 1 else (
        f"the moment {subject}'s work is doubted by the people who matter most."
    )
    notes = turn.applied_notes()
    effects = [note_effect(n["text"]) for n in notes]
    tone = _tone_of(turn)
    logline_turn, tone_line = _TONES[tone] if tone else (_BASE_LOGLINE, "")
    roles = [e.bigger_role for e in effects if e.bigger_role]
    acts_to_rewrite = {e.act for e in effects if e.act}
    role_line = {
        1: " ".join(f"{name} enters early, as the ally who sees what {subject} sees." for name in roles),
        2: " ".join(f"{name} now carries half of Act II, sharing every risk." for name in roles),
        3: " ".join(f"{name} stands beside {subject} at the final test." for name in roles),
    }
    acts = {
        1: f"**Act I: The Spark.** We meet {subject} on the edge of obscurity. Grounding: {fact} "
           f"A chance encounter opens a door, and {subject} makes a choice that costs comfort and reputation.",
        2: f"**Act II: The Cost.** Rivals, money and family pull against the work. Turning point: "
           f"{turning} The midpoint reversal leaves {subject} alone with the idea.",
        3: f"**Act III: The Legacy.** {subject} risks everything on one public test. Win or lose, "
           f"the final image shows what the world later understood and the people who paid for it.",
    }
    rewritten = {
        1: f"**Act I: The Spark (rewritten).** We open in the middle of the action: {subject} already "
           f"at work and already in trouble. Grounding: {fact}",
        2: f"**Act II: The Cost (rewritten, tighter).** Three sharp setbacks in a row, each one "
           f"forcing a choice. Turning point: {turning} By the midpoint {subject} has lost the last ally.",
        3: f"**Act III: The Legacy (rewritten).** One public test, staged as a ticking clock; "
           f"{subject} wins or loses in a single scene, and the epilogue shows the price.",
    }
    paragraphs = []
    for number in (1, 2, 3):
        text = rewritten[number] if number in acts_to_rewrite else acts[number]
        extra = " ".join(part for part in (role_line[number] if roles else "", tone_line) if part)
        paragraphs.append(f"{text} {extra}".strip())
    revision = ""
    if draft > 1 and not notes:
        revision = (
            f"\n\n_Draft {draft}: revised for the critic. The stakes are now personal as well as "
            "historical, and every act leans on a researched fact._"
        )
    if notes:
        applied = "; ".join(f"\u201c{n['text']}\u201d" for n in notes)
        revision += f"\n\n_Producer's notes applied: {applied}._"
    if turn.regenerating("writers_room"):
        revision += f"\n\n_A fresh draft for revision {turn.revision}, from the previous outline, as the producer asked._"
    direction = turn.get("direction")
    direction_line = f"\n\n_Direction: {direction}._" if direction else ""
    title = f"**Title:** {outline_title(subject)}"
    logline = f"**Logline:** When the world underestimates {subject}, {logline_turn}."
    title, logline, paragraphs = _keep_producer_sections(turn, title, logline, paragraphs, logline_turn, tone_line)
    return (
        f"{title}\n\n{logline}\n\n"
        + "\n\n".join(paragraphs)
        + f"{direction_line}{revision}\n\n_Written by the {OFFLINE_LABEL}._"
    )


def _keep_producer_sections(
    turn: Turn, title: str, logline: str, acts: list[str], logline_turn: str, tone_line: str
) -> tuple[str, str, list[str]]:
    """The sections the producer wrote by hand stay theirs. A note taken after the edit that asks
    for that section changes it as little as it needs: a tone joins the producer's logline and
    acts, a bigger role joins the acts, an act rewrite replaces that act (the note asked for it)."""
    sections, edited_in = turn.producer_edits()
    current = turn.get("PLOT_OUTLINE")
    if not sections or not current:
        return title, logline, acts
    own = outline_sections(current)
    later = [note_effect(n["text"]) for n in turn.applied_notes() if int(n.get("revision") or 0) > edited_in]
    names = ("Act I", "Act II", "Act III")
    for section in sections:
        if section not in own:
            continue
        touching = [effect for effect in later if later_note_touches(section, effect)]
        if section == "Title":
            title = own[section]
        elif section == "Logline":
            logline = own[section]
            if any(e.tone for e in touching):
                logline = f"{logline.rstrip('.')}. In this version, {logline_turn}."
        elif section in names:
            index = names.index(section)
            if any(e.act == index + 1 for e in touching):
                continue  # the note asked to rewrite this act: the rewritten act stands
            text = own[section]
            if any(e.tone for e in touching) and tone_line and tone_line not in text:
                text = f"{text} {tone_line}"
            for name in [e.bigger_role for e in touching if e.bigger_role]:
                if name not in text:
                    text = f"{text} {name} is part of it too."
            acts[index] = text
    return title, logline, acts


def _screenwriter(turn: Turn) -> Reply:
    return Reply(compose_outline(turn))


def note_addressed(note: str, outline: str) -> tuple[bool, str]:
    """The offline critic's check of one note against the outline, and its words for it."""
    effect = note_effect(note)
    logline = _section(outline, "Logline")
    if effect.tone in _TONES:
        ok = _TONES[effect.tone][0] in logline
        return ok, (f"The logline and every act now read {effect.tone}." if ok
                    else f"The draft does not read {effect.tone} yet; the logline is unchanged.")
    if effect.bigger_role:
        acts = [part for part in outline.split("\n\n") if part.startswith("**Act")]
        count = sum(effect.bigger_role in act for act in acts)
        ok = count >= 2
        return ok, (f"{effect.bigger_role} now appears in {count} of the three acts." if ok
                    else f"{effect.bigger_role} is still missing from most of the acts.")
    if effect.act:
        label = {1: "I", 2: "II", 3: "III"}.get(effect.act, str(effect.act))
        ok = f"**Act {label}:" in outline and "(rewritten" in outline.split(f"**Act {label}:", 1)[-1].split("\n\n", 1)[0]
        return ok, (f"Act {label} is rewritten around sharper setbacks." if ok else f"Act {label} is unchanged.")
    ok = note in outline
    return ok, ("The draft names the note and applies it." if ok else "The draft does not take the note up.")


def _critic(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    outline = turn.get("PLOT_OUTLINE")
    earlier_feedback = turn.entries("CRITICAL_FEEDBACK")
    waiting = producer_notes.awaiting_verdict(turn.notes())
    if waiting and turn.last_result("judge_note") is None:
        calls = []
        for note in waiting:
            addressed, words = note_addressed(note["text"], outline)
            calls.append(("judge_note", {"note_id": note["id"], "addressed": addressed, "verdict": words}))
        return Reply(calls=calls)
    open_notes = producer_notes.unaddressed(turn.notes())
    if turn.last_result("append_to_state") is not None:
        if open_notes:
            return Reply(
                "Not yet: the draft does not answer " + ", ".join(f"\u201c{n['text']}\u201d" for n in open_notes)
                + f"; I sent it back with that note. ({OFFLINE_LABEL})"
            )
        return Reply(
            f"Not yet. **Structure:** solid three acts, but Act II sags without a midpoint "
            f"reversal. **Stakes:** the personal cost to {subject} is implied rather than shown. "
            f"**Historical grounding:** needs more on the legacy and the historical context, so I "
            f"sent the researcher back for it. ({OFFLINE_LABEL})"
        )
    if open_notes:
        feedback = "Apply the producer's notes: " + "; ".join(n["text"] for n in open_notes) + "."
        return Reply(calls=[("append_to_state", {"key": "CRITICAL_FEEDBACK", "value": feedback})])
    judged = [n for n in turn.notes() if n["status"] == "addressed" and n.get("revision") == turn.revision]
    if outline and (earlier_feedback or turn.revision):
        notes_line = ""
        if judged:
            notes_line = " **Producer's notes:** " + " ".join(
                f"\u201c{n['text']}\u201d: {n['verdict']}" for n in judged
            )
        return Reply(
            f"Approved. **Structure:** three clear acts with a midpoint reversal. **Stakes:** "
            f"personal and historical, and they now escalate. **Historical grounding:** each act "
            f"cites the research on {subject}.{notes_line} The outline is ready for preproduction. "
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
        f"recognition; mitigate with a marketable lead.{_notes_for(turn, 'box_office_researcher')}"
        f"{_fresh_take(turn, 'box_office', _BOX_OFFICE_TAKES)} "
        f"These are {OFFLINE_LABEL} estimates, not market data."
    )


def _casting(turn: Turn) -> Reply:
    subject = turn.get("PROMPT") or "the subject"
    return Reply(
        f"**Casting ideas for {subject}.** Lead: an actor with range to play {subject} across "
        f"two decades, from unknown to legend; a rising star paired with an awards-tested "
        f"supporting cast de-risks the budget. Key supporting roles: the mentor who opens the "
        f"first door, the rival who embodies the establishment, and the confidant who pays the "
        f"personal price. Look for chemistry reads between the lead and the rival early. "
        f"Director: someone with a track record in intimate period drama.{_notes_for(turn, 'casting_agent')}"
        f"{_fresh_take(turn, 'casting', _CASTING_TAKES)} ({OFFLINE_LABEL})"
    )


_CASTING_TAKES = [
    "cast against type: a comic actor whose stillness surprises, opposite a stage veteran as the rival",
    "an unknown found in an open call for the lead, with two international stars in the supporting roles",
    "an ensemble of character actors, so the subject's world feels lived in rather than starry",
    "a lead who can age forty years on screen without prosthetics, and a rival cast for menace, not fame",
]
_BOX_OFFICE_TAKES = [
    "a streaming-first premiere with a limited theatrical week for awards eligibility",
    "a wide summer release positioned as event counter-programming, budget held at $18-22M",
    "a spring festival launch and a slow platform rollout driven by word of mouth",
    "an international co-production that pre-sells territories to cover half the budget",
]


def _fresh_take(turn: Turn, stage: str, takes: list[str]) -> str:
    """A regenerated report's new angle, different for each revision that asks for one."""
    if not turn.regenerating(stage):
        return ""
    subject = turn.get("PROMPT") or "the subject"
    angle = takes[(turn.revision + int(hashlib.sha256(subject.encode()).hexdigest(), 16)) % len(takes)]
    return f" Fresh take for revision {turn.revision}, as the producer asked: {angle}."


def _notes_for(turn: Turn, agent: str) -> str:
    """A report revised for the notes that concern its agent says so, note by note."""
    notes = [n["text"] for n in turn.applied_notes() if agent in note_effect(n["text"]).touches]
    return "".join(f" Revised for the producer's note \u201c{text}\u201d." for text in notes)


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
    direction = turn.get("direction")
    notes = turn.applied_notes()
    notes_section = ""
    if notes:
        notes_section = "## Producer's notes\n\n" + "\n".join(
            f"- \u201c{n['text']}\u201d (revision {n.get('revision') or 0}, round {n.get('round')}): "
            f"{n.get('verdict') or 'taken'}" for n in notes
        ) + "\n\n"
    markdown = (
        f"# {title}\n\n"
        f"*A film pitch about {subject}*" + (f" · *{direction}*" if direction else "") + "\n\n"
        f"## Logline\n\n{logline}\n\n"
        f"## Outline\n\n{acts}\n\n"
        f"## Box-office report\n\n{turn.get('box_office_report') or 'Not available.'}\n\n"
        f"## Casting report\n\n{turn.get('casting_report') or 'Not available.'}\n\n"
        f"{notes_section}"
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
    saved_line = (
        f"The pitch document **{saved.get('filename')}** ({saved.get('version_label')}) is "
        f"saved and ready to download."
    )
    notes = [n for n in turn.notes() if n.get("revision") == turn.revision and n["status"] != "pending"]
    if turn.revision and notes:
        changed = " ".join(
            f"For \u201c{n['text']}\u201d: {n.get('verdict') or 'applied'}" for n in notes
        )
        saved_line += f" What changed in revision {turn.revision}: {changed}"
    return Reply(f"{saved_line} ({OFFLINE_LABEL})")


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
