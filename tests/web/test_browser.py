"""The officials' web pages in a real browser (Debian's chromium, driven by Playwright),
against the real app process with its bot, the fake Bot API, the real Rasa and a real
database (PostgreSQL: what the pages show comes from the queue and storage, which are
tested on both databases in-process).

The tests of a module share one running app and the two requests residents made in the
chat, and run in file order: the queue filters look at the requests as they came in, later
tests work on them (claim, write, change status, re-route)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bot.knowledge import Knowledge
from tests.web.support import HTML_PURPOSE, PASSWORD, App, Dialogs, Requests, login

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.rasa]

OpenPage = Callable[..., Page]


def listed(page: Page) -> set[str]:
    """The references in the queue table on the page."""
    return set(
        page.locator("tr[data-reference]").evaluate_all(
            "rows => rows.map(row => row.dataset.reference)"
        )
    )


def filter_queue(page: Page, **fields: str) -> None:
    """Fill the filter form like an official: select boxes by their label, then 'Filteren'."""
    form = page.get_by_role("search", name="Filters")
    for label, value in fields.items():
        if label == "Zoeken":
            form.get_by_label(label).fill(value)
        else:
            form.get_by_label(label).select_option(label=value)
    form.get_by_role("button", name="Filteren").click()
    page.wait_for_load_state()


def sent_to(app: App, chat_id: int, *fragments: str, timeout: float = 15) -> str:
    """Wait for the bot's message to this chat that contains all fragments; its text."""
    call = app.telegram.wait_for_call(
        "sendMessage",
        where=lambda call: (
            call["ok"]
            and str(call["params"].get("chat_id")) == str(chat_id)
            and all(fragment in call["params"]["text"] for fragment in fragments)
        ),
        timeout=timeout,
    )
    return str(call["params"]["text"])


