"""Builds the running pieces from the one Settings object."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import ConversationService
from bot.knowledge import store
from bot.knowledge.bundle import Bundle, read_bundle
from bot.knowledge.store import KnowledgeSource
from bot.learning import retraining, training_data
from bot.learning.inbox import Collector
from bot.nlu.client import RasaClient
from bot.nlu.language import guess_language
from bot.settings import Settings
from bot.storage.database import make_engine, make_session_factory, upgrade


def default_bundle(settings: Settings) -> Bundle:
    """The knowledge shipped in `knowledge/` and `rasa_project/`: what a first start uses."""
    return read_bundle(settings.knowledge_dir, settings.rasa_project_dir, guess_language)


def shipped_model(settings: Settings) -> Path:
    """Where the model of the shipped knowledge is (trained by `make setup`)."""
    bundle = default_bundle(settings)
    hash_ = training_data.render(bundle, settings, settings.data_dir / "training" / "shipped")
    return training_data.model_path(settings, hash_)


def database(settings: Settings) -> sessionmaker[Session]:
    """Migrate the schema and, on first start, fill the knowledge from the YAML defaults;
    after that the database is the live source, to which an upgrade only adds the texts and
    vocabularies it brings."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        bundle = default_bundle(settings)
        if store.needs_seed(session):
            store.seed(session, bundle)
        store.add_new_defaults(session, bundle)
    return sessions


def rasa_client(settings: Settings, sessions: sessionmaker[Session] | None = None) -> RasaClient:
    """The bot's Rasa client; with `sessions` it waits for Rasa while a model swap is under
    way (marked in the database by bot.learning.retraining), and fails fast otherwise."""
    return RasaClient(
        settings.rasa_url,
        settings.rasa_token,
        settings.rasa_timeout_seconds,
        settings.rasa_busy_timeout_seconds,
        swap_under_way=(lambda: retraining.swap_under_way(sessions)) if sessions else lambda: False,
    )


def build_service(
    settings: Settings, sessions: sessionmaker[Session] | None = None
) -> ConversationService:
    """The conversation service; pass `sessions` when the database is already open."""
    sessions = sessions or database(settings)
    knowledge = KnowledgeSource(sessions)
    return ConversationService(
        knowledge,
        sessions,
        rasa_client(settings, sessions),
        max_message_length=settings.max_message_length,
        inbox=Collector(sessions, knowledge, settings.nlu_inbox_margin),
        default_language=settings.default_language,
        reply_lease_seconds=settings.delivery_lease_seconds,
    )
