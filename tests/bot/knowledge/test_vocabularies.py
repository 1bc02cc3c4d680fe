"""Admins keep the vocabularies (bot.knowledge.vocabularies) on PostgreSQL and SQLite: a
saved list is audited and used by the bot from its next message on; a refused one writes
nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.knowledge import store
from bot.knowledge import vocabularies as words
from bot.knowledge.editing import EditError
from bot.knowledge.store import KnowledgeSource
from bot.nlu.interpretation import Interpretation
from bot.nlu.needs import settle_needs
from bot.queue import history
from bot.storage.knowledge_tables import AuditEntry
from bot.storage.models import User


@pytest.fixture
def admin(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return accounts.create_user(
            session, "ada", "geheim-wachtwoord", role="admin", departments=[]
        ).id


def test_the_lists_say_what_they_are_for(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        found = {v.name: v for v in words.vocabularies(session)}
    assert {"room", "tools", "budget", "permit", "item", "out_of_scope_parking"} <= set(found)
    assert "behoefte 'room'" in found["room"].purpose
    assert "out_of_scope_parking" in found["out_of_scope_parking"].purpose
    assert "parkeervergunning" in found["out_of_scope_parking"].words


def test_a_new_word_settles_the_next_message(sessions: sessionmaker[Session], admin: int) -> None:
    """A cellar is no room word yet: the model's room+budget loses the room. Once an admin
    adds it, the same reading keeps both needs, without a restart."""
    source = KnowledgeSource(sessions)
    text = "we zoeken een kelder en wat subsidie voor de buurtbios"
    reading = Interpretation(text, "request_room+request_budget", 0.8, (), ())
    assert settle_needs(reading, source.current()).intent == "request_budget"
    with sessions.begin() as session:
        room = words.vocabulary(session, "room")
        words.edit_vocabulary(
            session, session.get(User, admin), "room", "\n".join([*room.words, " kelder ", ""])
        )
    assert settle_needs(reading, source.current()).intent == "request_room+request_budget"
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        assert (entry.subject, entry.subject_key, entry.actor) == ("resource", "lookup:room", "ada")
        assert "kelder" in entry.after and "kelder" not in entry.before
        assert words.vocabulary(session, "room").words.count("kelder") == 1


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("room", "  \n \n", "minstens één woord"),
        ("room", "zaal\n" + "x" * 81, "te lang"),
        ("nothing_like_this", "zaal", "bestaat niet"),
    ],
)
def test_a_refused_list_writes_nothing(
    sessions: sessionmaker[Session], admin: int, name: str, text: str, reason: str
) -> None:
    with sessions() as session:
        before = store.version(session)
        with pytest.raises(EditError, match=reason):
            words.edit_vocabulary(session, session.get(User, admin), name, text)
        session.rollback()
        assert store.version(session) == before


def test_every_kind_of_history_event_has_a_dutch_title() -> None:
    assert set(history.TITLES) == set(history.Event)
