"""The admins' knowledge pages. In-process (TestClient over the real database): every page
renders for an admin and is refused to an official, a refused form shows why and keeps what
was typed, and the admin API. In the real browser against the running app (its bot, the
fake Bot API, the real Rasa): a new department and routing rule decide the next request,
and an edited text is what the bot says next, all without a restart."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.storage.knowledge_tables import AuditEntry, TrainingExample
from bot.storage.models import Request, RoutingRule
from tests.e2e.support import Resident, dutch, future_saturday
from tests.web.support import CONTACT, REFERENCE, App
from tests.web.world import PASSWORD, World, bearer

OpenPage = Callable[..., Page]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGES = {
    "/admin/intents": "Intenties",
    "/admin/intents/faq_costs": "Intentie faq_costs",
    "/admin/texts": "Teksten",
    "/admin/texts?group=question&q=bezoekers": "Teksten",
    "/admin/texts/text/submitted": "Tekst van de bot: submitted",
    "/admin/texts/question/permit.visitors": "Vraag: permit.visitors",
    "/admin/needs": "Behoeften en vragen",
    "/admin/needs/permit/questions/visitors": "Vraag visitors bij",
    "/admin/needs/contact/add": "Nieuwe vraag bij contactgegevens",
    "/admin/vocabularies": "Woordenlijsten",
    "/admin/vocabularies/room": "Woordenlijst room",
    "/admin/dialogue": "Drempels en antwoorden",
    "/admin/departments": "Afdelingen",
    "/admin/departments/vergunningen": "Vergunningen",
    "/admin/routing": "Routering",
    "/admin/routing?needs=permit&visitors=300": "Routering",
    "/admin/try": "Zin proberen",
    "/admin/audit": "Wijzigingslog",
}


# -- in-process: pages, refusals and the admin API ------------------------------------------


@pytest.fixture
def world(sessions: sessionmaker[Session], knowledge: Knowledge) -> World:
    return World.with_staff(sessions, knowledge)


def logged_in(world: World, username: str) -> tuple[TestClient, str]:
    """A client logged in through the form, and its CSRF token."""
    client = world.client()
    token = CSRF.search(client.get("/login").text)
    assert token
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data={**form, "next": "/"}).status_code == 303
    token = CSRF.search(client.get("/").text)
    assert token
    return client, token.group(1)


@pytest.fixture
def ada(world: World) -> Iterator[tuple[TestClient, str]]:
    client, csrf = logged_in(world, "ada")
    with client:
        yield client, csrf


def heading(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, html
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def test_every_admin_page_renders_for_an_admin_and_not_for_an_official(
    world: World, ada: tuple[TestClient, str]
) -> None:
    client, _ = ada
    anna, _ = logged_in(world, "anna")
    for url, title in PAGES.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert heading(response.text).startswith(title), (url, heading(response.text))
        refused = anna.get(url)
        assert refused.status_code == 403 and "Geen toegang" in refused.text, url
    assert client.get("/admin/intents/request_nothing").status_code == 404
    assert client.get("/admin/texts/text/no_such_text").status_code == 404
    # Rasa is not running for this app: the sentence cannot be read, and the page says so.
    tried = client.get("/admin/try", params={"text": "Ik wil een zaal"})
    assert tried.status_code == 200 and "Het taalmodel is nu niet bereikbaar" in tried.text


def test_a_refused_form_says_why_and_keeps_what_was_typed(
    world: World, ada: tuple[TestClient, str]
) -> None:
    client, csrf = ada
    typed = "een zaal voor [40 mensen"
    response = client.post(
        "/admin/intents/request_room/examples",
        data={"csrf_token": csrf, "examples": typed, "language": "nl"},
    )
    assert response.status_code == 422
    assert "opmaak van een entiteit klopt niet" in response.text
    assert f">{typed}</textarea>" in response.text
    response = client.post(
        "/admin/texts/text/submitted",
        data={"csrf_token": csrf, "nl": "Verstuurd: {reference}", "en": ""},
    )
    assert response.status_code == 422
    assert "ontbreekt {department}, {due}" in response.text
    assert "Verstuurd: {reference}</textarea>" in response.text
    # A one-click action that is refused goes back to the page, which says why.
    response = client.post("/admin/intents/greet/delete", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert "Alleen veelgestelde vragen" in client.get(response.headers["location"]).text
    with world.sessions() as session:
        assert session.scalar(select(AuditEntry.id).limit(1)) is None


def test_the_question_form_saves_through_the_page(
    world: World, ada: tuple[TestClient, str]
) -> None:
    client, csrf = ada
    form = {
        "csrf_token": csrf,
        "label_nl": "Verwachte bezoekers",
        "prompt_nl": "Hoeveel mensen komen er?",
        "answer_type": "integer",
        "from_entity": "people",
        "v_integer_min": "1",
        "v_integer_max": "2000",
        "v_text_max_length": "10",  # another type's field: ignored
    }
    response = client.post("/admin/needs/permit/questions/visitors", data=form)
    assert response.status_code == 303, response.text
    knowledge = client.app.state.context.knowledge  # type: ignore[attr-defined]
    visitors = knowledge.question("visitors")
    assert visitors.prompt == {"nl": "Hoeveel mensen komen er?"}
    assert visitors.validation == {"min": 1, "max": 2000}


def test_the_question_page_lists_places_residents_typed(
    world: World, ada: tuple[TestClient, str]
) -> None:
    client, _ = ada
    for chat in ("801", "802"):
        world.add_request(["room"], chat=chat, answers={"neighbourhood": "Kanaleneiland"})
    world.add_request(["room"], chat="803", answers={"neighbourhood": "Oost"})
    page = client.get("/admin/needs/room/questions/neighbourhood").text
    assert "Kanaleneiland (2×)" in page and "Oost (" not in page


def test_a_vocabulary_saves_through_the_page(world: World, ada: tuple[TestClient, str]) -> None:
    client, csrf = ada
    listed = client.get("/admin/vocabularies").text
    assert 'data-vocabulary="out_of_scope_parking"' in listed and "parkeervergunning" in listed
    response = client.post("/admin/vocabularies/budget", data={"csrf_token": csrf, "text": " \n"})
    assert response.status_code == 422 and "minstens één woord" in response.text
    response = client.post(
        "/admin/vocabularies/budget",
        data={"csrf_token": csrf, "text": "wijkbudget\nsubsidie\npotje voor de buurt"},
    )
    assert response.status_code == 303
    assert "volgende bericht" in client.get(response.headers["location"]).text
    knowledge = client.app.state.context.knowledge  # type: ignore[attr-defined]
    assert knowledge.cues["budget"] == ("wijkbudget", "subsidie", "potje voor de buurt")
    assert client.get("/admin/vocabularies/no_such_list").status_code == 404


def test_thresholds_save_through_the_page(world: World, ada: tuple[TestClient, str]) -> None:
    client, csrf = ada
    listed = client.get("/admin/dialogue").text
    assert 'name="side_question" value="0.75"' in listed and "tussenvraag" in listed
    form = {"csrf_token": csrf, "side_question": "0,9", "cancel": "1,5"}
    response = client.post("/admin/dialogue/thresholds", data=form)
    assert response.status_code == 422 and "tussen 0 en 1" in response.text
    assert 'value="0,9"' in response.text  # what was typed stays
    knowledge = client.app.state.context.knowledge  # type: ignore[attr-defined]
    assert knowledge.threshold("side_question") == 0.75  # nothing was saved
    response = client.post("/admin/dialogue/thresholds", data={**form, "cancel": "0.9"})
    assert response.status_code == 303
    assert "volgende bericht" in client.get(response.headers["location"]).text
    knowledge = client.app.state.context.knowledge  # type: ignore[attr-defined]
    assert (knowledge.threshold("side_question"), knowledge.threshold("cancel")) == (0.9, 0.9)
    with world.sessions() as session:
        audited = session.scalars(
            select(AuditEntry.subject_key).where(AuditEntry.subject == "threshold")
        ).all()
    assert sorted(audited) == ["cancel", "side_question"]


def test_a_conversation_intents_reply_saves_through_the_page(
    world: World, ada: tuple[TestClient, str]
) -> None:
    client, csrf = ada
    listed = client.get("/admin/dialogue").text
    assert "/admin/dialogue/replies/greet" in listed
    assert "/admin/dialogue/replies/cancel" not in listed  # the bot acts on it itself
    refused = client.post(
        "/admin/dialogue/replies/goodbye", data={"csrf_token": csrf, "text_key": "no_such_text"}
    )
    assert refused.status_code == 422 and "geen tekst" in refused.text
    acted_on = client.post(
        "/admin/dialogue/replies/cancel", data={"csrf_token": csrf, "text_key": "goodbye"}
    )
    assert acted_on.status_code == 422 and "doet de bot zelf iets" in acted_on.text
    form = {"csrf_token": csrf, "text_key": "help", "need_buttons": "always"}
    response = client.post("/admin/dialogue/replies/goodbye", data=form)
    assert response.status_code == 303
    knowledge = client.app.state.context.knowledge  # type: ignore[attr-defined]
    reply = knowledge.intent_replies["goodbye"]
    assert (reply.text, reply.need_buttons) == ("help", "always")


def test_the_admin_api(world: World) -> None:
    token = bearer(world.tokens["ada"])
    with world.client() as client:
        intents = client.get("/api/admin/intents", headers=token).json()
        costs = next(i for i in intents if i["name"] == "faq_costs")
        assert costs["kind"] == "faq" and costs["examples"] >= 2 and costs["cv_f1"] is None

        texts = [
            "Hoeveel kost een [partytent](item) huren?",
            "Wat kost de huur van de grote zaal op een zondag?",
        ]
        added = client.post(
            "/api/admin/intents/faq_costs/examples", json={"texts": texts}, headers=token
        )
        assert added.status_code == 200, added.text
        assert added.json()["examples"] == costs["examples"] + 2
        again = client.post(
            "/api/admin/intents/faq_costs/examples", json={"texts": texts[:1]}, headers=token
        )
        assert again.status_code == 422 and "staat al als voorbeeld" in again.json()["detail"]
        missing = client.post(
            "/api/admin/intents/faq_nothing/examples", json={"texts": texts}, headers=token
        )
        assert missing.status_code == 404

        rules = client.get("/api/admin/routing/rules", headers=token).json()["rules"]
        assert rules[0] == {
            "name": "meerdere behoeften",
            "when": {
                "needs": None, "min_needs": 2, "neighbourhoods": None, "amount_min": None,
                "amount_max": None, "visitors_min": None, "visitors_max": None,
            },
            "department": "initiatievenloket",
        }  # fmt: skip
        events = {"name": "evenementen", "when": {"needs": ["permit"], "visitors_min": 251}}
        refused = client.put(
            "/api/admin/routing/rules",
            json={"rules": [{**events, "department": "nergens"}, *rules]},
            headers=token,
        )
        assert refused.status_code == 422 and "Regel 1" in refused.json()["detail"]
        replaced = client.put(
            "/api/admin/routing/rules",
            json={"rules": [{**events, "department": "subsidies"}, *rules]},
            headers=token,
        )
        assert replaced.status_code == 200, replaced.text
        assert [r["name"] for r in replaced.json()["rules"]][:2] == [
            "evenementen",
            "meerdere behoeften",
        ]
        official = client.get("/api/admin/intents", headers=bearer(world.tokens["anna"]))
        assert official.status_code == 403
    with world.sessions() as session:
        stored = session.scalars(select(RoutingRule).order_by(RoutingRule.position)).first()
        assert stored is not None and stored.department_key == "subsidies"
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and (entry.actor, entry.subject) == ("ada", "routing")
        assert (
            session.scalar(select(TrainingExample.source).where(TrainingExample.text == texts[1]))
            == "admin"
        )


# -- in the browser, against the running app and its bot ------------------------------------


def in_the_browser(test: Callable[..., None]) -> Callable[..., None]:
    """Marks a test that needs the running app, its bot, the real Rasa and chromium."""
    for mark in (pytest.mark.browser, pytest.mark.e2e, pytest.mark.rasa):
        test = mark(test)
    return test


EVENTS_RULE = "evenementen boven 250 bezoekers"


def permit_request(app: App, knowledge: Knowledge, chat_id: int, visitors: str) -> str:
    """A resident asks the bot for permission for a street party; the bot's confirmation."""
    resident = Resident(app.telegram, knowledge, chat_id)
    replies = resident.say("Mogen we de straat afsluiten voor een straatfeest?")
    replies = resident.answer_all(
        {
            "activity": "Straatfeest met muziek",
            "location": "Lindelaan 1 tot 40",
            "date": dutch(future_saturday(5)),
            "start_time": "14:00",
            "end_time": "22:00",
            "visitors": visitors,
            "neighbourhood": "button:choice:Noord",
            "name": f"Bewoner {chat_id}",
            **CONTACT,
        },
        replies,
    )
    return resident.press("confirm:send")[-1]["text"]