def reload_until(page: Page, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Reload the page until it shows what the worker did in the background."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, page.content()
        time.sleep(0.2)
        page.reload()


def test_login_says_when_the_password_is_wrong_and_slows_down_guessing(
    app: App, open_page: OpenPage
) -> None:
    # Another address (the app trusts X-Forwarded-For from 127.0.0.1, its own proxy), so the
    # other tests can still log in from here while this one is throttled.
    page = open_page(headers={"X-Forwarded-For": "198.51.100.7"})
    page.goto("/")
    assert "/login" in page.url  # no page without logging in
    login(page, "vera", "niet-het-wachtwoord")
    expect(page.get_by_role("alert")).to_have_text("Gebruikersnaam of wachtwoord klopt niet.")
    for attempt in range(4):
        login(page, f"raden{attempt}", "nog-een-gok")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        login(page, "wim", PASSWORD)  # the right password, but too many failures from here
    assert answer.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text("Te veel mislukte pogingen")

    elsewhere = open_page("wim")  # from this test's own address all is well
    expect(elsewhere.get_by_role("heading", name="Werkvoorraad")).to_be_visible()


def test_queue_filters_show_the_right_requests(open_page: OpenPage, requests: Requests) -> None:
    room, tools = requests.room.reference, requests.tools.reference
    page = open_page("admin")  # admins see every department's requests
    assert listed(page) == {room, tools}
    expect(page.locator(f"tr[data-reference='{tools}']")).to_have_class("overdue")
    expect(page.locator(f"tr[data-reference='{room}']")).not_to_have_class("overdue")

    page.get_by_role("link", name="Te laat").click()
    assert "overdue=1" in page.url
    assert listed(page) == {tools}

    page.get_by_role("link", name="Wis filters").click()
    filter_queue(page, Behoefte="Spullen lenen")
    assert listed(page) == {tools}
    filter_queue(page, Behoefte="Een ruimte")
    assert listed(page) == {room}
    filter_queue(page, Behoefte="Alle", Wijk="Vogelwijk")
    assert listed(page) == {tools}
    filter_queue(page, Wijk="Alle", Zoeken="dranghek")
    assert listed(page) == {tools}
    filter_queue(page, Zoeken="fatima")  # the resident's name finds her request
    assert listed(page) == {room}
    filter_queue(page, Zoeken=room)
    assert listed(page) == {room}
    filter_queue(page, Zoeken="", Status="Afgehandeld")
    assert listed(page) == set()
    expect(page.get_by_text("Geen aanvragen die aan deze filters voldoen.")).to_be_visible()

    vera = open_page("vera")  # vastgoed: only the room
    assert listed(vera) == {room}
    tiles = vera.get_by_role("navigation", name="Aantallen")
    expect(tiles.get_by_role("link", name="Open: 1", exact=True)).to_be_visible()


def test_claiming_a_request_puts_it_under_mine(open_page: OpenPage, requests: Requests) -> None:
    tools = requests.tools.reference
    page = open_page("bob")
    assert listed(page) == {tools}
    page.get_by_label("aan mij toegewezen").check()
    page.get_by_role("button", name="Filteren").click()
    assert listed(page) == set()

    page.get_by_role("link", name="Wis filters").click()
    page.get_by_role("link", name=tools).click()
    page.get_by_role("button", name="Oppakken").click()
    expect(page.get_by_role("status").first).to_have_text(f"U heeft {tools} opgepakt.")
    expect(page.locator(".facts")).to_contain_text("Bob Bakker")
    expect(page.locator(".timeline")).to_contain_text("Heeft de aanvraag opgepakt")
    expect(page.get_by_role("button", name="Oppakken")).to_have_count(0)

    page.goto("/?mine=1")
    assert listed(page) == {tools}
    page.goto("/?unassigned=1")
    assert listed(page) == set()


def test_assigning_tells_the_colleague(open_page: OpenPage, requests: Requests) -> None:
    room = requests.room
    admin = open_page("admin")
    admin.goto(f"/requests/{room.id}")
    admin.get_by_label("Toewijzen aan").select_option(label="Vera Visser")
    admin.get_by_role("button", name="Toewijzen", exact=True).click()
    expect(admin.get_by_role("status").first).to_contain_text("toegewezen aan Vera Visser")

    vera = open_page("vera")
    notice = vera.get_by_role("region", name="Meldingen")
    expect(notice).to_contain_text(f"Beheerder heeft {room.reference} aan u toegewezen.")
    notice.get_by_role("link").first.click()
    expect(vera.get_by_role("heading", level=1)).to_contain_text(room.reference)
    vera.goto("/")
    expect(vera.get_by_role("region", name="Meldingen")).to_have_count(0)  # read now


def test_the_thread_with_the_resident(
    app: App, open_page: OpenPage, requests: Requests, knowledge: Knowledge
) -> None:
    room = requests.room
    page = open_page("vera")
    page.goto(f"/requests/{room.id}")

    page.get_by_role("textbox", name="Interne notitie").fill("Sleutel ligt bij de receptie.")
    page.get_by_role("button", name="Notitie toevoegen").click()
    note = page.locator(".timeline .entry.note")
    expect(note).to_contain_text("Sleutel ligt bij de receptie.")
    expect(note.locator(".badge")).to_have_text("intern")

    page.get_by_role("textbox", name="Bericht aan de bewoner").fill(
        "Welke zaal heeft uw voorkeur, de grote of de kleine?"
    )
    page.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("status").first).to_have_text("Uw bericht gaat naar de bewoner.")
    message = sent_to(app, room.chat_id, room.reference, "Welke zaal heeft uw voorkeur")
    assert "Vastgoed" in message

    replies = app.telegram.ask(room.chat_id, "De grote zaal graag, met een beamer.")
    assert room.reference in replies[-1]["text"]
    page.reload()
    expect(page.locator(".timeline .entry.in")).to_contain_text("De grote zaal graag")

    other_tab = page.context.new_page()  # an older view of the same request
    other_tab.goto(f"/requests/{room.id}")

    page.get_by_label("Nieuwe status", exact=True).select_option(label="Wacht op bewoner")
    standard = knowledge.status_message("wacht_op_bewoner", "nl")
    text_area = page.get_by_role("textbox", name="Toelichting voor de bewoner")
    expect(text_area).to_have_value(standard)
    text_area.fill(standard + "een plattegrond van de opstelling.")
    page.get_by_role("button", name="Status wijzigen").click()
    expect(page.locator("h1 .badge").first).to_have_text("Wacht op bewoner")
    expect(page.locator(".facts")).to_contain_text("klok staat stil")
    told = sent_to(app, room.chat_id, room.reference, "een plattegrond van de opstelling")
    assert "wacht op uw reactie" in told
    texts = [call["params"]["text"] for call in app.telegram.calls("sendMessage")]
    assert not any("Sleutel ligt bij de receptie" in text for text in texts)  # internal

    page.goto("/?status=wacht_op_bewoner")
    assert room.reference in listed(page)

    # The other tab still offers 'Wacht op bewoner': the server refuses, the text stays.
    other_tab.get_by_label("Nieuwe status", exact=True).select_option(label="Wacht op bewoner")
    other_tab.get_by_role("textbox", name="Toelichting voor de bewoner").fill(
        "Nog een vraag van mij."
    )
    other_tab.get_by_role("button", name="Status wijzigen").click()
    expect(other_tab.get_by_role("alert")).to_contain_text("kan niet naar")
    expect(other_tab.get_by_role("textbox", name="Toelichting voor de bewoner")).to_have_value(
        "Nog een vraag van mij."
    )

    app.telegram.ask(room.chat_id, "Hierbij de plattegrond: tafels in een U-vorm.")
    page.goto(f"/requests/{room.id}")
    expect(page.locator("h1 .badge").first).to_have_text("In behandeling")  # answered
    expect(page.locator(".timeline")).to_contain_text("tafels in een U-vorm")
    expect(page.locator(".timeline")).to_contain_text("Bewoner (door te antwoorden)")


