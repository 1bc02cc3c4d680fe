"""Masking personal data in a resident's message before it is kept for learning.

Names, phone numbers, e-mail addresses and street addresses become readable Dutch
placeholders (NAAM, TELEFOONNUMMER, E-MAILADRES, ADRES) before a message is stored in the NLU
inbox or becomes training data. No square brackets: in Rasa's training data they mark
entities. What the model should learn from stays: neighbourhood names, dates, times, amounts
and counts.

Names and addresses come from deduce, the Dutch de-identification library (its lookup lists
of first names, surnames and streets); phone numbers from phonenumbers, which also reads
"+31 6 1234 5678"; e-mail addresses from a pattern; and the resident's own name wherever it
appears. deduce's lists also hold ordinary words ("Zaal" is a surname, "My" a first name), so
a found name that consists only of ordinary words, or of a date or neighbourhood, is dropped.

Loading deduce takes about 5 seconds and 1 GB of memory (on a fresh install it first builds
its lookup structures for minutes; scripts/setup.sh does that once), so it is loaded once per
process, lazily, and `warm_up` lets a process do it in the background at start.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import phonenumbers

from bot.nlu.dates import MONTHS, WEEKDAYS
from bot.nlu.patterns import pattern_entities

if TYPE_CHECKING:
    from deduce import Deduce

log = logging.getLogger(__name__)

NAME = "NAAM"
PHONE = "TELEFOONNUMMER"
EMAIL = "E-MAILADRES"
ADDRESS = "ADRES"
# deduce's tag (after merging, e.g. "persoon", "locatie") -> placeholder.
_TAGS = {
    "persoon": NAME,
    "locatie": ADDRESS,
    "telefoonnummer": PHONE,
    "emailadres": EMAIL,
}
_NOT_SEARCHED = frozenset(
    {
        "dates",  # dates are training data, not personal data
        "ages",
        "institutions",
        "identifiers",
        "urls",
        "placename",  # a city or village is no address
        # Capitalised words ending in -st, -weg, -pad ("Daarnaast 20", "Feest 20") look like
        # streets to this pattern; the list of real street names finds "Lindelaan 12a".
        "street_pattern",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n(]\s*)$")
# Explicit introductions: whatever follows is a name, even in lower case.
_INTRODUCTION = re.compile(
    r"\b(?:mijn naam is|ik heet|my name is|my name's|i am called|naam:|name:)\s+",
    re.IGNORECASE,
)
_MAX_NAME_WORDS = 4
# Ordinary English words, some of them first names or surnames in deduce's lists ("My",
# "Can"); deduce's own lists of ordinary words are Dutch.
_ENGLISH_WORDS = frozenset(
    """
    a about after all also am an and any are as at be been before but by can could did do
    does for from get good had has have he her hi hello his how i if in is it its just let
    like may me might more most much must my no not now of on or our please she should so
    some still than thanks that the their them then there these they this those to too us
    want was we were what when where which who why will with would yes yet you your
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
# Full month names only: "jan" is a month and the most common Dutch first name.
_CALENDAR_WORDS = frozenset(
    {m for m in MONTHS if not any(o != m and o.startswith(m) for o in MONTHS)} | set(WEEKDAYS)
)

_lock = threading.Lock()
_deduce: Deduce | None = None
_dutch_words: frozenset[str] = frozenset()
_interfixes: frozenset[str] = frozenset()


MASKING_READY = "masking of personal data is ready"


def _load() -> Deduce:
    """deduce, loaded once per process; threads that ask meanwhile wait for the same one."""
    global _deduce, _dutch_words, _interfixes
    with _lock:
        if _deduce is None:
            from deduce import Deduce

            # Its lookup structures are millions of small objects that live as long as the
            # process. With the cyclic garbage collector on, unpickling them takes 16 s
            # instead of 5 and stalls every other thread (the bot's replies) for seconds at a
            # time, and so would every later full collection; frozen, collections skip them.
            collecting = gc.isenabled()
            gc.disable()
            try:
                loaded = Deduce()
                gc.freeze()
            finally:
                if collecting:
                    gc.enable()
            lookups = loaded.lookup_structs
            _dutch_words = frozenset(lookups["stop_word"].items()) | frozenset(
                lookups["common_word"].items()
            )
            _interfixes = frozenset(
                word.lower() for word in lookups["interfix"].items() if " " not in word
            )
            _deduce = loaded
        return _deduce


def warm_up() -> None:
    """Load deduce now, so the first message to mask does not wait for it. Meant for a
    thread of its own at start: a failure is logged, and masking tries again when needed."""
    try:
        _load()
    except Exception:
        log.warning("could not load deduce, which masks personal data", exc_info=True)
    else:
        log.info(MASKING_READY)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    placeholder: str


