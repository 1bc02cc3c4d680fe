"""The validation rules a question can have: one table that the validators
(bot.dialogue.validators), the editing checks and the admin's question page all read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationRule:
    key: str
    answer_types: frozenset[str]
    # How the admin enters the value: flag (yes/no), count (whole number >= 0), number
    # (>= 0; whole for integers), question (another question's key), question_days (a key
    # and a number of days).
    entered_as: str
    label: str  # as the admin page names it
    # Whether the value names another question, and the answer type that question must have
    # (None: any type).
    refers_to_question: bool = False
    reference_type: str | None = None


VALIDATION_RULES: dict[str, ValidationRule] = {
    rule.key: rule
    for rule in (
        ValidationRule("not_past", frozenset({"date"}), "flag", "Niet in het verleden"),
        ValidationRule(
            "max_days_ahead", frozenset({"date"}), "count", "Hoogstens zoveel dagen vooruit"
        ),
        ValidationRule(
            "not_before",
            frozenset({"date"}),
            "question",
            "Niet vóór het antwoord op vraag",
            refers_to_question=True,
            reference_type="date",
        ),
        ValidationRule(
            "max_days_after",
            frozenset({"date"}),
            "question_days",
            "Hoogstens zoveel dagen na het antwoord op vraag",
            refers_to_question=True,
            reference_type="date",
        ),
        ValidationRule(
            "after",
            frozenset({"time"}),
            "question",
            "Later dan het antwoord op vraag",
            refers_to_question=True,
            reference_type="time",
        ),
        ValidationRule("min", frozenset({"integer", "amount"}), "number", "Minimaal"),
        ValidationRule("max", frozenset({"integer", "amount"}), "number", "Maximaal"),
        ValidationRule("min_length", frozenset({"text"}), "count", "Minimaal aantal tekens"),
        ValidationRule("max_length", frozenset({"text"}), "count", "Maximaal aantal tekens"),
        ValidationRule(
            "required_without",
            frozenset({"email", "phone"}),
            "question",
            "Verplicht als deze vraag geen antwoord heeft",
            refers_to_question=True,
        ),
        ValidationRule(
            "open",
            frozenset({"choice"}),
            "flag",
            "Ook een antwoord dat niet in de lijst staat (bewaard zoals getypt)",
        ),
    )
}


def rules_for(answer_type: str) -> list[ValidationRule]:
    """The rules an answer type understands, in the table's order."""
    return [rule for rule in VALIDATION_RULES.values() if answer_type in rule.answer_types]
