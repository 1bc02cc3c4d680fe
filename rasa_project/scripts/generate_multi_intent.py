#!/usr/bin/env python3
"""Generate compositional multi-intent NLU examples for Wegwijs.

Writes data/nlu/multi_intent_generated.yml (deterministic, fixed seed).
Hand-written multi-intent examples live in data/nlu/multi_intent.yml; this
script adds short "list style" combinations ("zaal, hekken en subsidie") so
the model sees every need phrased with varied vocabulary in every combination.

Sub-intents are always joined in the canonical order:
request_room, request_tools, request_budget, request_permit.

Examples that (after stripping entity markup) equal a sentence in
tests/holdout.yml or in the hand-written data are skipped, and so are
near-copies of a held-out sentence (difflib ratio >= NEAR), so the held-out
set stays held out.

Usage (from rasa_project/):  python3 scripts/generate_multi_intent.py
"""
import difflib
import itertools
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "nlu" / "multi_intent_generated.yml"
SEED = 20260
PER_COMBO = {2: 18, 3: 12, 4: 14}
EN_SHARE = 0.35
NEAR = 0.8  # similarity above which a generated sentence counts as a near-copy
ORDER = ["request_room", "request_tools", "request_budget", "request_permit"]

# Noun phrases ("what we need"), Dutch and English.
NP = {
    "nl": {
        "request_room": [
            "een zaal", "het buurthuis", "een ruimte in het wijkcentrum", "de gymzaal",
            "een vergaderruimte", "een ontmoetingsruimte", "een lokaal", "een zaaltje",
            "een zaal voor [40](people) mensen", "het wijkcentrum in [Zuid](neighbourhood)",
            "de zaal in het buurthuis op [zaterdag](date)", "een ruimte in de [Vogelwijk](neighbourhood)",
            "het buurthuis in [De Hoven](neighbourhood)", "een binnenruimte", "de grote zaal",
            "ruimte voor [25](people) buurtbewoners", "het wijkgebouw", "een plek binnen",
        ],
        "request_tools": [
            "[20](quantity) [dranghekken](item)", "[tafels](item)", "een [partytent](item)",
            "[stoelen](item)", "een [aanhanger](item)", "[gereedschap](item)",
            "een [geluidsinstallatie](item)", "[grijpers](item)", "[hekken](item)",
            "[10](quantity) [biertafels](item)", "een [beamer](item)", "[klapstoelen](item)",
            "[verlengsnoeren](item)", "de [printer](item)", "een [kruiwagen](item)",
            "[30](quantity) [stoelen](item)", "[statafels](item)", "[hesjes](item)", "[bezems](item)",
            "spullen te leen", "materiaal van de uitleen",
        ],
        "request_budget": [
            "wijkbudget", "subsidie", "een bijdrage", "geld voor hapjes", "financiering",
            "een vergoeding voor de koffie", "[€300](amount)", "[500 euro](amount) voor de catering",
            "een bijdrage van [€750](amount)", "geld voor de muziek", "een subsidie voor de band",
            "budget voor drankjes", "[€150](amount) uit het wijkbudget", "financiële steun",
            "een potje voor de boodschappen", "geld voor prijzen voor de kinderen",
            # a bare amount is a money request too
            "[€600](amount)", "[750 euro](amount)", "[€1.000](amount)", "[750 euro](amount) voor hapjes",
            "[€250](amount) voor drankjes", "geld voor materialen", "[400 euro](amount) voor de lunch",
        ],
        "request_permit": [
            "een vergunning", "toestemming om de straat af te sluiten", "een evenementenvergunning",
            "ontheffing voor muziek tot [23:00](time)", "een melding klein evenement",
            "toestemming voor het plein", "een vergunning voor buiten", "een straatafsluiting",
            "ontheffing voor de sluitingstijd", "toestemming om de [Dorpsstraat](location) af te sluiten",
            "een ontheffing voor alcohol", "toestemming voor muziek op straat",
            "een vergunning voor de kraampjes op straat", "goedkeuring voor het gebruik van het park",
        ],
    },
    "en": {
        "request_room": [
            "a hall", "a room", "the community centre", "a venue", "a meeting room",
            "the gym hall", "a space indoors", "a room for [30](people) people",
            "the community center in [Noord](neighbourhood)", "a hall on [Saturday](date)",
            "the neighbourhood centre", "a place to meet",
        ],
        "request_tools": [
            "[barriers](item)", "[tables](item)", "[chairs](item)", "a [gazebo](item)",
            "a [trailer](item)", "[tools](item)", "[speakers](item)", "a [PA system](item)",
            "[20](quantity) [crowd barriers](item)", "a [projector](item)", "[litter pickers](item)",
            "some equipment to borrow",
        ],
        "request_budget": [
            "funding", "a grant", "some money", "money for snacks", "a contribution",
            "[€400](amount)", "a subsidy", "neighbourhood budget", "money for food",
            "a grant of [€250](amount)", "financial support",
            "[€600](amount)", "[500 euros](amount)", "money for materials",
            "a contribution of [€150](amount) for food", "[€350](amount) for drinks",
        ],
        "request_permit": [
            "a permit", "an event permit", "permission to close the street",
            "permission to use the square", "a street closure permit",
            "an exemption for music until [11 pm](time)", "permission for the event",
            "a permit for the outdoor part", "a small event registration",
        ],
    },
}