def test_rerouting_moves_the_request_to_the_other_department(
    app: App, open_page: OpenPage, requests: Requests
) -> None:
    tools = requests.tools
    bob = open_page("bob")
    bob.goto(f"/requests/{tools.id}")
    bob.get_by_text("Doorsturen naar een andere afdeling").click()
    bob.get_by_label("Afdeling", exact=True).select_option(label="Vastgoed")
    bob.get_by_role("textbox", name="Reden").fill("Ze willen eigenlijk de buurtzaal, geen hekken.")
    bob.get_by_role("button", name="Doorsturen", exact=True).click()
    expect(bob.get_by_role("status").first).to_have_text(
        f"{tools.reference} is doorgestuurd naar Vastgoed."
    )
    assert tools.reference not in listed(bob)
    response = bob.goto(f"/requests/{tools.id}")
    assert response is not None and response.status == 404

    told = sent_to(app, tools.chat_id, tools.reference, "voortaan behandeld door Vastgoed")
    assert "niets opnieuw" in told

    vera = open_page("vera")
    assert tools.reference in listed(vera)
    vera.get_by_role("link", name=tools.reference).click()
    reroute = vera.locator(".timeline .entry.reroute")
    expect(reroute).to_contain_text("Doorgestuurd van Buitendienst naar Vastgoed")
    expect(reroute).to_contain_text("Reden: Ze willen eigenlijk de buurtzaal, geen hekken.")
    expect(vera.locator(".answers").first).to_contain_text("dranghek")  # the thread stayed

    wim = open_page("wim")  # wijkbudget never sees it
    assert tools.reference not in listed(wim)
    response = wim.goto(f"/requests/{tools.id}")
    assert response is not None and response.status == 404
    expect(wim.get_by_role("heading", name="Niet gevonden")).to_be_visible()


def test_residents_html_is_shown_as_text(
    open_page: OpenPage, requests: Requests, dialogs: Dialogs
) -> None:
    page = open_page("vera")
    page.goto(f"/requests/{requests.room.id}")
    answers = page.locator(".answers").first
    expect(answers).to_contain_text(HTML_PURPOSE)
    assert answers.locator("b, script").count() == 0
    page.get_by_text("Gesprek met de bot").click()
    expect(page.locator(".chat")).to_contain_text(HTML_PURPOSE)
    assert page.locator("main script, main b").count() == 0
    assert dialogs.seen == []


