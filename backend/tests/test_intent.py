"""agente_films.intent: each phrasing is checked against the whole Intent / NoteEffect it must give."""

from __future__ import annotations

import pytest

from agente_films.intent import TONES, Intent, NoteEffect, note_effect, parse_message

ADA = "Ada Lovelace"


def subject(name: str, direction: str = "") -> Intent:
    return Intent("new_subject", subject=name, direction=direction)


def switch(name: str, direction: str = "") -> Intent:
    return Intent("switch", subject=name, direction=direction)


def revision(note: str) -> Intent:
    return Intent("revision", note=note)


def question(topic: str) -> Intent:
    return Intent("question", topic=topic)


GREETING = Intent("greeting")
UNCLEAR = Intent("unclear")

PARSE_CASES = [
    # greetings
    ("hi", None, GREETING),
    ("hello there", None, GREETING),
    ("hey!", None, GREETING),
    ("good morning", None, GREETING),
    ("thanks", ADA, GREETING),
    ("thank you!", None, GREETING),
    # questions about the studio, one row per topic and more
    ("hi there, what do you do?", None, question("capabilities")),
    ("what can you do?", None, question("capabilities")),
    ("help", None, question("capabilities")),
    ("how long does it take?", None, question("duration")),
    ("which model is this?", None, question("model")),
    ("what model are you using", None, question("model")),
    ("who are you?", None, question("other")),
    ("how does this work?", None, question("other")),
    ("how long does it take?", ADA, question("duration")),
    # a subject, after lead-ins, with and without a trailing direction
    ("Can you make a movie about Nikola Tesla?", None, subject("Nikola Tesla")),
    ("I'd like a biopic on marie curie, for teenagers", None, subject("Marie Curie", "for teenagers")),
    ("the Apollo 11 landing as a thriller", None, subject("the Apollo 11 landing", "thriller")),
    ("a thriller about the Apollo 11 landing", None, subject("the Apollo 11 landing", "thriller")),
    ("I'd like a film about Grace Hopper, darker in tone", None, subject("Grace Hopper", "darker in tone")),
    ("Grace Hopper darker in tone", None, subject("Grace Hopper", "darker in tone")),
    ("Thanks! Now I'd like a film about Grace Hopper instead, darker in tone", None,
     subject("Grace Hopper", "darker in tone")),
    ("Hey, can you make a movie about the French Revolution as a musical?", None,
     subject("the French Revolution", "musical")),
    ("a dark comedy about the Dreyfus affair", None, subject("the Dreyfus affair", "dark comedy")),
    ("a short film about tesla", None, subject("Tesla", "short")),
    ("Tesla movie", None, subject("Tesla")),
    ("tesla but funnier", None, subject("Tesla", "funnier")),
    ("Marie Curie, focusing on her early years", None, subject("Marie Curie", "focusing on her early years")),
    ("Marie Curie about her later life", None, subject("Marie Curie", "about her later life")),
    ("Nikola Tesla in the style of Wes Anderson", None, subject("Nikola Tesla", "in the style of Wes Anderson")),
    ("Tesla with a darker tone", None, subject("Tesla", "with a darker tone")),
    ("Nikola Tesla in 90 minutes", None, subject("Nikola Tesla", "in 90 minutes")),
    ("can you do Ada Lovelace?", None, subject("Ada Lovelace")),
    ("Tell me about Tesla", None, subject("Tesla")),
    ("do one on Hedy Lamarr", None, subject("Hedy Lamarr")),
    ("Good morning! I'd love a film about Nzinga of Ndongo, epic in scope", None,
     subject("Nzinga of Ndongo", "epic in scope")),
    ("Ada Lovelace, for teenagers, darker", None, subject("Ada Lovelace", "for teenagers, darker")),
    # names: kept as typed when capitalised, repaired when typed in lower case
    ("Ada Lovelace", None, subject("Ada Lovelace")),
    ("ada lovelace", None, subject("Ada Lovelace")),
    ("ada lovelace please", None, subject("Ada Lovelace")),
    ("sofia kovalevskaya", None, subject("Sofia Kovalevskaya")),
    ("ibn battuta", None, subject("Ibn Battuta")),
    ("ibn battuta from his point of view", None, subject("Ibn Battuta", "from his point of view")),
    ("a film about Leonardo da Vinci", None, subject("Leonardo da Vinci")),
    ("leonardo da vinci", None, subject("Leonardo da Vinci")),
    ("hypatia of alexandria", None, subject("Hypatia of Alexandria")),
    ("I'd like to see a film on zheng he for kids", None, subject("Zheng He", "for kids")),
    ("Zheng He", None, subject("Zheng He")),
    ("nzinga of ndongo", None, subject("Nzinga of Ndongo")),
    ("mansa musa, as an epic", None, subject("Mansa Musa", "epic")),
    ("simón bolívar", None, subject("Simón Bolívar")),
    ("émilie du châtelet", None, subject("Émilie du Châtelet")),
    ("louis xiv for kids", None, subject("Louis XIV", "for kids")),
    ("barbara mcclintock", None, subject("Barbara McClintock")),
    ("georgia o'keeffe", None, subject("Georgia O'Keeffe")),
    ("muhammad al-khwarizmi", None, subject("Muhammad al-Khwarizmi")),
    ("alexander the great", None, subject("Alexander the Great")),
    ("the fall of the berlin wall", None, subject("The Fall of the Berlin Wall")),
    ("the Great Fire of London", None, subject("the Great Fire of London")),
    ("a biopic of ida b. wells", None, subject("Ida B. Wells")),
    ("Martin Luther King, Jr.", None, subject("Martin Luther King, Jr.")),
    ("NIKOLA TESLA", None, subject("Nikola Tesla")),
    ("NASA", None, subject("NASA")),
    # the UI's direction chips join the direction, after the sentence's own
    ("Ada Lovelace\nDirection: thriller, darker", None, subject("Ada Lovelace", "thriller, darker")),
    ("a film about Grace Hopper, darker\nDirection: thriller", None, subject("Grace Hopper", "darker, thriller")),
    ("the Apollo 11 landing as a thriller\nDirection: thriller", None, subject("the Apollo 11 landing", "thriller")),
    ("Direction: darker", ADA, revision("Darker")),
    ("Direction: darker", None, UNCLEAR),
    # switches: a different subject while one is being worked on
    ("Thanks! Now I'd like a film about Grace Hopper instead, darker in tone", ADA,
     switch("Grace Hopper", "darker in tone")),
    ("actually, let's do Hedy Lamarr instead", ADA, switch("Hedy Lamarr")),
    ("Hedy Lamarr", ADA, switch("Hedy Lamarr")),
    ("what about Hedy Lamarr?", ADA, switch("Hedy Lamarr")),
    ("Ok, Hedy Lamarr then", ADA, switch("Hedy Lamarr")),
    ("Hedy Lamarr instead of Ada, please", ADA, switch("Hedy Lamarr")),
    ("let's go with the wright brothers", ADA, switch("The Wright Brothers")),
    # revisions of the current pitch
    ("make it funnier", ADA, revision("Make it funnier")),
    ("darker", ADA, revision("Darker")),
    ("funnier please", ADA, revision("Funnier")),
    ("give Charles Babbage a bigger role", ADA, revision("Give Charles Babbage a bigger role")),
    ("Act II drags", ADA, revision("Act II drags")),
    ("the middle is slow", ADA, revision("The middle is slow")),
    ("the ending feels rushed", ADA, revision("The ending feels rushed")),
    ("cast someone younger", ADA, revision("Cast someone younger")),
    ("can you make the ending happier?", ADA, revision("Make the ending happier")),
    ("Thanks! Could you make the ending happier?", ADA, revision("Make the ending happier")),
    ("more about her childhood", ADA, revision("More about her childhood")),
    ("shorter logline", ADA, revision("Shorter logline")),
    ("I don't like the title", ADA, revision("I don't like the title")),
    ("I think Act 2 is too slow", ADA, revision("I think Act 2 is too slow")),
    ("make it darker\nDirection: thriller", ADA, revision("Make it darker; thriller")),
    # the same subject again: with a direction it is a revision, without one nothing changes
    ("Ada Lovelace, darker", ADA, revision("Darker")),
    ("a film about ada lovelace as a thriller", ADA, revision("Thriller")),
    ("Lovelace, but darker", ADA, revision("Darker")),
    ("Ada Lovelace", ADA, UNCLEAR),
    # notes with nothing to revise
    ("make it funnier", None, UNCLEAR),
    ("give Charles Babbage a bigger role", None, UNCLEAR),
    ("I don't like the title", None, UNCLEAR),
    # nonsense
    ("asdf", None, UNCLEAR),
    ("qwerty uiop", None, UNCLEAR),
    ("hi asdf", None, UNCLEAR),
    ("???", None, UNCLEAR),
    ("123", None, UNCLEAR),
    ("", None, UNCLEAR),
    ("   ", None, UNCLEAR),
    ("\N{CLAPPER BOARD}", None, UNCLEAR),
    ("ok", None, UNCLEAR),
    ("Ada Lovelace was a mathematician and writer " * 8, None, UNCLEAR),
]


