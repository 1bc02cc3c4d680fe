"""Finding the words of a vocabulary in a message, the way residents type them.

The vocabularies are the training data's lookup tables (rasa_project/data/nlu/*.yml, in the
database as NLU resources): the same table is a feature for the model and the evidence the
app checks. Matching is forgiving: case and accents are folded, a word may carry a Dutch
suffix or be part of a compound ("zaaltje", "buurthuiszaal"), and a long word may have one
typo ("subsdie").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A vocabulary word this long may also stand inside a compound, or with one typo.
COMPOUND_LENGTH = 5
TYPO_LENGTH = 6
TYPO_SIMILARITY = 0.85


def words(text: str) -> list[str]:
    """Lower-case words without accents: "Café" and "cafe" are the same word."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return WORD.findall(plain)


@lru_cache(maxsize=4096)
def _entry_words(entry: str) -> tuple[str, ...]:
    """A vocabulary entry's words, folded once: every message is checked against the same
    few thousand entries."""
    return tuple(words(entry))


@lru_cache(maxsize=65536)
def _same_word(typed: str, known: str) -> bool:
    if typed.startswith(known) or (len(known) >= COMPOUND_LENGTH and known in typed):
        return True
    if len(known) < TYPO_LENGTH or abs(len(typed) - len(known)) > 1:
        return False
    matcher = SequenceMatcher(None, typed, known)
    # quick_ratio is an upper bound of ratio and much cheaper: most pairs stop there.
    return matcher.quick_ratio() >= TYPO_SIMILARITY and matcher.ratio() >= TYPO_SIMILARITY


def mentions(text: str, vocabulary: Iterable[str], *, exact: bool = False) -> str | None:
    """The first vocabulary entry (one or more words) that occurs in `text`, or None.
    `exact` matches whole words only: for short words such as "ja", which would otherwise
    also be found in "januari"."""
    found = occurrences(words(text), vocabulary, exact=exact)
    return found[0][1] if found else None


def occurrences(
    typed: list[str], vocabulary: Iterable[str], *, exact: bool = False
) -> list[tuple[int, str]]:
    """Where in the words `typed` the vocabulary's entries occur: (word index, entry), by
    entry in vocabulary order."""
    same = str.__eq__ if exact else _same_word
    found = []
    for entry in vocabulary:
        wanted = _entry_words(entry)
        if not wanted:
            continue
        for start in range(len(typed) - len(wanted) + 1):
            if all(same(typed[start + i], w) for i, w in enumerate(wanted)):
                found.append((start, entry))
    return found


def is_one_of(text: str, vocabulary: Iterable[str]) -> bool:
    """Whether the whole message is one of the entries ("Ja!", "oké")."""
    typed = tuple(words(text))
    return bool(typed) and any(_entry_words(entry) == typed for entry in vocabulary)