def mask(
    text: str,
    *,
    names: Iterable[str] = (),
    keep: Iterable[str] = (),
    ordinary_words: Collection[str] = frozenset(),
) -> str:
    """`text` with its personal data replaced by placeholders.

    names: people known to be in it (the resident's own name). keep: words that are never
    personal data here (the municipality's neighbourhoods). ordinary_words: in lower case,
    those of the training data (see `vocabulary`), so a sentence starting with "Zaal"
    keeps it."""
    deduce = _load()
    protected = _protected_spans(text, keep)
    ordinary = _dutch_words | _ENGLISH_WORDS | _CALENDAR_WORDS | set(ordinary_words)
    spans = [
        *_emails(text),
        *_phones(text),
        *_known_names(text, names, ordinary),
        *_introduced_names(text, ordinary),
    ]
    with _lock:  # deduce does not promise to be thread-safe; a call takes a millisecond
        annotations = deduce.deidentify(text, disabled=set(_NOT_SEARCHED)).annotations
    for annotation in annotations:
        placeholder = _TAGS.get(annotation.tag.split("+")[0])
        start, end = int(annotation.start_char), int(annotation.end_char)
        if placeholder in (NAME, ADDRESS):
            spans.extend(_checked(text, start, end, placeholder, protected, ordinary))
        elif placeholder is not None:
            spans.append(_Span(start, end, placeholder))
    return _replace(text, spans)


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The words written in lower case in these texts (entity markup removed)."""
    words: set[str] = set()
    for text in texts:
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        words.update(w for w in _WORD.findall(plain) if w.islower())
    return frozenset(words)


# -- finding --------------------------------------------------------------------------------


def _emails(text: str) -> Iterator[_Span]:
    for match in _EMAIL.finditer(text):
        yield _Span(match.start(), match.end(), EMAIL)


def _phones(text: str) -> Iterator[_Span]:
    for match in phonenumbers.PhoneNumberMatcher(text, "NL"):
        # "(0612345678)" comes back as "(0612345678": the bracket is not part of it
        unbalanced = match.raw_string.startswith("(") and ")" not in match.raw_string
        yield _Span(match.start + unbalanced, match.end, PHONE)


def _known_names(text: str, names: Iterable[str], ordinary: Collection[str]) -> Iterator[_Span]:
    """The whole name in any case; each part of it (not "de", "van") where it is written
    as a name, or in any case when it is no ordinary word."""
    for name in names:
        name = " ".join(name.split())
        if len(name) < 2:
            continue
        yield from _whole_words(text, re.escape(name), re.IGNORECASE)
        for part in _WORD.findall(name):
            if len(part) < 2 or part.lower() in _interfixes:
                continue
            flags = re.IGNORECASE if part.lower() not in ordinary else 0
            yield from _whole_words(text, re.escape(part[0].upper() + part[1:]), flags)


def _whole_words(text: str, pattern: str, flags: int) -> Iterator[_Span]:
    for match in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, flags):
        yield _Span(match.start(), match.end(), NAME)


def _introduced_names(text: str, ordinary: Collection[str]) -> Iterator[_Span]:
    """After "mijn naam is", "my name is" and the like the next word is a name, whatever its
    case, and so are the ones after it up to an ordinary word ("... jan de vries en ik")."""
    for intro in _INTRODUCTION.finditer(text):
        start = end = None
        position = intro.end()
        for count in range(_MAX_NAME_WORDS):
            word = _WORD.match(text, position)
            if word is None:
                break
            lowered = word.group().lower()
            if count and lowered not in _interfixes and lowered in ordinary:
                break
            if start is None:
                start = word.start()
            if lowered not in _interfixes:
                end = word.end()
            position = word.end()
            if text[position : position + 1] != " ":
                break
            position += 1
        if start is not None and end is not None:
            yield _Span(start, end, NAME)


def _protected_spans(text: str, keep: Iterable[str]) -> list[tuple[int, int]]:
    """Dates, times, amounts, counts and the words to keep: never masked as a name or
    address."""
    spans = [(entity.start, entity.end) for entity in pattern_entities(text)]
    for word in keep:
        for match in _whole_words(text, re.escape(word), re.IGNORECASE):
            spans.append((match.start, match.end))
    return spans


def _checked(
    text: str,
    start: int,
    end: int,
    placeholder: str,
    protected: list[tuple[int, int]],
    ordinary: Collection[str],
) -> Iterator[_Span]:
    """The parts of what deduce found that really are a name or an address: protected words
    split it; a name needs a word written as a name that is no ordinary word ("My", "Zaal"
    at the start of a sentence, "June" are not); an address needs a street."""
    for run in _runs(text, start, end, protected):
        while run and run[0].group().islower():
            run.pop(0)  # "in De Hoven 4", "mevrouw": no part of the name or address
        while run and run[-1].group().islower() and run[-1].group().lower() in ordinary:
            run.pop()  # "Bloem aan de"
        if placeholder == NAME:
            significant = [w for w in run if not _is_ordinary(text, w, ordinary)]
        else:
            significant = [w for w in run if w.group().isalpha() and len(w.group()) > 1]
            significant = [w for w in significant if not _is_ordinary(text, w, ordinary)]
        if significant:
            yield _Span(run[0].start(), run[-1].end(), placeholder)


def _runs(
    text: str, start: int, end: int, protected: list[tuple[int, int]]
) -> list[list[re.Match[str]]]:
    """The words between start and end, in runs that no protected span interrupts."""
    runs: list[list[re.Match[str]]] = [[]]
    for word in _WORD.finditer(text, start, end):
        if any(p_start < word.end() and word.start() < p_end for p_start, p_end in protected):
            runs.append([])
        else:
            runs[-1].append(word)
    return [run for run in runs if run]


def _is_ordinary(text: str, word: re.Match[str], ordinary: Collection[str]) -> bool:
    """An ordinary word, not a name: a month or weekday anywhere; another ordinary word when
    written in lower case or at the start of a sentence (where every word has a capital)."""
    lowered = word.group().lower()
    if lowered in _CALENDAR_WORDS:
        return True
    if lowered not in ordinary:
        return False
    return word.group().islower() or bool(_SENTENCE_END.search(text, 0, word.start()))


def _replace(text: str, spans: list[_Span]) -> str:
    """Overlapping finds become one placeholder, that of the longest."""
    merged: list[tuple[int, int, _Span]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1][1]:
            start, end, longest = merged[-1]
            if span.end - span.start > longest.end - longest.start:
                longest = span
            merged[-1] = (start, max(end, span.end), longest)
        else:
            merged.append((span.start, span.end, span))
    for start, end, span in reversed(merged):
        text = text[:start] + span.placeholder + text[end:]
    return text
