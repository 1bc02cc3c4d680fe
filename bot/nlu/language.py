"""Which language to answer in: the resident's text when it is clear, otherwise Telegram's
language setting, otherwise what we used before, otherwise Dutch."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = {"nl", "en"}
_MIN_WORDS = 3
_MIN_CONFIDENCE = 0.9
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


def choose_language(
    text: str | None, *, current: str | None, telegram_code: str | None, default: str = "nl"
) -> str:
    if text and len(text.split()) >= _MIN_WORDS:
        best = _detector().compute_language_confidence_values(text)[0]
        if best.value >= _MIN_CONFIDENCE:
            return _CODES[best.language]
    if current in SUPPORTED:
        return current
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in SUPPORTED else default
