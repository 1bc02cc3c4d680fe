"""Storing requests on PostgreSQL and SQLite: references, parts, transcripts, and the
`wegwijs requests list --json` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.knowledge import store as store_module
from bot.knowledge.bundle import Bundle
from bot.settings import PROJECT_ROOT
from bot.storage import repositories as repo
from bot.storage.knowledge_tables import BotText, DialogueThreshold, NluResource
from bot.storage.models import MessageLog, Request
from tests.support import store


def test_defaults_are_seeded_once(sessions: sessionmaker[Session], bundle: Bundle) -> None:
    with sessions.begin() as session:
        store_module.seed(session, bundle)  # a second start adds nothing
        assert set(repo.departments(session)) == set(bundle.departments)
        assert [r.name for r in repo.routing_rules(session)] == [r["name"] for r in bundle.rules]
        assert repo.fallback_department(session) == bundle.fallback_department
        assert not store_module.changes_from(session, bundle)


def test_an_upgrade_adds_new_texts_vocabularies_and_thresholds_and_keeps_the_rest(
    sessions: sessionmaker[Session], bundle: Bundle
) -> None:
    with sessions.begin() as session:  # an installation from before these existed
        session.execute(delete(BotText).where(BotText.key == "person_offer"))
        session.execute(delete(NluResource).where(NluResource.name == "person_words"))
        session.execute(
            update(BotText).where(BotText.key == "welcome").values(nl="Hallo, zeg het maar!")
        )
        session.execute(delete(DialogueThreshold).where(DialogueThreshold.name == "guess_button"))
        session.execute(
            update(DialogueThreshold).where(DialogueThreshold.name == "cancel").values(value=0.9)
        )
    with sessions.begin() as session:
        added = store_module.add_new_defaults(session, bundle)
        new = ["lookup.person_words", "text.person_offer", "threshold.guess_button"]
        assert sorted(added) == new
    with sessions.begin() as session:
        knowledge = store_module.load_knowledge(session)
        assert knowledge.text("person_offer", "nl").startswith("Dat kan.")
        assert "iemand" in knowledge.cues["person_nouns"]
        assert knowledge.text("welcome", "nl") == "Hallo, zeg het maar!"  # the admin's edit
        assert knowledge.threshold("guess_button") == 0.1
        assert knowledge.threshold("cancel") == 0.9
        assert not store_module.add_new_defaults(session, bundle)  # a next start adds nothing


def test_request_reference_parts_and_transcript(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        resident = repo.resident_for(session, "telegram", "42", "nl")
        repo.log_message(session, resident, "in", "zaal en geld graag")
        answers = {"amount": "750.00", "name": "Jan", "phone": "+31612345678", "email": None}
        request = store(session, knowledge, resident, ["room", "budget"], answers)
        reference = request.reference
    with sessions() as session:
        request = session.scalar(select(Request).where(Request.reference == reference))
        assert reference == f"WW-{request.created_at.year}-{request.id:06d}"
        assert request.department_key == "initiatievenloket"
        assert request.co_departments == ["vastgoed", "wijkbudget"]
        assert request.answers == {"amount": "750.00"}
        assert request.resident.name == "Jan" and request.resident.phone == "+31612345678"
        lines = session.scalars(select(MessageLog.text).where(MessageLog.request_id == request.id))
        assert list(lines) == ["zaal en geld graag"]


@pytest.mark.process
def test_requests_list_json(
    database_url: str, sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        resident = repo.resident_for(session, "terminal", "jan", "nl")
        store(session, knowledge, resident, ["permit"], {"visitors": 80})
    output = subprocess.run(
        [sys.executable, "-m", "wegwijs", "requests", "list", "--json"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [row] = json.loads(output)
    assert set(row) == {
        "id", "reference", "department", "co_departments", "needs", "status", "answers",
        "assignee", "created_at", "due_at",
    }  # fmt: skip
    assert row["assignee"] is None
    assert row["department"] == "vergunningen"
    assert row["needs"] == ["permit"] and row["status"] == "nieuw"
    assert row["due_at"] == "2026-12-01"