def test_dashboard_draws_the_charts(open_page: OpenPage, requests: Requests) -> None:
    page = open_page("admin")
    page.get_by_role("link", name="Dashboard").click()
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(4)
    assert charts.evaluate_all("svgs => svgs.map(svg => svg.getAttribute('aria-label'))") == [
        "Nieuwe aanvragen per week (vanaf maandag)",
        "Tijd tot eerste reactie (mediaan, uren)",
        "Afgehandeld binnen de termijn",
        "Open aanvragen naar leeftijd in werkdagen",
    ]
    assert page.locator("figure.chart svg .rect").count() >= 2  # bars, not just axes
    assert page.locator("main script").count() == 0  # pygal's inline script is taken out

    # The numbers agree with the queue: every request of the period, and every open one.
    per_week, _, _, by_age = (_table_total(page, n) for n in range(4))
    page.goto("/?closed=1")
    all_requests = len(listed(page))
    page.goto("/")
    assert (per_week, by_age) == (all_requests, len(listed(page)))
    assert all_requests >= 2


def _table_total(page: Page, index: int) -> int:
    """The sum of the numbers in the table under chart `index` (0 when it is empty)."""
    cells = page.locator("figure.chart").nth(index).locator("tbody td")
    return sum(int(cell) for cell in cells.all_text_contents() if cell.isdigit())


def test_csv_export_is_the_filtered_queue(open_page: OpenPage, requests: Requests) -> None:
    page = open_page("admin")
    filter_queue(page, Zoeken="dranghek")
    link = page.get_by_role("link", name="CSV")
    assert link.get_attribute("href") == "/export.csv?q=dranghek"
    with page.expect_download() as download:
        link.click()
    rows = _csv(download.value.path().read_bytes())
    assert rows[0] == [
        "referentie", "afdeling", "medeafdelingen", "behoeften", "status", "toegewezen aan",
        "buurt", "ingediend", "uiterlijk",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == [requests.tools.reference]
    assert rows[1][3] == "Spullen lenen" and rows[1][6] == "Vogelwijk"

    everything = page.request.get("/export.csv?closed=1")
    assert everything.headers["content-type"].startswith("text/csv")
    references = {row[0] for row in _csv(everything.body())[1:]}
    assert references == {requests.room.reference, requests.tools.reference}


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_admins_see_failed_deliveries_and_send_them_again(
    app: App, open_page: OpenPage, requests: Requests
) -> None:
    room = requests.room
    app.telegram.block_bot(room.chat_id)
    admin = open_page("admin")
    admin.goto(f"/requests/{room.id}")
    admin.get_by_role("textbox", name="Bericht aan de bewoner").fill("Komt dit bericht aan?")
    admin.get_by_role("button", name="Versturen").click()
    app.telegram.wait_for_call(
        "sendMessage",
        where=lambda call: (
            call["ok"] is False and "Komt dit bericht aan?" in call["params"]["text"]
        ),
    )

    admin.get_by_role("link", name="Beheer").click()
    admin.get_by_role("link", name="Mislukte bezorgingen").click()
    row = admin.locator("tr[data-id]").filter(has_text=room.reference)
    reload_until(admin, lambda: row.count() == 1)  # the failure is recorded after the call
    expect(row).to_contain_text("Bericht aan bewoner")
    expect(row).to_contain_text("blocked by the user")

    app.telegram.block_bot(room.chat_id, blocked=False)
    row.get_by_role("button", name="Opnieuw versturen").click()
    expect(admin.get_by_role("status").first).to_contain_text("wordt opnieuw verstuurd")
    sent_to(app, room.chat_id, "Komt dit bericht aan?")
    reload_until(admin, lambda: row.count() == 0)
    expect(admin.get_by_text("Alles is bezorgd")).to_be_visible()

    vera = open_page("vera")
    response = vera.goto("/admin/deliveries")
    assert response is not None and response.status == 403
