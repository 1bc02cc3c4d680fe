"""Which language to answer in. A conversation keeps one language from its first reply: it is
read from the first message when that is clear, otherwise Telegram's language setting (or
what we used before), otherwise Dutch. A Dutch place name in an English answer ("Straatfeest
in de Vogelwijk") does not switch it."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = {"nl", "en"}
# How sure the detector must be. Its confidences are relative between Dutch and English, and
# lower on short texts ("I need a room": 0.71), so a sentence of a few words needs less than
# one or two words ("hoi" reads as English at 0.79).
_SENTENCE_WORDS = 3
_SENTENCE_CONFIDENCE = 0.65
_WORD_CONFIDENCE = 0.9
_CODES = {Language.DUTCH: "nl", Language.ENGLISH: "en"}


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Loading the models takes about a second, so it happens once (see warm_up).
    return LanguageDetectorBuilder.from_languages(*_CODES).build()


def warm_up() -> None:
    """Load the detector before the first resident waits for it."""
    _detector()


def guess_language(text: str, default: str = "nl") -> str:
    """The language of a sentence when it is clear, else `default` (short texts often are
    not)."""
    return choose_language(text, current=None, telegram_code=None, default=default)


def detect(text: str | None) -> str | None:
    """The language of the text, when the detector is sure enough for its length."""
    if not text or not text.strip():
        return None
    best = _detector().compute_language_confidence_values(text)[0]
    wanted = _SENTENCE_CONFIDENCE if len(text.split()) >= _SENTENCE_WORDS else _WORD_CONFIDENCE
    return _CODES[best.language] if best.value >= wanted else None


def choose_language(
    text: str | None,
    *,
    current: str | None,
    telegram_code: str | None,
    default: str = "nl",
    opening: bool = True,
) -> str:
    """The language to answer in. Only an opening message (no request under way) is read;
    during a request the conversation keeps `current`."""
    if current in SUPPORTED and not opening:
        return current
    if (found := detect(text)) is not None:
        return found
    if current in SUPPORTED:
        return current
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in SUPPORTED else default
