"""The Rasa project a training run uses, written from the knowledge in the database.

The files are a pure function of the knowledge (and the pipeline in rasa_project/config.yml),
so their hash names the model: the same data never trains twice, and a cache outside the
clone (scripts/setup.sh) serves every clone with the same data.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeError, vocabularies
from bot.knowledge.bundle import ENTITIES, Bundle, domain, nlu_files, validation_rules
from bot.settings import Settings

MODEL_PREFIX = "nlu-"
COMPONENTS = "components"  # rasa_project/components: the pipeline's own Rasa components
MIN_EXAMPLES = 2  # Rasa trains an intent from two examples; fewer and it is never predicted
MARKUP = re.compile(r"\[([^\[\]]+)\]\(([^()]+)\)")


def problems(bundle: Bundle) -> list[str]:
    """What makes the training data unusable, in words an admin can act on."""
    found: list[str] = []
    try:
        bundle.check()
    except KnowledgeError as error:
        found.append(str(error))
    counts = Counter(example.intent for example in bundle.examples)
    for intent in bundle.intents:
        if counts[intent] < MIN_EXAMPLES:
            found.append(
                f"Intentie {intent} heeft {counts[intent]} voorbeeld(en); "
                f"geef er minstens {MIN_EXAMPLES}."
            )
    seen: dict[str, str] = {}
    for example in bundle.examples:
        plain = MARKUP.sub(r"\1", example.text).strip().lower()
        if plain in seen and seen[plain] != example.intent:
            found.append(
                f"'{example.text}' staat bij {seen[plain]} en bij {example.intent}; "
                "kies één intentie."
            )
        seen.setdefault(plain, example.intent)
        for _, entity in MARKUP.findall(example.text):
            if entity not in ENTITIES:
                found.append(f"'{example.text}' markeert een onbekende entiteit '{entity}'.")
    return found


def render(bundle: Bundle, settings: Settings, directory: Path) -> str:
    """Write config, domain, NLU data and validation rules into `directory`; return the
    hash of exactly these files."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "data" / "nlu").mkdir(parents=True)
    shutil.copyfile(settings.rasa_project_dir / "config.yml", directory / "config.yml")
    # The pipeline's own components: copied so that a change to them names a new model.
    shutil.copytree(
        settings.rasa_project_dir / COMPONENTS,
        directory / COMPONENTS,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    _dump(directory / "domain.yml", domain(bundle))
    _dump(directory / "data" / "rules.yml", validation_rules(bundle))
    for name, content in nlu_files(bundle, leave_out=vocabularies.conversation_only):
        _dump(directory / "data" / "nlu" / name, content)
    return data_hash(directory)


def data_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([*directory.glob("**/*.yml"), *directory.glob(f"{COMPONENTS}/*.py")]):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings, hash_: str) -> Path:
    return settings.rasa_model_dir / f"{MODEL_PREFIX}{hash_}.tar.gz"


def _dump(path: Path, content: object) -> None:
    text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
