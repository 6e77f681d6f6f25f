"""What a person means by one chat message, worked out without a language model.

Agente Films runs fully offline: a built-in model plays the greeter, screenwriter and critic when no
LLM is configured, and the run manager has to classify a message that arrives while the team is
already working (a note on the pitch, or a different subject?). Both need the same answer for the same
sentence, and both must be predictable and testable, so this is a small deterministic parser (stdlib
only) rather than a prompt. It works on tokens, in stages:

1. the UI's chip line ("Direction: thriller, darker") is cut off and kept for the direction;
2. greetings, thanks and fillers at the front ("hi there,", "Thanks!", "actually,") are stripped;
3. a question about the studio ("what can you do?") is recognised, unless the message names a subject;
4. the subject is found after a cue ("a biopic on ...") or, after request lead-ins ("let's do",
   "can you"), as the bare rest of the message;
5. the direction is split off the subject: everything from the first boundary (a comma, "as a",
   "but", "for teenagers", "in the style of", "with a ... tone", "focusing on", ...), plus a trailing
   run of tone words ("Grace Hopper darker in tone"), plus adjectives and genre nouns in front of the
   cue ("a dark comedy about ..."); connectors that carry no meaning ("as a", "but", "make it") are
   trimmed, meaningful ones ("for teenagers", "in the style of Hitchcock") are kept;
6. capitalisation is repaired. A subject with any upper-case letter is kept as typed ("the Apollo 11
   landing"); one typed all in lower case (or shouted in capitals, two words or more) is title-cased:
   every word capitalised except particles after the first word (da, de, van, von, of, the, ibn,
   bin, al, ...), Roman numerals upper-cased, "mc"/"o'" names fixed. So "leonardo da vinci" ->
   "Leonardo da Vinci" and "the fall of the berlin wall" -> "The Fall of the Berlin Wall".

Other decisions: a message naming the current subject again with a direction is a revision whose
note is that direction; naming it again with no direction is "unclear" (nothing to change, nothing new).
A note-like message with no current subject is "unclear" too. A revision with chips gets them appended
to its note after "; ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

IntentKind = Literal["greeting", "question", "new_subject", "revision", "switch", "unclear"]

# The direction chips the UI offers.
TONES: tuple[str, ...] = ("drama", "thriller", "comedy", "family", "darker", "lighter")

MAX_CHARS = 300  # longer than this is a letter, not a chat message: only a note is read from it


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    subject: str = ""
    direction: str = ""
    note: str = ""
    topic: str = ""


@dataclass(frozen=True)
class NoteEffect:
    tone: str | None
    bigger_role: str | None
    act: int | None
    touches: frozenset[str]


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


# --- vocabulary ----------------------------------------------------------------------------------
# Tone/genre words that almost never end a subject, so a trailing run of them is direction.
_STRONG = _words(
    "thriller thrillers comedy drama darker dark lighter funnier funny comedic romantic romcom rom-com"
    " epic horror musical noir gritty grittier grim grimmer bleak bleaker tragic whimsical uplifting"
    " lighthearted light-hearted suspenseful docudrama documentary miniseries mini-series dramedy short"
    " mockumentary melodrama satire satirical scary scarier animated shorter sadder happier moody"
    " family-friendly kid-friendly"
)
# Words that read as direction after "as", "with", or in front of a film noun.
_BROAD = _STRONG | _words(
    "light serious dramatic action adventure spy war period historical political psychological intimate"
    " sweeping inspirational quirky feel-good hopeful stylish indie arthouse experimental biographical"
    " fantasy sci-fi family tense western mystery romance animation cartoon series feature young-adult"
    " violent gentle sad happy upbeat cheerful surreal tragedy comic comical humorous silent gothic"
    " thrilling chilling slow-burn fast-paced low-budget blockbuster"
)
_FILM_NOUNS = _words(
    "film films movie movies biopic biopics pitch picture feature screenplay script flick story tale"
    " treatment take version spin one something documentary docudrama drama thriller comedy romcom"
    " dramedy musical western miniseries series epic short horror noir mockumentary satire animation"
    " portrait adaptation"
)
_GENRE_NOUNS = _FILM_NOUNS & _BROAD  # "a thriller about X": the noun itself is direction
_OF_NOUNS = _words("story tale biopic portrait version take adaptation")  # "the story of X"
_AUDIENCE = _words(
    "teenagers teens teen kids children child families family adults adult grown-ups grownups"
    " everyone audiences audience students"
)
_AUDIENCE_MODS = _words("a an the young younger older general wide wider mature adult family teen mainstream")
_STYLE_NOUNS = _words(
    "style tone way manner vein register mode format spirit tradition genre twist ending focus"
    " emphasis humour humor edge flavour flavor vibe vibes feel touch"
)
_GLUE = _words(
    "in tone toned style feel mood vibe a bit little lot more much very and film movie version kind sort of but"
    " slightly way far"
)
_GLUE_NOSTART = _words("in and of film movie version tone toned style feel mood vibe but kind sort")
_SPLIT_WORDS = _words(
    "but focusing focussing focused focussed centred centered concentrating especially particularly"
    " mainly mostly told aimed targeted targeting starring"
)
# Kept lower case inside a repaired name ("Leonardo da Vinci", "Hypatia of Alexandria").
_PARTICLES = _words(
    "a an and at da das de del della der des di do dos du e el for from ibn bin bint in la le of on the to van"
    " von y zu al ten ter"
)
_POSSESSIVES = _words("her his their its")
_PRONOUNS = _POSSESSIVES | _words("i me my you your yourself we us our it it's them him she they this that")
_NOTE_STARTS = _words(
    "make give add cut remove drop change cast recast rewrite rework redo shorten lengthen tighten expand"
    " trim swap replace tone keep focus lose use move put show include lower raise increase reduce aim"
    " target rename retitle emphasise emphasize highlight explore fix improve develop flesh lean push"
    " soften sharpen skip avoid don't dont not no less more fewer too i i'm i'd it it's its this that"
    " these those he she they we needs need set start end open begin spend bring let there there's"
    " mention stress kill"
)
_NOT_SUBJECT_START = _NOTE_STARTS | _words(
    "what what's whats how how's who who's which when why where can could do does did is are was were"
    " will would should shall may might must has have had you your yes yeah nope ok okay hi hello thanks"
    " and or but so because if just also still really very my our me us him her his them their"
)
_PITCH_PARTS = _words(
    "title logline ending opening beginning climax scene scenes character characters cast casting actor"
    " actors actress budget audience release villain protagonist synopsis tagline dialogue pacing plot"
    " storyline arc runtime subplot midpoint comps outline pitch premise middle pace tone"
)
_COMPARATIVES = _words(
    "darker lighter funnier shorter longer happier sadder scarier grittier softer bigger smaller faster"
    " slower tighter punchier younger older simpler cheaper warmer sharper stronger clearer bolder edgier"
    " grimmer bleaker heavier livelier"
)
_FUNCTION = _PARTICLES | _PRONOUNS | _words("some any another someone something with by")
# "the Stamp Act" is a subject; an act with a number is part of the pitch.
_ACT = re.compile(r"\bact\s+(iii|ii|iv|i|v|[1-5]|one|two|three|four|five)\b"
                  r"|\b(first|second|third|fourth|fifth|1st|2nd|3rd|final|last|middle|opening|closing)\s+act\b")
_ACT_NUMBERS = {"i": 1, "1": 1, "one": 1, "first": 1, "1st": 1, "opening": 1,
                "ii": 2, "2": 2, "two": 2, "second": 2, "2nd": 2, "middle": 2,
                "iii": 3, "3": 3, "three": 3, "third": 3, "3rd": 3, "final": 3, "last": 3, "closing": 3,
                "iv": 4, "4": 4, "four": 4, "fourth": 4, "v": 5, "5": 5, "five": 5, "fifth": 5}


def _phrases(*items: str) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted((tuple(p.split()) for p in items), key=len, reverse=True))  # longest first


_SOCIAL = _phrases(
    "hi", "hello", "hey", "hiya", "howdy", "greetings", "good morning", "good afternoon", "good evening",
    "good day", "thanks", "thank you", "thank you so much", "thanks a lot", "many thanks", "thx", "ty",
    "cheers", *(f"{g} {w}" for g in ("hi", "hello", "hey") for w in ("there", "team", "all", "everyone", "folks")),
)
_FILLERS = _phrases(
    "ok", "okay", "actually", "now", "so", "also", "anyway", "anyways", "um", "uh", "hmm", "oh", "alright",
    "well", "yes", "yeah", "yep", "sure", "then", "and", "please",
)
# Praise words that also start names ("Great Wall"), stripped only when punctuation follows.
_PUNCT_FILLERS = _phrases(
    "great", "cool", "nice", "perfect", "awesome", "lovely", "wonderful", "excellent", "brilliant",
    "amazing", "good", "fine", "right", "no", "nope", "wow", "love it", "sounds good", "got it",
    "that's great", "interesting",
)
_REQUEST = _phrases(
    "can you", "could you", "would you", "will you", "can we", "could we", "shall we", "i'd like",
    "id like", "i would like", "i'd love", "i would love", "i want", "i wanna", "to", "see", "let's",
    "lets", "let us", "let's do", "let's go with", "let's try", "how about", "what about", "maybe",
    "perhaps", "do", "try", "go with", "switch to", "change to", "change it to", "change the subject to",
    "pitch", "pitch me", "give me", "tell me about", "rather", "we could do", "i'm thinking", "i was thinking",
    "i think",
)
_POLITE = _phrases(
    "can you", "could you", "would you", "will you", "can we", "could we", "please", "i'd like you to",
    "i want you to", "i would like you to", "maybe", "perhaps", "also", "and", "now", "ok", "okay", "so",
    "actually", "just",
)
_CUE_PREPS = _phrases(
    "about", "on", "around", "covering", "featuring", "following", "regarding", "concerning", "based on",
    "inspired by", "telling", "centred on", "centered on",
)
_SUBJECT_LEADS = _phrases(
    "about", "the life of", "the life and times of", "the story of", "the true story of", "the tale of",
    "someone named", "someone called", "a person named", "a man named", "a woman named", "named", "called",
    "someone like", "somebody like",
)
_DIR_LEADS = _phrases(
    "but", "and", "as a", "as an", "as", "make it", "make this", "make the film", "make the movie",
    "keep it", "that is", "that's", "thats", "which is", "it should be", "should be", "ideally",
    "preferably", "maybe", "please", "i want it", "i'd like it", "done as",
)
_COURTESY = _phrases("please", "pls", "plz", "thanks", "thank you", "instead", "now", "then", "ok", "cheers")
_TOPIC_CUES = (  # checked in this order: "what model can you use" is about the model
    ("model", ("model", "models", "llm", "llms", "gpt", "gemini", "claude", "chatgpt", "openai",
               "anthropic", "which ai", "what ai", "powered by", "under the hood")),
    ("duration", ("how long", "how much time", "how fast", "how quickly", "how quick", "when will",
                  "how soon", "eta")),
    ("capabilities", ("what can you", "what do you do", "what do you make", "what can i", "what can this",
                      "what is this", "what's this", "whats this", "what are you able", "what kind of",
                      "what kinds of", "what sort of", "what else", "what does this do", "what does it do",
                      "what do you offer", "about yourself", "help", "capabilities", "features", "what are your")),
)
_Q_START = _words(
    "what what's whats how how's who who's whos which when why where can could do does is are will would did"
    " should may"
)


# --- tokens --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tok:
    src: str  # the whole message, so a run of tokens can be cut back out with its own spacing
    start: int
    end: int
    low: str  # lower case, curly apostrophe straightened, abbreviation dot dropped
    word: bool

    @property
    def text(self) -> str:
        return self.src[self.start : self.end]


_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_ABBREV = _words("st jr sr dr mr mrs ms mt ft gen col capt lt sgt prof rev hon gov sen vs")


def _tokenize(src: str) -> list[_Tok]:
    toks, i = [], 0
    while i < len(src):
        if src[i].isspace():
            i += 1
            continue
        m = _WORD.match(src, i)
        if not m:  # punctuation and emoji are one-character tokens
            toks.append(_Tok(src, i, i + 1, src[i], False))
            i += 1
            continue
        low, end = m.group().lower().replace("\u2019", "'"), m.end()
        if src[end : end + 1] == "." and (len(low) == 1 or low in _ABBREV):
            end += 1  # "St." "Jr." "J." stay in the name instead of ending a sentence
        toks.append(_Tok(src, i, end, low, True))
        i = end
    return toks


def _span(toks: list[_Tok]) -> str:
    return toks[0].src[toks[0].start : toks[-1].end] if toks else ""


def _match(toks: list[_Tok], i: int, phrases: tuple[tuple[str, ...], ...]) -> int:
    for p in phrases:
        window = toks[i : i + len(p)]
        if 0 <= i <= len(toks) - len(p) and all(t.word and t.low == w for t, w in zip(window, p, strict=True)):
            return len(p)
    return 0


def _strip_front(toks: list[_Tok], phrases: tuple[tuple[str, ...], ...]) -> list[_Tok]:
    i = 0
    while True:
        while i < len(toks) and not toks[i].word:
            i += 1
        n = _match(toks, i, phrases)
        if not n:
            return toks[i:]
        i += n


def _strip_back(toks: list[_Tok], phrases: tuple[tuple[str, ...], ...]) -> list[_Tok]:
    while toks:
        if not toks[-1].word:
            toks = toks[:-1]
        elif n := next((len(p) for p in phrases if _match(toks, len(toks) - len(p), (p,))), 0):
            toks = toks[:-n]
        else:
            break
    return toks


def _strip_social(toks: list[_Tok]) -> tuple[list[_Tok], bool]:
    """Drop greetings, thanks and fillers from the front; say whether any greeting or thanks was there."""
    i, social = 0, False
    while True:
        while i < len(toks) and not toks[i].word:
            i += 1
        if n := _match(toks, i, _SOCIAL):
            social = True
        elif not (n := _match(toks, i, _FILLERS)):
            n = _match(toks, i, _PUNCT_FILLERS)
            if n and i + n < len(toks) and toks[i + n].word:
                n = 0
        if not n:
            return toks[i:], social
        i += n


def _gibberish(word: str) -> bool:
    letters = "".join(c for c in word if c.isalpha())
    if not letters:
        return True  # a bare number is no subject
    if not letters.isascii() or len(letters) < 3:
        return False
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    if any(letters in row or (len(letters) > 3 and letters in row[::-1]) for row in rows):
        return True  # a run along one keyboard row: "asdf", "qwerty", "uiop"
    return not re.search(r"[aeiouy]", letters) or bool(re.search(r"(.)\1\1|[^aeiouy]{6,}", letters))


# --- capitalisation ------------------------------------------------------------------------------
_ROMAN = re.compile(r"x{0,3}(?:ix|iv|v?i{0,3})")


def _cap_piece(p: str, first: bool) -> str:
    head, sep, tail = p.partition("'")
    if sep and head == "o":
        return "O'" + tail.capitalize()
    if sep and head in ("d", "l"):
        return (head.upper() if first else head) + "'" + tail.capitalize()
    if p.startswith("mc") and len(p) > 3:
        return "Mc" + p[2:].capitalize()
    return p.capitalize()


def _cap_word(word: str, first: bool) -> str:
    if not first and word in _PARTICLES:
        return word
    if not first and word and _ROMAN.fullmatch(word):
        return word.upper()
    parts = word.split("-")
    out = [parts[0] if not first and parts[0] in _PARTICLES else _cap_piece(parts[0], first)]
    return "-".join(out + [_cap_piece(p, False) for p in parts[1:]])


def _repair_caps(s: str) -> str:
    s = " ".join(s.split())
    letters = [c for c in s if c.isalpha()]
    shouted = letters and all(c.isupper() for c in letters) and len(s.split()) > 1
    if any(c.isupper() for c in letters) and not shouted:
        return s  # the person capitalised it: trust them ("the Apollo 11 landing", "NASA")
    return " ".join(_cap_word(w, i == 0) for i, w in enumerate(s.lower().replace("\u2019", "'").split()))


# --- subject and direction -----------------------------------------------------------------------
def _is_dir_word(t: _Tok) -> bool:
    return t.word and (t.low in _BROAD or any(p in _BROAD for p in t.low.split("-"))
                       or re.fullmatch(r"\d+-?min(?:ute)?s?", t.low) is not None)


def _leading_direction(toks: list[_Tok], i: int) -> str:
    """Adjectives in front of the film noun ("a dark comedy about"), and the noun if it is a genre."""
    j = i
    while j > 0 and (_is_dir_word(toks[j - 1]) or toks[j - 1].text == ","
                     or toks[j - 1].low in ("and", "very", "really", "slightly", "quite", "minute")
                     or toks[j - 1].low.isdigit()):
        j -= 1
    while j < i and (not toks[j].word or toks[j].low == "and"):
        j += 1
    end = i + 1 if toks[i].low in _GENRE_NOUNS else i
    return _span(toks[j:end])


def _find_cue(toks: list[_Tok]) -> tuple[str, list[_Tok]] | None:
    """"... a film about X": returns the direction in front of the cue and the tokens after it."""
    for i, t in enumerate(toks):
        if t.word and t.low in _FILM_NOUNS:
            n = _match(toks, i + 1, _CUE_PREPS) or (t.low in _OF_NOUNS and _match(toks, i + 1, (("of",),)))
            if n:
                return _leading_direction(toks, i), toks[i + 1 + n :]
    return None


def _is_boundary(toks: list[_Tok], k: int) -> bool:
    """Does the direction start at token k? Prepositions count only with the words that make them
    direction ("for teenagers", "in the style of"), since "for" and "in" also live inside subjects."""
    t = toks[k]
    nxt = [x.low for x in toks[k + 1 : k + 7] if x.word]
    n1 = nxt[0] if nxt else ""
    if not t.word:
        return t.text in ",;:\u2014\u2013-(!?." and not (t.text == "," and n1 in ("jr", "sr", "junior", "ii", "iii"))
    w = t.low
    if w in _SPLIT_WORDS:
        return True
    if w == "as":
        return n1 in ("a", "an", "told") or n1 in _BROAD
    if w == "for":  # "for teenagers", "for a general audience"; not "the race for the South Pole"
        at = next((i for i, x in enumerate(nxt[:3]) if x in _AUDIENCE), None)
        return at is not None and all(x in _AUDIENCE_MODS for x in nxt[:at])
    if w == "in":
        after_dir = k > 0 and _is_dir_word(toks[k - 1])  # "darker in tone" stays one phrase
        return not after_dir and (any(x in _STYLE_NOUNS for x in nxt[:4]) or n1.isdigit() or n1 == "under"
                                  or nxt[:3] == ["black", "and", "white"])
    if w == "with":
        return any(x in _BROAD or x in _STYLE_NOUNS for x in nxt[:4])
    if w in ("about", "on"):
        return n1 in _POSSESSIVES  # "... about her later life" is focus
    if w == "from":
        return any(x in ("perspective", "pov", "view", "viewpoint", "eyes") for x in nxt[:5])
    if w == "set":
        return n1 in ("in", "during")
    if w in ("make", "keep"):
        return n1 in ("it", "them", "this", "the", "her", "him", "his", "sure")
    if w in ("that", "which"):
        return n1 in ("is", "should", "feels")
    if w == "and":
        return n1 in ("make", "keep", "with") or n1 in _STRONG
    return False


def _trailing_run(head: list[_Tok]) -> int:
    """Index where a trailing run of tone words starts ("Grace Hopper darker in tone"), else len(head).
    A capitalised tone word inside a name ("The Comedy of Errors") is not direction."""
    def strong(k: int) -> bool:
        return head[k].low in _STRONG and (k == 0 or head[k].text == head[k].low)

    k = len(head)
    while k > 0 and head[k - 1].word and (strong(k - 1) or head[k - 1].low in _GLUE):
        k -= 1
    while k < len(head) and head[k].low in _GLUE_NOSTART:
        k += 1
    return k if any(strong(j) for j in range(k, len(head))) else len(head)


def _tidy_direction(toks: list[_Tok]) -> str:
    toks = _strip_back(_strip_front(toks, _DIR_LEADS), _COURTESY)
    if len(toks) > 1 and toks[0].low in ("a", "an") and toks[1].low not in ("bit", "little", "lot", "touch"):
        toks = toks[1:]
    text = _span(toks)
    if toks and toks[0].low in _LOWER_FIRST:  # "Darker in tone" after a comma reads "darker in tone"
        text = text[0].lower() + text[1:]
    return text


_LOWER_FIRST = _BROAD | _GLUE | _SPLIT_WORDS | _words("for with about from set more less")


def _trim_subject(toks: list[_Tok]) -> tuple[str, list[_Tok]]:
    while True:
        toks = _strip_front(toks, _SUBJECT_LEADS)
        if toks and toks[0].low in ("a", "an", "some", "another") and toks[0].text.islower():
            toks = toks[1:]  # "a Tesla biopic"; but a typed title "A Tale of Two Cities" keeps its "A"
            continue
        break
    toks = _strip_back(toks, _COURTESY)
    text = _span(toks)
    if len(toks) > 1 and toks[-1].low in _FILM_NOUNS - _GENRE_NOUNS:  # "Tesla movie", "Tesla's story"
        toks = _strip_back(toks[:-1], ())
        text = re.sub(r"['\u2019]s$", "", _span(toks))
    return _repair_caps(text) if text else "", toks


def _split_direction(span: list[_Tok]) -> tuple[str, list[_Tok], list[str]]:
    toks: list[_Tok] = []
    k = 0
    while k < len(span):  # "instead" and "please" mean nothing here; "instead of Ada" names the old subject
        t, k = span[k], k + 1
        if t.low == "instead" and k < len(span) and span[k].low == "of":
            while k < len(span) and span[k].word:
                k += 1
        elif t.low not in ("instead", "please", "pls", "plz"):
            toks.append(t)
    j = next((k for k in range(len(toks)) if _is_boundary(toks, k)), len(toks))
    head, tail = toks[:j], toks[j:]
    r = _trailing_run(head)
    dirs = [d for d in (_tidy_direction(head[r:]), _tidy_direction(tail)) if d]
    subject, sub_toks = _trim_subject(head[:r])
    return subject, sub_toks, dirs


# A verb after the first word makes a judgement, not a name: "the middle is slow", "Act II drags"
# (written in lower case: "The Man Who Was Thursday" is a title).
_PREDICATES = _words(
    "is isn't are aren't was wasn't feels feel seems seem drags drag sags sag lacks lack needs works"
    " doesn't don't reads read sounds sound looks gets goes runs dragging"
)


def _is_note(toks: list[_Tok]) -> bool:
    words = [t for t in toks if t.word]
    if not words:
        return False
    lows = [t.low for t in words]
    return (lows[0] in _NOTE_STARTS or any(w in _PITCH_PARTS for w in lows)
            or (not _is_question(toks) and any(t.text in _PREDICATES for t in words[1:]))
            or any(t.text in _POSSESSIVES for t in words)
            or any(w in _COMPARATIVES and (k == 0 or lows[k - 1] != "the") for k, w in enumerate(lows))
            or _ACT.search(" ".join(lows)) is not None)


def _looks_like_subject(toks: list[_Tok]) -> bool:
    words = [t for t in toks if t.word]
    return (0 < len(words) <= 10 and words[0].low not in _NOT_SUBJECT_START
            and not any(t.text in _PRONOUNS for t in words)
            and not all(_gibberish(t.low) or t.low in _FUNCTION or t.low in _BROAD for t in words)
            and not _is_note(toks))


def _same_subject(a: str, b: str) -> bool:
    def norm(s: str) -> list[str]:
        ws = re.findall(r"[^\W_]+", s.lower())
        return ws[1:] if ws[:1] == ["the"] else ws
    wa, wb = norm(a), norm(b)
    return wa == wb or (bool(wa) and set(wa) <= set(wb))  # "Lovelace" is still Ada Lovelace


def _join(parts: list[str], sep: str = ", ") -> str:
    seen: list[str] = []
    for p in (p.strip() for p in parts):
        if p and p.lower() not in (s.lower() for s in seen):
            seen.append(p)
    return sep.join(seen)


def _note(toks: list[_Tok], chips: list[str]) -> str:
    text = _span(_strip_back(_strip_front(toks, _POLITE), _COURTESY))
    text = _join([text, ", ".join(chips)], "; ")
    return text[:1].upper() + text[1:]


def _is_question(toks: list[_Tok]) -> bool:
    words = [t for t in toks if t.word]
    return any(t.text == "?" for t in toks) or (bool(words) and words[0].low in _Q_START)


def _question_topic(toks: list[_Tok]) -> str | None:
    s = " " + " ".join(t.low for t in toks if t.word) + " "
    return next((topic for topic, cues in _TOPIC_CUES if any(f" {c} " in s for c in cues)), None)


_CHIP_LINE = re.compile(r"^[ \t]*direction[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)


def parse_message(text: str, current_subject: str | None = None) -> Intent:
    text = text or ""
    chips = [v.strip() for m in _CHIP_LINE.finditer(text) for v in m.group(1).split(",") if v.strip()]
    body = _CHIP_LINE.sub("", text).strip()
    current = (current_subject or "").strip() or None
    toks = _tokenize(body)
    rest, social = _strip_social(toks)
    if len(body) > MAX_CHARS:
        return Intent("revision", note=_note(rest, chips)) if current and _is_note(rest) else Intent("unclear")
    if not toks and chips:  # only chips were picked: they are the whole note
        return Intent("revision", note=_note([], chips)) if current else Intent("unclear")
    words = [t for t in rest if t.word]
    if not words:
        return Intent("greeting" if social else "unclear")
    if all(_gibberish(t.low) for t in words):
        return Intent("unclear")

    cue = _find_cue(rest)
    question = _is_question(rest)
    if cue is None and (question or words[0].low in ("help", "tell")) and (topic := _question_topic(rest)):
        return Intent("question", topic=topic)
    lead, span = cue or ("", _strip_front(rest, _REQUEST))
    if not cue and len(span) > 1 and span[0].low == "make" and span[1].text[:1].isupper():
        span = span[1:]  # "make Ada Lovelace" asks for a subject; "make it darker" is a note

    subject, sub_toks, dirs = _split_direction(span)
    direction = _join([lead, *dirs, *chips])
    if subject and _looks_like_subject(sub_toks):
        if current and _same_subject(subject, current):
            # the same subject again: its direction is a note on the pitch, and without one nothing changes
            return Intent("revision", note=_note([], [direction])) if direction else Intent("unclear")
        return Intent("switch" if current else "new_subject", subject=subject, direction=direction)
    span_words = [t for t in span if t.word]
    if _is_note(span) or direction or (span_words and all(map(_is_dir_word, span_words))):  # "family"
        return Intent("revision", note=_note(rest, chips)) if current else Intent("unclear")
    return Intent("question", topic="other") if question else Intent("unclear")


# --- what a note asks for ------------------------------------------------------------------------
_TONE_PATTERNS = tuple((tone, re.compile(p)) for tone, p in (
    # "less dark", "too jokey": the note asks for the opposite
    ("lighter", r"\b(?:less|not so|not as|too) (?:dark|grim|bleak|heavy|gloomy|depressing)\w*"),
    ("darker", r"\b(?:less|not so|not as|too) (?:light|lighthearted|light-hearted|upbeat|cheerful|sweet|fluffy)\b"),
    ("drama", r"\b(?:less|not so|not as|too) (?:funny|jokey|comedic|silly|goofy)\b|\bmore serious\b"),
    ("funnier", (r"\b(?:funn(?:y|ier)|comedic|comical|humou?r(?:ous)?|jokes?|jokier|jokey|laughs?|hilarious"
                r"|witt(?:y|ier))\b")),
    ("romantic", r"\b(?:romantic|romance|love story|rom-?com)\b"),
    ("comedy", r"\bcomed(?:y|ies)\b"),
    ("darker", (r"\b(?:dark(?:er|est)?|grim(?:mer)?|bleak(?:er)?|gritt(?:y|ier)|sinister|gloomier|edgier|tragic"
               r"|heavier|moodier)\b")),
    ("lighter", (r"\b(?:lighter|light-?hearted|upbeat|uplifting|cheerful|happier|hopeful|brighter|feel-good"
                r"|sunnier|gentler|softer)\b")),
    ("thriller", r"\b(?:thriller|suspense(?:ful)?|tenser?|thrilling|gripping)\b"),
    ("horror", r"\b(?:horror|scar(?:y|ier)|creep(?:y|ier)|frightening|terrifying)\b"),
    ("family", (r"\b(?:family|kid)[- ]friendly\b|\bfor (?:the )?(?:whole )?famil(?:y|ies)\b|\bfor (?:kids|children)\b"
               r"|\ball ages\b|\b(?:a|more) family\b|\bfamily (?:film|movie|audience|picture|tone)\b"
               r"|(?:^|[,;] ?)family(?:$|[,;])")),  # the chip on its own; "her family" is not a tone
    ("drama", r"\b(?:drama|dramatic)\b"),
    ("epic", r"\b(?:epic|sweeping|grander)\b"),
    ("musical", r"\bmusical\b"),
    ("noir", r"\bnoir\b"),
    ("mystery", r"\bmystery\b"),
    ("action", r"\baction\b"),
    ("satire", r"\bsatir(?:e|ical)\b"),
))
# A capitalised name, particles allowed inside ("Charles Babbage", "Ibn Battuta", "Leonardo da Vinci").
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019.-]*"
_NAME = rf"{_CAP}(?:\s+(?:(?:da|de|del|di|du|van|von|der|of|the|ibn|bin|al|la|le)\s+)?{_CAP})*"
_ROLE = r"(?i:role|part|presence|screen[\s-]?time|arc|storyline|spotlight|focus)"
_MORE = (r"(?i:(?:much\s+|far\s+|a\s+lot\s+)?"
         r"(?:bigger|larger|greater|meatier|stronger|more\s+(?:prominent|central|important)|more))")
_ROLE_PATTERNS = tuple(re.compile(p) for p in (
    rf"(?i:\bgive\s+)(?P<who>.+?)\s+(?i:(?:a|an)\s+)?{_MORE}\s+{_ROLE}",
    rf"{_MORE}\s+{_ROLE}\s+(?i:for|to|on)\s+(?P<who>{_NAME}|(?i:the)\s+\w+)",
    (rf"(?i:\b(?:expand|enlarge|grow|increase|beef\s+up|flesh\s+out|build\s+up|develop)\s+)"
     rf"(?P<who>.+?)['\u2019]s\s+{_ROLE}"),
    rf"(?P<who>{_NAME})\s+(?i:deserves|needs|should\s+(?:have|get)|could\s+use)\s+(?i:a\s+|an\s+)?{_MORE}",
    (rf"(?i:\b(?:more\s+(?:of|about|with|from|for|on)|focus\s+more\s+on|more\s+focus\s+on|feature)\s+)"
     rf"(?P<who>{_NAME})"),
    rf"(?i:\bmore\s+)(?P<who>{_NAME})",
))
_CASTING = re.compile(r"\b(?:cast|casting|recast|re-cast|actors?|actress(?:es)?|stars?|starring|played by"
                      r"|play (?:the|her|him)|performers?|a-list|celebrit(?:y|ies))\b")
_BOX_OFFICE = re.compile(r"\b(?:budgets?|cheaper|costs?|expensive|low-budget|box[- ]office|gross(?:es)?|revenue"
                         r"|profit(?:able)?|audiences?|demographics?|market(?:ing)?|releas(?:e|ed|ing)|distribut\w+"
                         r"|streaming|theatrical|opening weekend|comps|comparables?|pg-13|r-rated|blockbuster"
                         r"|summer|awards season"
                         r"|for (?:teenagers|teens|kids|children|families|adults|young adults))\b")


def note_effect(note: str) -> NoteEffect:
    # Only the first MAX_CHARS are read: the patterns below are not linear in the text's length,
    # and a note is read once per agent that may keep its report.
    note = (note or "")[:MAX_CHARS]
    """What a revision note asks of the team: which tone, whose role, which act, which agents."""
    low = " ".join(note.lower().replace("\u2019", "'").split())
    hits = [(m.start(), k, tone) for k, (tone, rx) in enumerate(_TONE_PATTERNS) if (m := rx.search(low))]
    tone = min(hits)[2] if hits else None  # the first thing the note says wins

    bigger_role = None
    for rx in _ROLE_PATTERNS:
        if m := rx.search(note):
            who = re.sub(r"^(?:the\s+)?character\s+", "", m.group("who").strip(" ,.!?"), flags=re.IGNORECASE)
            if not who or who.lower() in _PRONOUNS or who.split()[0].lower() in ("act", "i", "it"):
                continue
            bigger_role = who if re.match(r"(?i)(?:the|a|an)\s", who) else _repair_caps(who)
            break

    act = None
    if m := _ACT.search(low):
        act = _ACT_NUMBERS[m.group(1) or m.group(2)]
    touches = {name for name, rx in (("casting_agent", _CASTING), ("box_office_researcher", _BOX_OFFICE))
               if rx.search(low)}
    return NoteEffect(tone=tone, bigger_role=bigger_role, act=act, touches=frozenset(touches))