@pytest.mark.parametrize(("text", "current", "expected"), PARSE_CASES, ids=[repr(c[0])[:50] for c in PARSE_CASES])
def test_parse_message(text: str, current: str | None, expected: Intent) -> None:
    assert parse_message(text, current) == expected


def test_a_long_note_on_the_current_pitch_is_still_a_revision() -> None:
    note = "The title is weak and the second act needs a proper midpoint reversal. " * 5
    assert len(note) > 300
    assert parse_message(note, ADA) == revision(note.strip().rstrip("."))
    assert parse_message(note, None) == UNCLEAR


NOTE_CASES = [
    ("more comedic", NoteEffect("funnier", None, None, frozenset())),
    ("make it funny", NoteEffect("funnier", None, None, frozenset())),
    ("make it a comedy", NoteEffect("comedy", None, None, frozenset())),
    ("darker in tone", NoteEffect("darker", None, None, frozenset())),
    ("more grim", NoteEffect("darker", None, None, frozenset())),
    ("less dark please", NoteEffect("lighter", None, None, frozenset())),
    ("Make the ending happier", NoteEffect("lighter", None, None, frozenset())),
    ("darker, thriller", NoteEffect("darker", None, None, frozenset())),
    ("more suspense in the heist", NoteEffect("thriller", None, None, frozenset())),
    ("give Charles Babbage a bigger role", NoteEffect(None, "Charles Babbage", None, frozenset())),
    ("more of Babbage", NoteEffect(None, "Babbage", None, frozenset())),
    ("give babbage more screen time", NoteEffect(None, "Babbage", None, frozenset())),
    ("Mary Somerville deserves a bigger part", NoteEffect(None, "Mary Somerville", None, frozenset())),
    ("give her a bigger role", NoteEffect(None, None, None, frozenset())),
    ("more about her childhood", NoteEffect(None, None, None, frozenset())),
    ("Act II drags", NoteEffect(None, None, 2, frozenset())),
    ("the second act is slow", NoteEffect(None, None, 2, frozenset())),
    ("act 3 needs more punch", NoteEffect(None, None, 3, frozenset())),
    ("Act one is too long", NoteEffect(None, None, 1, frozenset())),
    ("the final act feels rushed and too dark", NoteEffect("lighter", None, 3, frozenset())),
    ("cast someone younger", NoteEffect(None, None, None, frozenset({"casting_agent"}))),
    ("a different actor for the lead", NoteEffect(None, None, None, frozenset({"casting_agent"}))),
    ("lower the budget", NoteEffect(None, None, None, frozenset({"box_office_researcher"}))),
    ("aim at a wider audience", NoteEffect(None, None, None, frozenset({"box_office_researcher"}))),
    ("release in summer", NoteEffect(None, None, None, frozenset({"box_office_researcher"}))),
    ("what about the box office?", NoteEffect(None, None, None, frozenset({"box_office_researcher"}))),
    ("recast the lead and cut the budget",
     NoteEffect(None, None, None, frozenset({"casting_agent", "box_office_researcher"}))),
    ("family-friendly, for kids", NoteEffect("family", None, None, frozenset({"box_office_researcher"}))),
    ("a more romantic Act III for Ada and Babbage", NoteEffect("romantic", None, 3, frozenset())),
]


@pytest.mark.parametrize(("note", "expected"), NOTE_CASES, ids=[c[0] for c in NOTE_CASES])
def test_note_effect(note: str, expected: NoteEffect) -> None:
    assert note_effect(note) == expected


def test_every_tone_chip_reads_as_a_tone_and_as_a_revision() -> None:
    assert TONES == ("drama", "thriller", "comedy", "family", "darker", "lighter")
    for tone in TONES:
        assert note_effect(tone).tone == tone
        assert parse_message(tone, ADA) == revision(tone.capitalize())
        assert parse_message(f"Direction: {tone}", ADA) == revision(tone.capitalize())


def test_a_long_note_is_read_in_bounded_time() -> None:
    import time

    started = time.perf_counter()
    for text in ("A" * 8000, "A " * 4000, "make it darker " * 500):
        note_effect(text)
        parse_message(text, "Ada Lovelace")
    assert time.perf_counter() - started < 0.5  # before the cap: 6 s for the first two alone