TEMPLATES = {
    "nl": {
        2: ["{a} en {b}", "we hebben {a} en {b} nodig", "graag {a} en ook {b}",
            "{a} + {b}", "voor het buurtfeest: {a} en {b}", "ik zoek {a} en {b}",
            "{a} en {b} voor de burendag", "kan ik {a} krijgen en {b}?",
            "wij willen {a}. Daarnaast {b}", "{a}, plus {b} graag",
            "Voor ons straatfeest hebben we {a} en {b} nodig", "voor de buurtbarbecue zoeken we {a} en {b}"],
        3: ["{a}, {b} en {c}", "we hebben {a}, {b} en {c} nodig", "{a} + {b} + {c}",
            "voor het straatfeest: {a}, {b} en {c}", "graag {a}, {b} en ook {c}",
            "ik zoek {a}, {b} en {c} voor ons initiatief",
            "Voor ons straatfeest willen we {a}, {b} en {c}"],
        4: ["{a}, {b}, {c} en {d}", "we hebben {a}, {b}, {c} en {d} nodig",
            "{a} + {b} + {c} + {d}", "voor de burendag: {a}, {b}, {c} en {d}",
            "graag {a}, {b}, {c} en {d}",
            "Voor ons straatfeest hebben we {a}, {b}, {c} en {d} nodig"],
    },
    "en": {
        2: ["{a} and {b}", "we need {a} and {b}", "{a} plus {b}",
            "could we get {a} and {b}?", "for our street party: {a} and {b}",
            "I'm looking for {a} and {b}", "For our street party we'd like {a} and {b}"],
        3: ["{a}, {b} and {c}", "we need {a}, {b} and {c}", "{a} + {b} + {c}",
            "for the block party we need {a}, {b} and {c}",
            "For our street party: {a}, {b} and {c}"],
        4: ["{a}, {b}, {c} and {d}", "we need {a}, {b}, {c} and {d}",
            "for neighbours day: {a}, {b}, {c} and {d}",
            "For our street party we need {a}, {b}, {c} and {d}"],
    },
}

ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def plain(text: str) -> str:
    return " ".join(ENTITY.sub(r"\1", text).lower().split())


def existing_sentences() -> set:
    seen = set()
    files = [ROOT / "tests" / "holdout.yml"] + [
        p for p in (ROOT / "data").rglob("*.yml") if p != OUT
    ]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("    - "):
                seen.add(plain(line[6:]))
    return seen


def holdout_sentences() -> list:
    lines = (ROOT / "tests" / "holdout.yml").read_text(encoding="utf-8").splitlines()
    return [plain(line[6:]) for line in lines if line.startswith("    - ")]


def too_close(key: str, holdout: list) -> bool:
    """Near-copies of a held-out sentence (only a word swapped) are skipped too."""
    return any(difflib.SequenceMatcher(None, key, h).ratio() >= NEAR for h in holdout)


def main() -> None:
    rng = random.Random(SEED)
    seen = existing_sentences()
    holdout = holdout_sentences()
    lines = [
        'version: "3.1"',
        "",
        "# GENERATED by scripts/generate_multi_intent.py -- do not edit by hand,",
        "# change the script and re-run it instead.",
        "nlu:",
    ]
    total = 0
    for n in (2, 3, 4):
        for combo in itertools.combinations(ORDER, n):
            intent = "+".join(combo)
            examples, tries = [], 0
            while len(examples) < PER_COMBO[n] and tries < 1000:
                tries += 1
                lang = "en" if rng.random() < EN_SHARE else "nl"
                parts = [rng.choice(NP[lang][i]) for i in combo]
                # users do not always list their needs in canonical order
                if rng.random() < 0.35:
                    rng.shuffle(parts)
                text = rng.choice(TEMPLATES[lang][n]).format(
                    **dict(zip("abcd", parts))
                )
                text = text[0].upper() + text[1:] if rng.random() < 0.5 else text
                key = plain(text)
                if key in seen or too_close(key, holdout):
                    continue
                seen.add(key)
                examples.append(text)
            lines.append(f"- intent: {intent}")
            lines.append("  examples: |")
            lines += [f"    - {e}" for e in examples]
            total += len(examples)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {total} examples to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
