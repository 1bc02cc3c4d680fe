"""`wegwijs knowledge export DIR` and `wegwijs knowledge import DIR`, run as an admin would:
the same YAML goes out and comes back, an import says what it would change before it does,
and a broken import changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import store
from bot.settings import PROJECT_ROOT
from bot.storage import repositories as repo
from bot.storage.knowledge_tables import AuditEntry, BotText

pytestmark = pytest.mark.process  # every test runs the `wegwijs knowledge` command


def wegwijs(
    database_url: str, *args: str, input_text: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wegwijs", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        input=input_text,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_then_import_round_trips(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    done = wegwijs(database_url, "knowledge", "export", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "knowledge" / "needs.yml").exists()
    assert (tmp_path / "rasa_project" / "data" / "nlu" / "faq.yml").exists()
    done = wegwijs(database_url, "knowledge", "import", str(tmp_path), "--yes")
    assert done.returncode == 0, done.stderr
    assert "Nothing to change" in done.stdout


def test_import_reports_then_applies_with_an_audit_trail(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert wegwijs(database_url, "knowledge", "export", str(tmp_path)).returncode == 0
    texts_file = tmp_path / "knowledge" / "texts.yml"
    texts = yaml.safe_load(texts_file.read_text())
    texts["texts"]["goodbye"]["nl"] = "Tot ziens, en veel succes met uw initiatief!"
    texts_file.write_text(yaml.safe_dump(texts, allow_unicode=True))
    departments_file = tmp_path / "knowledge" / "departments.yml"
    departments = yaml.safe_load(departments_file.read_text())
    departments["departments"].append(
        {"key": "evenementen", "name": "Evenementen", "sla_days": 15, "contact": {}}
    )
    departments_file.write_text(yaml.safe_dump(departments, allow_unicode=True))

    report = wegwijs(database_url, "knowledge", "import", str(tmp_path), "--dry-run")
    assert report.returncode == 0, report.stderr
    assert "changed  text       text.goodbye" in report.stdout
    assert "created  department evenementen" in report.stdout
    with sessions() as session:
        assert "evenementen" not in repo.departments(session)  # a dry run changes nothing

    declined = wegwijs(database_url, "knowledge", "import", str(tmp_path), input_text="n\n")
    assert "Nothing changed." in declined.stdout
    applied = wegwijs(database_url, "knowledge", "import", str(tmp_path), input_text="y\n")
    assert applied.returncode == 0, applied.stderr
    with sessions() as session:
        assert repo.departments(session)["evenementen"].sla_days == 15
        goodbye = session.get(BotText, ("text", "goodbye"))
        assert goodbye is not None and goodbye.nl.startswith("Tot ziens, en veel succes")
        assert store.load_knowledge(session).text("goodbye", "nl") == goodbye.nl
        audit = {
            (entry.subject, entry.subject_key): entry
            for entry in session.scalars(select(AuditEntry))
        }
        change = audit["text", "text.goodbye"]
        assert change.actor == "wegwijs (command line)" and change.action == "changed"
        assert change.before["nl"] != change.after["nl"]
        assert audit["department", "evenementen"].before is None


def test_a_broken_import_changes_nothing(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert wegwijs(database_url, "knowledge", "export", str(tmp_path)).returncode == 0
    routing_file = tmp_path / "knowledge" / "routing.yml"
    routing = yaml.safe_load(routing_file.read_text())
    routing["rules"][0]["department"] = "bestaat_niet"
    routing_file.write_text(yaml.safe_dump(routing, allow_unicode=True))
    with sessions() as session:
        version = store.version(session)
    done = wegwijs(database_url, "knowledge", "import", str(tmp_path), "--yes")
    assert done.returncode != 0
    assert "Not imported" in done.stderr and "bestaat_niet" in done.stderr
    with sessions() as session:
        assert store.version(session) == version