def stored_request(app: App, confirmation: str) -> Request:
    match = REFERENCE.search(confirmation)
    assert match, confirmation
    with app.sessions() as session:
        request = session.scalar(select(Request).where(Request.reference == match.group(0)))
        assert request is not None
        return request


def rule_order(page: Page) -> list[str]:
    return page.locator("table.rules tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.rule)"
    )


def preview(page: Page, need: str, visitors: str) -> str:
    form = page.get_by_role("form", name="Voorbeeld van de routering")
    for box in form.get_by_role("checkbox").all():
        box.uncheck()
    form.get_by_label(need).check()
    form.get_by_label("Bezoekers", exact=True).fill(visitors)
    form.get_by_role("button", name="Bekijk waar de aanvraag heen gaat").click()
    page.wait_for_url(re.compile(rf"visitors={visitors}(&|#|$)"))
    return page.locator(".routing-result").inner_text()


@in_the_browser
def test_a_new_department_and_rule_take_the_next_request(
    app: App, open_page: OpenPage, knowledge: Knowledge
) -> None:
    page = open_page("admin")
    page.goto("/admin/departments")
    form = page.locator("form[action='/admin/departments']")
    form.get_by_label("Sleutel").fill("evenementen")
    form.get_by_label("Naam", exact=True).fill("Evenementen")
    form.get_by_label("Termijn in werkdagen").fill("15")
    form.get_by_label("E-mailadres").fill("evenementen@gemeente.example")
    form.get_by_label("Telefoonnummer").fill("020 123 4567")
    form.get_by_role("button", name="Afdeling toevoegen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Evenementen")

    page.goto("/admin/routing")
    form = page.locator("form[action='/admin/routing']")
    form.get_by_label("Naam", exact=True).fill(EVENTS_RULE)
    form.get_by_label("Afdeling").select_option(label="Evenementen")
    form.get_by_label("Toestemming of vergunning").check()
    form.get_by_label("Bezoekers vanaf").fill("251")
    form.get_by_role("button", name="Regel toevoegen").click()
    expect(page.get_by_role("status").first).to_contain_text(f"De regel '{EVENTS_RULE}'")
    assert rule_order(page)[-2:] == ["toestemming", EVENTS_RULE]  # added at the bottom
    page.get_by_role("button", name=f"Omhoog: {EVENTS_RULE}").click()
    expect(page.get_by_role("status").first).to_have_text("De volgorde van de regels is aangepast.")
    order = rule_order(page)
    assert order.index(EVENTS_RULE) == order.index("toestemming") - 1

    shown = preview(page, "Toestemming of vergunning", "300")
    assert f"Regel {EVENTS_RULE} beslist" in shown and "Behandelend: Evenementen" in shown
    shown = preview(page, "Toestemming of vergunning", "100")
    assert "Regel toestemming beslist" in shown and "Behandelend: Vergunningen" in shown

    # The running bot routes the very next requests by the new rule: no restart.
    confirmation = permit_request(app, knowledge, 3001, "300")
    assert "Evenementen" in confirmation
    request = stored_request(app, confirmation)
    assert (request.department_key, request.routing_rule) == ("evenementen", EVENTS_RULE)
    request = stored_request(app, permit_request(app, knowledge, 3002, "ongeveer 100"))
    assert (request.department_key, request.routing_rule) == ("vergunningen", "toestemming")

    # "Zin proberen" reads a sentence the way the bot does and routes it by the new rule.
    page.goto("/admin/try")
    page.get_by_label("Zin", exact=True).fill(
        "Mogen we de straat afsluiten voor ons straatfeest met 300 bezoekers?"
    )
    page.get_by_role("button", name="Proberen").click()
    expect(page.locator(".ranking li").first).to_contain_text("request_permit")
    expect(page.locator(".answers")).to_contain_text("300")
    expect(page.locator(".decision")).to_contain_text(f"Regel {EVENTS_RULE} beslist")

    # The stored request's route can be looked at again by its reference.
    page.goto(f"/admin/routing?reference={stored_request(app, confirmation).reference}")
    expect(page.locator(".routing-result")).to_contain_text("Behandelend: Evenementen")


