"""Clock times as residents say them: "19.30", "half drie", "kwart voor negen 's avonds",
"tien over half acht", "11:30 pm", "3 in the afternoon", "tegen achten", "middernacht".

Which half of the day (the rule for community activities, which rarely happen at night):

- A daypart decides when there is one, after or before the time: "'s ochtends", "'s morgens",
  "'s middags", "'s avonds", "'s nachts", "vanavond", "in de avond", "in the morning/
  afternoon/evening", "tonight", "at night", "am", "pm". "'s nachts" is 00:00-06:59 for
  the hours 12 and 1-6 and the evening for 7-11 ("11 uur 's nachts" is 23:00); "12 uur
  's avonds" and "middernacht"/"midnight" are 00:00, "12 uur 's middags" and "noon" 12:00.
- A 24-hour time is read as written: an hour 13-23 or 0, or a leading zero ("07:30").
- Otherwise the time is *open*, and read as the hours people plan activities in:
  1:00-7:59 is the afternoon or evening ("half drie" 14:30, "om 3 uur" 15:00, "half acht"
  19:30, "7 pm" anyway), 8:00-11:59 the morning ("8 uur" 08:00, "kwart over acht" 08:15,
  "tegen achten" 08:00 — "tegen" is read as the full hour), 12:00-12:59 noon ("half een"
  12:30). The other half of the day stays available as an alternative reading, which only
  an end time uses: it takes the reading that ends after the start soonest ("van 14:00 tot
  8 uur" ends at 20:00, "tegen achten" after a 14:00 start is 20:00, "van 21:00 tot 2 uur"
  ends at 02:00 the next day).
- A clock time with minutes and hour 8-12 ("10:00", "8.30") is not open: it says exactly
  which time, so "10:00" after a 14:00 start is refused rather than read as 22:00. With
  hour 1-7 ("3:30", "7.30") it is open like the spoken forms.

An end time before its start is the next day when it lies before 06:00 and the start does
not (`ends_after`): "van 22:00 tot 01:00" is accepted, "van 14:00 tot 10:00" is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

HOUR_WORDS = {
    "een": 1, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
    "zeven": 7, "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
# "tegen achten", "om negenen": the hour with -en, after a preposition
HOUR_EN_FORMS = {
    "enen": 1, "eenen": 1, "tweeën": 2, "tweeen": 2, "drieën": 3, "drieen": 3, "vieren": 4,
    "vijven": 5, "zessen": 6, "zevenen": 7, "achten": 8, "negenen": 9, "tienen": 10,
    "elven": 11, "twaalven": 12,
}  # fmt: skip
MINUTE_WORDS = {
    "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7,
    "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13,
    "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18,
    "negentien": 19, "twintig": 20, "vijfentwintig": 25,
    "five": 5, "ten": 10, "twenty": 20, "twenty-five": 25, "twenty five": 25,
}  # fmt: skip
# An end time before its start still counts, as the next day, when it is before this.
NEXT_DAY_BEFORE = time(6)


def _words(words: dict[str, int]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_H = rf"(?:{_words(HOUR_WORDS)}|[01]?\d|2[0-3])"
_EN_FORM = _words(HOUR_EN_FORMS)
_MIN_NL = rf"(?:{_words({k: v for k, v in MINUTE_WORDS.items() if k.isascii()})}|[12]?\d)"
_MIN_EN = r"(?:five|ten|twenty[- ]five|twenty|\d{1,2}\s+minutes)"
_S = r"['’‘`]?\s?s[\s-]?"  # "'s", "’s", "s " in "'s avonds"
_DAYPARTS = {
    "morning": rf"{_S}(?:ochtends|morgens)|in\s+de\s+(?:vroege\s+)?(?:ochtend|morgen)"
    r"|vanochtend|vanmorgen|(?:in\s+the|this)\s+morning",
    "afternoon": rf"{_S}middags|in\s+de\s+(?:na)?middag|vanmiddag|(?:in\s+the|this)\s+afternoon",
    "evening": rf"{_S}avonds|in\s+de\s+avond|vanavond|(?:in\s+the|this)\s+evening|tonight",
    "night": rf"{_S}nachts|in\s+de\s+nacht|vannacht|at\s+night|midnight|middernacht",
    "noon": r"noon|midday",
}
_DAYPART = "|".join(f"(?P<{name}>{pattern})" for name, pattern in _DAYPARTS.items())
_DAYPART_PLAIN = "|".join(f"(?:{pattern})" for pattern in _DAYPARTS.values())
_AM_PM = r"(?P<am>a\.?\s?m\b\.?)|(?P<pm>p\.?\s?m\b\.?)"
_AM_PM_PLAIN = r"[ap]\.?\s?m\b\.?"
_SUFFIX = re.compile(rf",?\s*(?:{_AM_PM})|,?\s+(?:{_DAYPART})\b", re.IGNORECASE)
_PREFIX = re.compile(
    rf"(?<!\w)(?:{_DAYPART})\s*,?\s+(?:(?:om|rond|vanaf|tegen|van|at|from|around)\s+)?$",
    re.IGNORECASE,
)
# A following word that shows a number is not an hour ("om 3 kinderen", "5 voor 10 euro").
_NOT_A_TIME_AFTER = re.compile(
    r"\s*(?:[€%]|\d|[-–]\s?\d)"
    r"|\s+(?:mensen|personen|man|kinderen|euro|eur|stuks|deelnemers|bezoekers|gasten|people"
    r"|persons|guests|visitors|euros?|weken|week|dagen|dag|maanden|jaar|minuten|days|weeks)\b",
    re.IGNORECASE,
)
_MONTH_AFTER = re.compile(  # "van 3 tot 5 december" is a date
    r"\s*(?:jan(?:uari|uary)?|feb(?:ruari|ruary)?|mrt|maart|march|mar|apr(?:il)?|mei|may"
    r"|jun[ie]?|jul[iy]?|aug(?:ustus|ust)?|sept?(?:ember)?|okt(?:ober)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)\b",
    re.IGNORECASE,
)
_TERM = rf"(?:\s*(?:$|[,.!?;)])|\s+(?:{_DAYPART_PLAIN})\b|\s*(?:{_AM_PM_PLAIN}))"
_NEXT_TIME = rf"(?:half\s+|kwart\s+)?{_H}(?:\s*(?:uur|u|h)\b|[:.]\d\d|{_TERM})"
_CONNECTOR = r"(?:-|–|—|tot(?:\s+en\s+met)?|t/m|until|till|to|en|and)"

_FORMS = [
    # "19:30", "19.30", "19u30", "19h30"
    (
        "clock",
        r"(?<![\d€,.:/\-])(?<!€\s)(?P<h>[01]?\d|2[0-3])(?:[:.]|\s?[uh]\s?)(?P<m>[0-5]\d)"
        r"(?!\d)(?![.:/\-]\d)(?!\s*(?:euro|eur)\b)",
    ),
    # "half past seven", "quarter to nine", "ten past eight"
    (
        "english",
        rf"\b(?P<min>{_MIN_EN}|a\s+quarter|quarter|half)\s+(?P<dir>past|after|to|before)\s+"
        rf"(?P<h>{_H})\b",
    ),
    # "tien over half acht", "vijf voor half drie", "tien voor acht", "kwart over acht"
    (
        "dutch",
        rf"\b(?P<min>{_MIN_NL}|kwart)\s+(?:minuten\s+)?(?P<dir>over|voor)\s+"
        rf"(?P<half>half\s+)?(?P<h>{_H})\b",
    ),
    ("half", rf"\bhalf\s+(?P<h>{_H})\b"),  # "half drie", "half 3"
    ("oclock", rf"\b(?P<h>{_H})\s*o['’]?\s?clock\b"),
    ("uur", rf"(?<![\d,.])\b(?P<h>{_H})\s*(?P<unit>uur|u|h)\b"),  # "3 uur", "drie uur", "14u"
    # "3 in the afternoon", "7pm", "8 's avonds": an hour with a daypart right after it
    ("daypart", rf"(?<![\d,.:])\b(?P<h>{_H})(?={_SUFFIX.pattern})"),
    # "tegen achten", "om negenen"
    ("en", rf"\b(?:tegen|om|rond|omstreeks|na|voor|vanaf|tot|van|tussen)\s+(?P<h>{_EN_FORM})\b"),
    # "om 8", "van 2 tot 5", "at seven": an hour after a preposition, alone or in a range
    (
        "bare",
        rf"(?<![\d,.:])\b(?P<prep>om|at|tot|until|till|van|vanaf|from|rond|around|tegen|"
        rf"tussen|between|en|and|to)\s+(?P<h>{_H})\b"
        rf"(?={_TERM}|\s*{_CONNECTOR}\s*{_NEXT_TIME})",
    ),
    # "14-17 uur": an hour before a dash and a time with "uur"
    (
        "dash",
        rf"(?<![\d,.:/\-])\b(?P<h>{_H})(?=\s*[-–]\s*{_H}\s*(?:uur|u|h)\b|\s*[-–]\s*"
        r"(?:[01]?\d|2[0-3])[:.][0-5]\d)",
    ),
    ("fixed", r"\b(?P<fixed>middernacht|midnight|noon|midday|middaguur)\b"),
]
_FORM_PATTERNS = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _FORMS]
_RANGE_ONLY = frozenset({"en", "and", "to", "tot", "until", "till"})
_DURATION_BEFORE = re.compile(
    r"(?:zo'n|paar|anderhalf|ruim|maximaal|minimaal|hooguit|hoogstens|minstens)\s+$",
    re.IGNORECASE,
)
_DURATION_AFTER = re.compile(
    r"\s+(?:lang|durend|nodig|per|extra|later|eerder|ervoor|erna|van\s+tevoren)\b",
    re.IGNORECASE,
)
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:om|tot|vanaf|van|rond|tegen|na|voor|tussen|en)\s+$", re.IGNORECASE
)
_WHOLE = re.compile(
    rf"^\s*(?:(?:om|at|rond|around|tegen|vanaf|tot|van|from|until|till)\s+)?"
    rf"(?P<h>{_H}|{_EN_FORM})\s*[.!]?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reading:
    """One time in a text: how it is read, where it is, and the other half of the day
    when the text leaves that open (see the module docstring)."""

    value: time
    span: tuple[int, int]
    other: time | None = None

    @property
    def candidates(self) -> list[time]:
        return [self.value] if self.other is None else [self.value, self.other]


def ends_after(end: time, start: time) -> bool:
    """Whether `end` can end an activity that starts at `start`: later the same day, or
    early the next morning (before 06:00, when the start is not)."""
    return end > start or end < NEXT_DAY_BEFORE <= start


def pick_end(candidates: list[time], start: time) -> time | None:
    """The reading of an end time that ends after `start` soonest, or None."""
    fitting = [value for value in candidates if ends_after(value, start)]
    return min(fitting, key=lambda value: _minutes_between(start, value), default=None)


def _minutes_between(start: time, end: time) -> int:
    gap = datetime.combine(datetime.min, end) - datetime.combine(datetime.min, start)
    return int((gap % timedelta(days=1)).total_seconds() // 60)


def _hour(word: str) -> int:
    word = word.lower()
    return HOUR_WORDS.get(word) or HOUR_EN_FORMS.get(word) or int(word)


def _minute(word: str) -> int:
    word = " ".join(word.lower().split())
    if word in ("kwart", "quarter", "a quarter"):
        return 15
    if word == "half":
        return 30
    if word.endswith("minutes"):
        word = word.split()[0]
    return MINUTE_WORDS.get(word) or int(word)


def _daypart(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("am"):
        return "morning"
    if groups.get("pm"):
        return "afternoon"
    return next((name for name in _DAYPARTS if groups.get(name)), None)


def _in_daypart(hour12: int, daypart: str) -> int:
    """The 24-hour hour for an hour 0-11 (12 counts as 0) in `daypart`."""
    match daypart:
        case "morning":
            return hour12
        case "afternoon" | "noon":
            return hour12 + 12
        case "evening":
            return hour12 + 12 if hour12 else 0
        case _:  # night
            return hour12 if hour12 <= 6 else hour12 + 12


def _open(hour12: int) -> tuple[int, int]:
    """The reading and the alternative of an open hour 0-11 (see the module docstring)."""
    if 1 <= hour12 <= 7:
        return hour12 + 12, hour12
    if hour12 == 0:
        return 12, 0
    return hour12, hour12 + 12


@dataclass
class _Found:
    start: int
    end: int
    hour: int  # 0-23: what the words say on a 12-hour clock, or a 24-hour hour
    minute: int
    is_open: bool  # a 12-hour reading: the half of the day is still to be decided
    form: str
    prep: str = ""


def _raw(form: str, match: re.Match[str], text: str) -> _Found | None:
    """What one match of one form says, before the half of the day is settled."""
    start, end = match.span("h") if form in ("en", "bare", "dash", "daypart") else match.span()
    if form == "fixed":
        fixed = match.group("fixed").lower()
        hour = 0 if fixed in ("middernacht", "midnight") else 12
        return _Found(start, end, hour, 0, False, form)
    word = match.group("h")
    hour = _hour(word)
    written = hour
    minute = 0
    if form == "clock":
        minute = int(match.group("m"))
        is_open = word.isdigit() and len(word) == 1 and 1 <= hour <= 7
        return _Found(start, end, hour, minute, is_open, form)
    if form == "half":
        if _NOT_A_TIME_AFTER.match(text, match.end()):
            return None  # "half 12 mensen"
        hour, minute = hour - 1, 30
    elif form in ("english", "dutch"):
        minutes = _minute(match.group("min"))
        if not 1 <= minutes <= 30:
            return None
        forward = match.group("dir").lower() in ("past", "after", "over")
        if form == "dutch" and match.group("half"):
            hour, minute = hour - 1, 30 + minutes if forward else 30 - minutes
        elif forward:
            minute = minutes
        else:
            hour, minute = hour - 1, 60 - minutes
        if _NOT_A_TIME_AFTER.match(text, match.end()):
            return None  # "5 voor 10 euro", "een over twee weken"
    elif form == "uur":
        before = text[: match.start()]
        if _DURATION_AFTER.match(text, match.end()) or _DURATION_BEFORE.search(before):
            return None  # "2 uur lang", "ongeveer 3 uur"
        if not word.isdigit() and match.group("unit").lower() != "uur":
            return None
        if word.lower() in ("een", "één", "eén") and not _PREPOSITION_BEFORE.search(before):
            return None  # "een uur" is an hour long; "om een uur" is one o'clock
    elif form in ("bare", "daypart"):
        if _MONTH_AFTER.match(text, match.end()) or _NOT_A_TIME_AFTER.match(text, match.end()):
            return None
        if form == "bare":
            prep = match.group("prep").lower()
            return _Found(start, end, hour, 0, 1 <= written <= 12, form, prep)
    is_open = 1 <= written <= 12
    if not is_open and hour < 0:
        return None
    return _Found(start, end, hour % 24 if is_open else hour, minute, is_open, form)


def _with_daypart(found: _Found, text: str) -> _Found:
    """Take in a daypart right after ("half drie 's middags") or before ("'s avonds om 8")."""
    daypart = None
    if (match := _SUFFIX.match(text, found.end)) and (daypart := _daypart(match)):
        found.end = match.end()
    elif (match := _PREFIX.search(text, 0, found.start)) and (daypart := _daypart(match)):
        found.start = match.start()
    if daypart and found.form != "fixed" and (found.is_open or found.hour <= 12):
        found.hour = _in_daypart(found.hour % 12, daypart)
        found.is_open = False
    return found


def _reading(found: _Found) -> Reading:
    span = (found.start, found.end)
    if found.is_open:
        value, other = _open(found.hour % 12)
        return Reading(time(value, found.minute), span, time(other, found.minute))
    return Reading(time(found.hour, found.minute), span)


def find_readings(text: str) -> list[Reading]:
    """Every time in `text`, in order, with the alternative reading of open times; the
    second time of a range ("van 8 tot 11 's avonds", "van 21:00 tot 2 uur") is read
    after the first, and a daypart at the end of a range counts for both."""
    found: list[_Found] = []
    for form, pattern in _FORM_PATTERNS:
        for match in pattern.finditer(text):
            if (raw := _raw(form, match, text)) is not None:
                found.append(_with_daypart(raw, text))
    chosen: list[_Found] = []
    for item in sorted(found, key=lambda f: (f.start, f.start - f.end)):
        if not any(item.start < other.end and other.start < item.end for other in chosen):
            chosen.append(item)
    kept: list[_Found] = []
    for item in chosen:
        if item.prep in _RANGE_ONLY and not (
            kept and re.fullmatch(rf"\s*{_CONNECTOR}\s*", text[kept[-1].end : item.start])
        ):
            continue  # "tot 12" is only a time as the end of a range ("van 2 tot 12"), not
            # in "Lindelaan 1 tot 12"; alone as an answer it is read by whole_text_time
        kept.append(item)
    readings = [_reading(item) for item in kept]
    for index in range(1, len(readings)):
        first, second = readings[index - 1], readings[index]
        between = text[first.span[1] : second.span[0]]
        if not re.fullmatch(rf"\s*{_CONNECTOR}\s*", between, re.IGNORECASE):
            continue
        if first.other is not None and second.other is None:
            fitting = [c for c in first.candidates if pick_end([second.value], c) is not None]
            start = min(fitting, key=lambda c: _minutes_between(c, second.value), default=None)
            if start is not None:
                readings[index - 1] = first = Reading(start, first.span)
        if second.other is not None and (end := pick_end(second.candidates, first.value)):
            readings[index] = Reading(end, second.span)
    return readings


def whole_text_time(text: str) -> Reading | None:
    """A text that is only an hour: "14", "3", "om acht", "achten"."""
    if not (match := _WHOLE.match(text)):
        return None
    word = match.group("h")
    hour = _hour(word)
    span = match.span("h")
    if word.isdigit() and not 1 <= hour <= 12:
        return Reading(time(hour), span)
    value, other = _open(hour % 12)
    return Reading(time(value), span, time(other))


def time_candidates(text: str) -> list[time]:
    """The readings of the first time in `text`, the preferred one first; [] if none."""
    if readings := find_readings(text):
        return readings[0].candidates
    if reading := whole_text_time(text):
        return reading.candidates
    return []
