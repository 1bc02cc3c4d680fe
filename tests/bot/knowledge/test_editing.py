"""Admins' changes to the knowledge (bot.knowledge.editing) on PostgreSQL and SQLite: each
change is checked, written, audited with its value before and after, and raises the
knowledge's version, so the bot picks it up; a refused change writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.knowledge import NEED_ORDER, Knowledge, store
from bot.knowledge import editing as edit
from bot.knowledge.editing import ConditionsForm, DepartmentForm, EditError, QuestionForm
from bot.knowledge.store import KnowledgeSource
from bot.routing.rules import RequestFacts, route
from bot.storage import repositories as repo
from bot.storage.knowledge_tables import AuditEntry, BotText, Intent, TrainingExample
from bot.storage.models import Department, RoutingRule, User
from tests.support import store as store_request

Change = Callable[[Session, User], object]


@pytest.fixture
def admin_id(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return accounts.create_user(
            session, "ada", "geheim-wachtwoord", role="admin", departments=[]
        ).id


@pytest.fixture
def change(sessions: sessionmaker[Session], admin_id: int) -> Callable[[Change], object]:
    """Run one change as the admin in its own transaction; it must raise the version by at
    least one audit entry."""

    def run(action: Change) -> object:
        with sessions.begin() as session:
            before = store.version(session)
            result = action(session, session.get(User, admin_id))
            assert store.version(session) > before
            return result

    return run


@contextmanager
def refused(sessions: sessionmaker[Session], admin_id: int, match: str) -> Iterator[Session]:
    """The change inside raises EditError with `match` in its message and writes nothing."""
    with sessions() as session:
        before = store.version(session)
        with pytest.raises(EditError, match=match):
            yield session
        session.rollback()
        assert store.version(session) == before


def audit(sessions: sessionmaker[Session], subject: str) -> list[AuditEntry]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
            )
        )


def admin(session: Session, admin_id: int) -> User:
    user = session.get(User, admin_id)
    assert user is not None
    return user


# -- examples and intents -------------------------------------------------------------------


def test_add_move_and_delete_an_example_with_audit(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    text = "Mag ik een [partytent](item) lenen voor [zaterdag](date)?"
    change(lambda s, u: edit.add_examples(s, u, "request_tools", "nl", ["", f"  {text}  ", ""]))
    with sessions() as session:
        example = session.scalar(select(TrainingExample).where(TrainingExample.text == text))
        assert example is not None
        assert (example.intent, example.language, example.source) == (
            "request_tools",
            "nl",
            "admin",
        )
        example_id = example.id
    added = audit(sessions, "example")[-1]
    assert (added.action, added.actor, added.before) == ("created", "ada", None)
    assert added.after == {"intent": "request_tools", "language": "nl", "text": text}

    change(
        lambda s, u: edit.edit_example(
            s, u, example_id, text=text, language="en", intent="request_room"
        )
    )
    moved = audit(sessions, "example")[-1]
    assert moved.action == "moved"
    assert moved.before == {"intent": "request_tools", "language": "nl", "text": text}
    assert moved.after == {"intent": "request_room", "language": "en", "text": text}

    change(lambda s, u: edit.delete_example(s, u, example_id))
    deleted = audit(sessions, "example")[-1]
    assert (deleted.action, deleted.after) == ("deleted", None)
    assert deleted.before == moved.after
    with sessions() as session:
        assert session.get(TrainingExample, example_id) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("   ", "minstens één voorbeeldzin"),
        ("een zaal voor [40 mensen", "opmaak van een entiteit klopt niet"),
        ("een zaal voor [40](people mensen", "opmaak van een entiteit klopt niet"),
        ("een zaal in [Oost](wijk)", "Onbekende entiteit 'wijk'"),
        ("Ik wil een zaal\nvoor 40 mensen", "één regel"),
        ("x" * 301, "hoogstens 300 tekens"),
        # The same sentence as a shipped example of another intent, in other case and markup.
        ("HALLO", "staat al als voorbeeld bij greet"),
    ],
)
def test_bad_examples_are_refused_with_a_reason(
    sessions: sessionmaker[Session], admin_id: int, line: str, message: str
) -> None:
    with refused(sessions, admin_id, message) as session:
        edit.add_examples(session, admin(session, admin_id), "request_room", "nl", [line])


def test_every_bad_line_is_named_and_nothing_is_added(
    sessions: sessionmaker[Session], admin_id: int
) -> None:
    lines = ["Een geldige nieuwe zin over een zaal", "hallo", "", "dubbel", "Dubbel"]
    with refused(sessions, admin_id, "Regel 2: 'hallo' staat al") as session:
        try:
            edit.add_examples(session, admin(session, admin_id), "request_room", "nl", lines)
        except EditError as error:
            assert "Regel 5: 'Dubbel' staat twee keer in uw lijst" in str(error)
            raise


def test_an_entity_an_example_already_uses_is_known(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    with sessions.begin() as session:
        session.add(TrainingExample(intent="request_room", language="nl", text="een [kas](plek)"))
    change(lambda s, u: edit.add_examples(s, u, "request_room", "nl", ["een [kas](plek) graag"]))


def test_an_intent_keeps_enough_examples(sessions: sessionmaker[Session], admin_id: int) -> None:
    with sessions() as session:
        ids = session.scalars(
            select(TrainingExample.id).where(TrainingExample.intent == "faq_costs")
        ).all()
    with sessions.begin() as session:
        for example_id in ids[2:]:
            session.delete(session.get(TrainingExample, example_id))
    with refused(sessions, admin_id, "minstens 2 nodig") as session:
        edit.delete_example(session, admin(session, admin_id), ids[0])
    with refused(sessions, admin_id, "minstens 2 nodig") as session:
        edit.edit_example(
            session,
            admin(session, admin_id),
            ids[1],
            text="Wat kost een zaal eigenlijk",
            language="nl",
            intent="faq_how_long",
        )


def test_a_new_faq_intent_with_answer_and_examples(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    source = KnowledgeSource(sessions)
    assert "faq_parkeren_bij_het_cafe" not in source.current().faq
    name = change(
        lambda s, u: edit.create_faq_intent(
            s,
            u,
            "  Parkeren bij het Café! ",
            answer_nl="Parkeren kan gratis op het plein.\r\nDe eerste twee uur.",
            answer_en="",
            examples=["Waar kan ik parkeren?", "", "Is er parkeergelegenheid bij het buurthuis"],
            language="nl",
        )
    )
    assert name == "faq_parkeren_bij_het_cafe"
    with sessions() as session:
        assert session.get(Intent, name) is not None
        answer = session.get(BotText, ("faq", name))
        assert answer is not None and (answer.nl, answer.en) == (
            "Parkeren kan gratis op het plein.\nDe eerste twee uur.",
            None,
        )
        examples = session.scalars(
            select(TrainingExample.text).where(TrainingExample.intent == name)
        ).all()
        assert examples == ["Waar kan ik parkeren?", "Is er parkeergelegenheid bij het buurthuis"]
    # The bot knows the answer at once (the model learns the question at the next training).
    assert source.current().faq[name] == {
        "nl": "Parkeren kan gratis op het plein.\nDe eerste twee uur."
    }
    assert [e.subject for e in audit(sessions, "intent")] == ["intent"]

    change(lambda s, u: edit.delete_faq_intent(s, u, name))
    with sessions() as session:
        assert session.get(Intent, name) is None
        assert session.get(BotText, ("faq", name)) is None
        assert not session.scalar(select(func.count()).where(TrainingExample.intent == name))
    assert name not in source.current().faq
    assert audit(sessions, "intent")[-1].before == {"intent": name}


@pytest.mark.parametrize(
    ("name", "answer", "examples", "message"),
    [
        (
            "costs",
            "Gratis.",
            ["Wat kost het huren?", "Is het gratis?"],
            "al een intentie faq_costs",
        ),
        ("!!!", "Gratis.", ["Wat kost het huren?", "Is het gratis?"], "naam van letters"),
        ("kosten", " ", ["Wat kost het huren?", "Is het gratis?"], "Nederlandse tekst"),
        ("kosten", "Gratis.", ["Wat kost het huren?", "   "], "minstens 2 voorbeeldzinnen"),
        ("kosten", "Gratis.", ["Wat kost het huren?", "hallo"], "Regel 2: 'hallo' staat al"),
    ],
)
def test_a_faq_intent_is_refused_with_a_reason(
    sessions: sessionmaker[Session],
    admin_id: int,
    name: str,
    answer: str,
    examples: list[str],
    message: str,
) -> None:
    with refused(sessions, admin_id, message) as session:
        edit.create_faq_intent(
            session,
            admin(session, admin_id),
            name,
            answer_nl=answer,
            answer_en="",
            examples=examples,
            language="nl",
        )


def test_only_faq_intents_can_be_deleted(sessions: sessionmaker[Session], admin_id: int) -> None:
    with refused(sessions, admin_id, "Alleen veelgestelde vragen") as session:
        edit.delete_faq_intent(session, admin(session, admin_id), "request_room")


# -- texts --------------------------------------------------------------------------------


def test_a_text_edit_keeps_its_placeholders_and_the_bot_says_it(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    source = KnowledgeSource(sessions)
    new_nl = "Verstuurd!\nUw nummer: {reference}\nAfdeling: {department}\nAntwoord vóór {due}."
    change(
        lambda s, u: edit.edit_text(
            s, u, "text", "submitted", nl=new_nl.replace("\n", "\r\n"), en=""
        )
    )
    knowledge = source.current()
    said = knowledge.text("submitted", "nl", reference="WW-1", department="Vastgoed", due="morgen")
    assert said == "Verstuurd!\nUw nummer: WW-1\nAfdeling: Vastgoed\nAntwoord vóór morgen."
    # Without an English text the Dutch one is used.
    assert knowledge.text("submitted", "en", reference="x", department="y", due="z").startswith(
        "Verstuurd!"
    )
    entry = audit(sessions, "text")[-1]
    assert entry.subject_key == "text.submitted"
    assert entry.before["nl"].startswith("Dank u wel!") and entry.after["nl"] == new_nl


@pytest.mark.parametrize(
    ("nl", "message"),
    [
        ("Verstuurd onder nummer {reference}, antwoord {due}.", "ontbreekt {department}"),
        ("{reference} {department} {due} {naam}", "gebruikt {naam}"),
        ("{reference} {department} {due} met een losse {", "accolades"),
        ("{reference:d} {department} {due}", "kan niet worden ingevuld"),
        ("", "Nederlandse tekst"),
    ],
)
def test_a_text_edit_that_loses_a_placeholder_is_refused(
    sessions: sessionmaker[Session], admin_id: int, nl: str, message: str
) -> None:
    with refused(sessions, admin_id, message) as session:
        edit.edit_text(session, admin(session, admin_id), "text", "submitted", nl=nl, en="")


def test_texts_the_bot_says_as_written_may_hold_braces(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    """A FAQ answer is not filled in, so a brace in it is just a character."""
    change(lambda s, u: edit.edit_text(s, u, "faq", "faq_costs", nl="Gratis {echt}.", en="Free."))
    assert KnowledgeSource(sessions).current().faq["faq_costs"]["nl"] == "Gratis {echt}."


def test_the_preview_fills_in_example_values() -> None:
    assert edit.fill_in("Nummer {reference}, {onbekend}", "nl", formatted=True) == (
        "Nummer WW-2026-000123, ‹onbekend›"
    )
    assert edit.fill_in("Handled by {department}", "en", formatted=True) == "Handled by Permits"
    assert edit.fill_in("Gratis {echt}", "nl", formatted=False) == "Gratis {echt}"


# -- needs and questions ------------------------------------------------------------------


def form(**values: object) -> QuestionForm:
    defaults: dict[str, object] = {
        "label_nl": "Verwachte bezoekers",
        "label_en": "Expected visitors",
        "prompt_nl": "Hoeveel bezoekers verwacht u?",
        "prompt_en": "How many visitors do you expect?",
        "answer_type": "integer",
        "from_entity": "people",
        "validation": {"min": "1", "max": "5000"},
    }
    return QuestionForm(**{**defaults, **values})  # type: ignore[arg-type]


def test_a_question_edit_reaches_the_bot(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    source = KnowledgeSource(sessions)
    plain = edit.question_from_form("visitors", form())
    change(lambda s, u: edit.save_question(s, u, "permit", "visitors", plain))
    assert source.current().question("visitors").validation == {"min": 1, "max": 5000}
    entry = audit(sessions, "question")[-1]
    assert entry.subject_key == "permit.visitors"
    assert entry.before["validation"] == {"min": 1, "max": 100000}
    assert entry.after["validation"] == {"min": 1, "max": 5000}

    change(lambda s, u: edit.move_question(s, u, "permit", "visitors", "up"))
    order = [q.key for q in source.current().needs["permit"].questions]
    assert order.index("visitors") < order.index("end_time")

    added = edit.question_from_form(
        "tables",
        form(label_nl="Tafels", prompt_nl="Hoeveel tafels?", from_entity="", validation={}),
    )
    with pytest.raises(EditError, match="De sleutel bestaat uit kleine letters"):
        edit.question_from_form("Tafels!", form())
    change(lambda s, u: edit.save_question(s, u, "permit", None, added))
    assert source.current().needs["permit"].questions[-1].key == "tables"
    change(lambda s, u: edit.delete_question(s, u, "permit", "tables"))
    assert not source.current().has_question("tables")


def test_choices_of_a_shared_question_apply_to_every_need(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    plain = edit.question_from_form(
        "neighbourhood",
        form(
            label_nl="Wijk",
            prompt_nl="In welke wijk?",
            answer_type="choice",
            from_entity="neighbourhood",
            validation={},
            choices="Centrum: binnenstad, centrum-oost\r\nNoord\n\nZuid",
        ),
    )
    change(lambda s, u: edit.save_question(s, u, "permit", "neighbourhood", plain))
    knowledge = KnowledgeSource(sessions).current()
    for need in ("room", "permit"):
        question = next(q for q in knowledge.needs[need].questions if q.key == "neighbourhood")
        assert [(c.value, c.synonyms) for c in question.choices] == [
            ("Centrum", ("binnenstad", "centrum-oost")),
            ("Noord", ()),
            ("Zuid", ()),
        ]
    with sessions() as session:
        assert edit.neighbourhoods(session) == ["Centrum", "Noord", "Zuid"]


@pytest.mark.parametrize(
    ("need", "key", "values", "message"),
    [
        ("permit", "neighbourhood", {"answer_type": "choice", "choices": "Alleen"}, "twee keuzes"),
        ("permit", "date", {"answer_type": "text", "validation": {}}, "ander soort antwoord"),
        (
            "permit",
            "end_time",
            {"answer_type": "time", "validation": {"after": "nope"}},
            "niet gesteld",
        ),
        (
            "permit",
            "end_time",
            {"answer_type": "time", "validation": {"after": "visitors"}},
            "type time",
        ),
        ("permit", "visitors", {"validation": {"min": "10", "max": "5"}}, "groter dan het maximum"),
        ("permit", "visitors", {"validation": {"min": "veel"}}, "heel getal"),
        ("permit", "visitors", {"label_nl": " "}, "Nederlandse tekst van het label"),
        ("permit", "visitors", {"answer_type": "kleur"}, "soort antwoord"),
    ],
)
def test_a_question_the_bot_could_not_run_on_is_refused(
    sessions: sessionmaker[Session],
    admin_id: int,
    need: str,
    key: str,
    values: dict[str, object],
    message: str,
) -> None:
    with refused(sessions, admin_id, message) as session:
        plain = edit.question_from_form(key, form(**values))
        edit.save_question(session, admin(session, admin_id), need, key, plain)


def test_questions_the_app_relies_on_cannot_go(
    sessions: sessionmaker[Session], admin_id: int
) -> None:
    with refused(sessions, admin_id, "kan niet weg") as session:
        edit.delete_question(session, admin(session, admin_id), "contact", "phone")
    with refused(sessions, admin_id, "vergelijkt met vraag 'start_time'") as session:
        edit.delete_question(session, admin(session, admin_id), "permit", "start_time")


def test_a_prompt_is_edited_on_its_question(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    change(lambda s, u: edit.edit_prompt(s, u, "contact", "name", nl="Hoe heet u?", en=""))
    assert KnowledgeSource(sessions).current().question("name").prompt == {"nl": "Hoe heet u?"}
    assert audit(sessions, "question")[-1].subject_key == "contact.name"


# -- departments ----------------------------------------------------------------------------


EVENTS = DepartmentForm(
    name="Evenementen",
    sla_days="15",
    email="Evenementen@Gemeente.example",
    phone="020 123 4567",
    webhook_url="https://zaaksysteem.gemeente.example/wegwijs",
    webhook_secret="s3cret",
)


def test_create_change_and_delete_a_department(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    change(lambda s, u: edit.save_department(s, u, "evenementen", EVENTS, create=True))
    with sessions() as session:
        department = session.get(Department, "evenementen")
        assert department is not None
        assert (department.contact_email, department.contact_phone) == (
            "Evenementen@gemeente.example",
            "020 123 4567",
        )
        assert department.webhook_secret == "s3cret" and not department.is_fallback
    created = audit(sessions, "department")[-1]
    assert created.after["webhook_secret"] == "ingesteld"  # the secret itself is not logged
    assert "s3cret" not in str(created.after)

    change(lambda s, u: accounts.add_member(s, u, "evenementen", "ada"))
    with refused(sessions, admin_id, "medewerkers lid") as session:
        edit.delete_department(session, admin(session, admin_id), "evenementen")
    change(lambda s, u: accounts.remove_member(s, u, "evenementen", "ada"))
    assert audit(sessions, "department")[-1].before == {"members": ["ada"]}

    # Taking over the fallback: exactly one department has it.
    change(
        lambda s, u: edit.save_department(
            s,
            u,
            "evenementen",
            DepartmentForm(name="Evenementen", sla_days="15", is_fallback=True),
            create=False,
        )
    )
    with sessions() as session:
        assert repo.fallback_department(session) == "evenementen"
        assert session.get(Department, "evenementen").webhook_secret == "s3cret"  # kept
    with refused(sessions, admin_id, "terugvalafdeling kan niet weg") as session:
        edit.delete_department(session, admin(session, admin_id), "evenementen")
    change(
        lambda s, u: edit.save_department(
            s,
            u,
            "initiatievenloket",
            DepartmentForm(name="Initiatievenloket", sla_days="5", is_fallback=True),
            create=False,
        )
    )
    change(lambda s, u: edit.delete_department(s, u, "evenementen"))
    with sessions() as session:
        assert session.get(Department, "evenementen") is None
        assert repo.fallback_department(session) == "initiatievenloket"


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        ("Evenementen!", {}, "De sleutel"),
        ("vastgoed", {}, "al een afdeling"),
        ("evenementen", {"name": " "}, "De naam is verplicht"),
        ("evenementen", {"sla_days": "0"}, "1 tot en met 90"),
        ("evenementen", {"sla_days": "91"}, "1 tot en met 90"),
        ("evenementen", {"email": "geen-adres"}, "geen geldig e-mailadres"),
        ("evenementen", {"phone": "12345"}, "geen geldig telefoonnummer"),
        ("evenementen", {"webhook_url": "ftp://server/pad"}, "webhookadres"),
    ],
)
def test_a_bad_department_is_refused(
    sessions: sessionmaker[Session], admin_id: int, key: str, values: dict[str, str], message: str
) -> None:
    fields = {**EVENTS.__dict__, **values}
    with refused(sessions, admin_id, message) as session:
        edit.save_department(
            session, admin(session, admin_id), key, DepartmentForm(**fields), create=True
        )


def test_a_department_with_requests_or_rules_stays(
    sessions: sessionmaker[Session], admin_id: int, knowledge: Knowledge
) -> None:
    with refused(sessions, admin_id, "routeringsregel") as session:
        edit.delete_department(session, admin(session, admin_id), "buitendienst")
    with sessions.begin() as session:
        resident = repo.resident_for(session, "telegram", "7", "nl")
        store_request(session, knowledge, resident, ["room", "budget"], {"amount": "750.00"})
        session.flush()
        for rule in session.scalars(select(RoutingRule)):
            if rule.department_key == "wijkbudget":
                session.delete(rule)
    # wijkbudget has no rule any more, but is a co-department of the request.
    with refused(sessions, admin_id, "nog 1 aanvraag van") as session:
        edit.delete_department(session, admin(session, admin_id), "wijkbudget")


# -- routing rules --------------------------------------------------------------------------


def decide(session: Session, needs: list[str], visitors: int | None = None):
    facts = RequestFacts(frozenset(needs), visitors=visitors)
    return route(repo.routing_rules(session), facts, repo.fallback_department(session), NEED_ORDER)


def test_a_rule_above_another_and_the_reordering(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    change(lambda s, u: edit.save_department(s, u, "evenementen", EVENTS, create=True))
    with sessions() as session:
        permit_rule = next(
            r for r in session.scalars(select(RoutingRule)) if r.name == "toestemming"
        )
        conditions = edit.conditions_from_form(ConditionsForm(needs=["permit"], visitors_min="251"))
        assert conditions == {"needs": ["permit"], "visitors_min": 251}
    change(
        lambda s, u: edit.save_rule(
            s,
            u,
            None,
            name="evenementen boven 250 bezoekers",
            conditions=conditions,
            department="evenementen",
            before_rule=permit_rule.id,
        )
    )
    with sessions() as session:
        names = [rule.name for rule in repo.routing_rules(session)]
        assert names.index("evenementen boven 250 bezoekers") == names.index("toestemming") - 1
        assert decide(session, ["permit"], 300).department == "evenementen"
        assert decide(session, ["permit"], 300).rule == "evenementen boven 250 bezoekers"
        assert decide(session, ["permit"], 100).department == "vergunningen"
        new_id = next(r.id for r in session.scalars(select(RoutingRule)) if r.name == names[-2])

    # One place down: now below "toestemming", which matches first.
    change(lambda s, u: edit.move_rule(s, u, new_id, "down"))
    with sessions() as session:
        assert [r.name for r in repo.routing_rules(session)][-2:] == [
            "toestemming",
            "evenementen boven 250 bezoekers",
        ]
        assert decide(session, ["permit"], 300).department == "vergunningen"
    moved = audit(sessions, "routing")[-1]
    assert moved.action == "moved"
    assert moved.before["order"][-1] == "toestemming"
    with refused(sessions, admin_id, "al onderaan") as session:
        edit.move_rule(session, admin(session, admin_id), new_id, "down")

    change(lambda s, u: edit.delete_rule(s, u, new_id))
    with sessions() as session:
        assert [r.position for r in session.scalars(select(RoutingRule))] == sorted(
            r.position for r in session.scalars(select(RoutingRule))
        )
        assert audit(sessions, "rule")[-1].before["department"] == "evenementen"


def test_replacing_all_rules_is_checked_first(
    sessions: sessionmaker[Session], admin_id: int, change: Callable[[Change], object]
) -> None:
    rules = [
        {
            "name": "alles met budget",
            "when": {"needs": ["budget"], "amount_min": "0.5"},
            "department": "subsidies",
        },
        {"name": "de rest", "when": {}, "department": "vastgoed"},
    ]
    with refused(sessions, admin_id, "Regel 2: Kies een afdeling") as session:
        edit.replace_rules(
            session, admin(session, admin_id), [rules[0], {**rules[1], "department": "nergens"}]
        )
    change(lambda s, u: edit.replace_rules(s, u, rules))
    with sessions() as session:
        stored = repo.routing_rules(session)
        assert [(r.name, r.conditions, r.department) for r in stored] == [
            ("alles met budget", {"needs": ["budget"], "amount_min": 0.5}, "subsidies"),
            ("de rest", {}, "vastgoed"),
        ]
        assert decide(session, ["permit"]).department == "vastgoed"
    entry = audit(sessions, "routing")[-1]
    assert entry.before["rules"][0]["name"] == "meerdere behoeften"
    assert entry.after["rules"][1] == {"name": "de rest", "when": {}, "department": "vastgoed"}


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"visitors_min": 300, "visitors_max": 100}, "groter dan bezoekers tot en met"),
        ({"amount_min": -1}, "0 of meer"),
        ({"min_needs": "twee"}, "heel getal"),
        ({"needs": ["boot"]}, "Behoeften zijn er uit"),
        ({"neighbourhoods": ["Atlantis"]}, "Wijken zijn er uit"),
        ({"weather": "sunny"}, "Onbekende voorwaarde"),
    ],
)
def test_bad_conditions_are_refused(
    sessions: sessionmaker[Session], admin_id: int, conditions: dict, message: str
) -> None:
    with refused(sessions, admin_id, message) as session:
        edit.save_rule(
            session,
            admin(session, admin_id),
            None,
            name="regel",
            conditions=conditions,
            department="vastgoed",
        )


def test_amounts_keep_their_cents() -> None:
    conditions = edit.conditions_from_form(ConditionsForm(amount_min="5000,01", min_needs="2"))
    assert conditions == {"amount_min": 5000.01, "min_needs": 2}
    assert Decimal(str(conditions["amount_min"])) == Decimal("5000.01")