@in_the_browser
def test_an_edited_text_is_what_the_bot_says_next(
    app: App, open_page: OpenPage, knowledge: Knowledge
) -> None:
    resident = Resident(app.telegram, knowledge, 3101)
    assert resident.command("/help")[0]["text"].startswith("Zo werkt het")

    page = open_page("admin")
    page.goto("/admin/texts")
    filters = page.get_by_role("search", name="Teksten zoeken")
    filters.get_by_label("Soort").select_option(label="Tekst van de bot")
    filters.get_by_label("Zoeken").fill("/help")
    filters.get_by_role("button", name="Filteren").click()
    page.get_by_role("link", name="Bewerk text help", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tekst van de bot: help")

    # The preview follows the typing, line breaks and all.
    new = "Zo werkt Wegwijs:\nvertel wat u nodig heeft, dan regel ik de rest.\n\nBel gerust 14 020."
    page.get_by_label("Nederlands (verplicht)").fill(new)
    expect(page.locator("#preview-nl")).to_have_text(new)
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status").first).to_contain_text("De tekst is opgeslagen")
    assert resident.command("/help")[0]["text"] == new

    # A text with placeholders: the preview fills them in; losing one is refused.
    page.goto("/admin/texts/text/submitted")
    english = page.get_by_label("Engels (leeg: de bot gebruikt de Nederlandse tekst)")
    english.fill("Sent! Number {reference}, {department}, answer by {due}.")
    expect(page.locator("#preview-en")).to_have_text(
        "Sent! Number WW-2026-000123, Permits, answer by Friday 4 December."
    )
    page.get_by_label("Nederlands (verplicht)").fill("Verstuurd onder nummer {reference}.")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("alert")).to_contain_text("ontbreekt {department}, {due}")
    expect(page.get_by_label("Nederlands (verplicht)")).to_have_value(
        "Verstuurd onder nummer {reference}."
    )

    page.goto("/admin/audit?subject=text")
    entry = page.locator("table.audit tbody tr").first
    expect(entry).to_contain_text("text.help")
    expect(entry).to_contain_text("admin")
