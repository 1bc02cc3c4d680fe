"""Residents talking to the real bot process, with the real Rasa model and a real database
(PostgreSQL; the in-process conversation tests and `make run`'s test cover SQLite). One bot
process serves the whole module, as it serves many residents: every test is a resident of
its own (a chat id of its own), so the tests stay independent and the start is paid once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.learning.rasa_commands import free_port
from bot.storage.database import make_engine, make_session_factory
from bot.storage.models import MessageLog, Request
from tests.databases import Templates
from tests.e2e.support import BOT_TOKEN, BotProcess, Resident, bot_process, dutch, future_saturday
from tests.fakes.telegram_api import FakeTelegram
from tests.support import FIRST_DATABASE

pytestmark = [pytest.mark.e2e, pytest.mark.rasa]

OTHER_BOT_TOKEN = "654321:OTHER-TEST-TOKEN"
CONTACT = {"name": "Fatima de Vries", "phone": "06 12345678", "email": "button:skip"}
REFERENCE = re.compile(r"WW-\d{4}-\d{6}")


@pytest.fixture(scope="module", params=FIRST_DATABASE)
def shared_database(
    request: pytest.FixtureRequest, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The module's database, with the shipped knowledge."""
    with templates.copy(request.param, True, tmp_path_factory.mktemp("database")) as url:
        yield url


@pytest.fixture(scope="module")
def telegram(shared_database: str) -> Iterator[FakeTelegram]:
    """The fake Bot API, one per database so that chat histories start empty."""
    with FakeTelegram(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(
    telegram: FakeTelegram,
    shared_database: str,
    rasa_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    process = bot_process(telegram, shared_database, rasa_url, tmp_path_factory.mktemp("bot"))
    process.start()
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def bot_without_rasa(shared_database: str, tmp_path: Path) -> Iterator[BotProcess]:
    """A second bot whose Rasa cannot be reached, with a fake Bot API of its own: another
    bot to Telegram too (its own token), whose updates are numbered from its own start."""
    with FakeTelegram(token=OTHER_BOT_TOKEN) as fake:
        process = bot_process(fake, shared_database, f"http://127.0.0.1:{free_port()}", tmp_path)
        process.env["TELEGRAM_BOT_TOKEN"] = OTHER_BOT_TOKEN
        process.start()
        yield process
        process.stop()


@pytest.fixture(scope="module")
def sessions(shared_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(shared_database)
    yield make_session_factory(engine)
    engine.dispose()


def send_and_get_reference(resident: Resident) -> str:
    replies = resident.press("confirm:send")
    match = REFERENCE.search(replies[-1]["text"])
    assert match, resident.transcript()
    return match.group(0)


def stored(sessions: sessionmaker[Session], reference: str) -> Request:
    with sessions() as session:
        request = session.scalar(select(Request).where(Request.reference == reference))
        assert request is not None
        request.parts  # noqa: B018 - load the parts before the session closes
        return request


def test_the_command_menu_comes_from_the_texts(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    """Telegram's menu of commands, in Dutch for everyone and in English for English phones,
    words what admins keep under Teksten."""
    for language, code in (("nl", ""), ("en", "en")):
        assert telegram.my_commands(language_code=code) == [
            {"command": name, "description": knowledge.text(f"command_{name}", language)}
            for name in ("start", "help", "status", "cancel")
        ]


def test_room_with_details_in_the_first_message(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    saturday = future_saturday()
    resident = Resident(telegram, knowledge, 1001)
    replies = resident.say(f"Ik wil {dutch(saturday)} een zaal voor 40 mensen in Centrum")
    replies = resident.answer_all(
        {"start_time": "van 14:00 tot 17:00", "purpose": "Repair café", **CONTACT}, replies
    )
    assert not {"date", "people", "neighbourhood", "end_time"} & set(resident.asked)
    summary = replies[-1]["text"]
    assert "40" in summary and "Centrum" in summary and "17:00" in summary
    reference = send_and_get_reference(resident)
    request = stored(sessions, reference)
    assert request.department_key == "vastgoed"
    assert request.needs == ["room"]
    assert request.answers["date"] == saturday.isoformat()
    assert request.answers["people"] == 40
    assert "name" not in request.answers  # contact details live on the resident only
    confirmation = telegram.bot_messages(1001)[-1]["text"]
    assert "Vastgoed" in confirmation and "uiterlijk" in confirmation


def test_twenty_barrier_fences(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    resident = Resident(telegram, knowledge, 1002)
    replies = resident.say("Kunnen we 20 dranghekken lenen voor ons straatfeest?")
    pickup = future_saturday()
    replies = resident.answer_all(
        {
            "pickup_date": dutch(pickup),
            "return_date": dutch(pickup + timedelta(days=2)),
            "neighbourhood": "button:choice:Vogelwijk",
            "purpose": "Straatfeest",
            **CONTACT,
        },
        replies,
    )
    assert "items" not in resident.asked
    request = stored(sessions, send_and_get_reference(resident))
    assert request.department_key == "buitendienst"
    assert "20" in request.answers["items"] and "dranghek" in request.answers["items"]


def test_budget_for_a_street_party(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    resident = Resident(telegram, knowledge, 1003)
    replies = resident.say("Wij willen graag €750 uit het wijkbudget voor een straatfeest")
    replies = resident.answer_all(
        {
            "spend_on": "Muziek, hapjes en versiering",
            "initiative_name": "Straatfeest Lindelaan",
            "neighbourhood": "Oost",
            **CONTACT,
        },
        replies,
    )
    assert "amount" not in resident.asked
    request = stored(sessions, send_and_get_reference(resident))
    assert request.department_key == "wijkbudget"
    assert request.answers["amount"] == "750.00"


def test_permission_to_close_a_street(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    resident = Resident(telegram, knowledge, 1004)
    replies = resident.say("Mogen we de straat afsluiten voor een buurtfeest?")
    replies = resident.answer_all(
        {
            "activity": "Buurtfeest met springkussen",
            "location": "Lindelaan 1 tot 40",
            "date": dutch(future_saturday(4)),
            "start_time": "12:00",
            "end_time": "22:00",
            "visitors": "ongeveer 150",
            "neighbourhood": "Noord",
            **CONTACT,
        },
        replies,
    )
    request = stored(sessions, send_and_get_reference(resident))
    assert request.department_key == "vergunningen"
    assert request.answers["visitors"] == 150


def test_everything_together_is_one_request(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    saturday = future_saturday()
    resident = Resident(telegram, knowledge, 1005)
    replies = resident.say(
        "We willen een zaal, 20 dranghekken lenen, €750 budget en een vergunning om de "
        "straat af te sluiten"
    )
    assert {"room", "tools", "budget", "permit"} <= _needs_mentioned(replies[0]["text"])
    replies = resident.answer_all(
        {
            "date": dutch(saturday),
            "start_time": "14:00",
            "end_time": "23:00",
            "people": "40",
            "neighbourhood": "Zuid",
            "purpose": "Straatfeest",
            "items": "20 dranghekken",
            "pickup_date": dutch(saturday),
            "return_date": dutch(saturday),
            "amount": "750",
            "spend_on": "Hapjes en muziek",
            "initiative_name": "Straatfeest Zuid",
            "activity": "Straatfeest",
            "location": "Kerkstraat",
            "visitors": "200",
            **CONTACT,
        },
        replies,
    )
    assert len(resident.asked) == len(set(resident.asked)), resident.transcript()
    request = stored(sessions, send_and_get_reference(resident))
    assert request.department_key == "initiatievenloket"
    assert request.needs == ["room", "tools", "budget", "permit"]
    assert request.co_departments == ["vastgoed", "buitendienst", "wijkbudget", "vergunningen"]
    with sessions() as session:
        others = select(Request.id).where(
            Request.resident_id == request.resident_id, Request.id != request.id
        )
        assert session.scalar(others) is None
        transcript = session.scalars(
            select(MessageLog.text).where(MessageLog.request_id == request.id)
        ).all()
    assert any("straatfeest" in line.lower() for line in transcript), transcript


def _needs_mentioned(text: str) -> set[str]:
    words = {"room": "ruimte", "tools": "spullen", "budget": "budget", "permit": "toestemming"}
    return {need for need, word in words.items() if word in text.lower()}


def test_side_questions_and_status_in_the_middle(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    resident = Resident(telegram, knowledge, 1006)
    replies = resident.say("Ik wil een vergaderruimte huren")
    assert resident.question_in(replies[-1]) == "date"
    replies = resident.say("Wat kost dat eigenlijk?")
    assert any("gratis" in r["text"] or "huur" in r["text"] for r in replies)
    assert resident.question_in(replies[-1]) == "date"  # and we carry on where we were
    replies = resident.command("/status")
    assert "nog geen aanvragen" in replies[0]["text"]
    assert resident.question_in(replies[-1]) == "date"
    replies = resident.say(dutch(future_saturday()))
    assert resident.question_in(replies[-1]) == "start_time"


def test_corrections_removals_and_a_person_in_the_middle(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    saturday = future_saturday()
    resident = Resident(telegram, knowledge, 1013)
    replies = resident.say(f"we willen {dutch(saturday)} een bingo in het buurthuis voor 40 mensen")
    assert "purpose" not in resident.asked  # the bingo answers it
    assert resident.question_in(replies[-1]) == "start_time"
    replies = resident.say("sorry, het zijn er 60")
    assert "60" in replies[-1]["text"] and resident.question_in(replies[-1]) == "start_time"
    replies = resident.say("en we willen ook tafels lenen")
    assert resident.question_in(replies[-1]) == "start_time"  # the room's questions first
    replies = resident.say("nee, we hoeven toch niks te lenen")
    assert resident.question_in(replies[-1]) == "start_time"
    replies = resident.say("kan ik iemand van de gemeente spreken?")
    assert "handover:yes" in resident.buttons(replies[-1])
    replies = resident.press("handover:no")
    assert resident.question_in(replies[-1]) == "start_time"
    resident.asked = ["start_time"]  # asked again after each of the above, as it should be
    replies = resident.answer_all(
        {"start_time": "van 14:00 tot 17:00", "neighbourhood": "button:choice:Oost", **CONTACT},
        replies,
    )
    reference = send_and_get_reference(resident)
    request = stored(sessions, reference)
    assert request.needs == ["room"]
    assert request.answers["people"] == 60, resident.transcript()
    assert request.answers["purpose"] == "bingo"


def test_bad_input_gets_a_friendly_answer_and_nothing_is_lost(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    resident = Resident(telegram, knowledge, 1007)
    replies = resident.say("Ik wil graag een zaal huren voor 40 mensen")
    for send in (telegram.send_photo, telegram.send_sticker, telegram.send_voice):
        before = telegram.bot_message_count(1007)
        send(1007)
        replies = telegram.wait_for_reply(1007, after=before, count=2)
        assert "niet lezen" in replies[0]["text"]
        assert resident.question_in(replies[-1]) == "date"
    # A date sent in a group is no answer: the bot says it talks one to one and leaves. An
    # earlier message edited into a date is acknowledged, and the date question stays open.
    telegram.send_group_text(-100123, 1007, "zaterdag 19 december")
    (to_group,) = telegram.wait_for_reply(-100123, after=0)
    assert "één op één" in to_group["text"]
    telegram.wait_for_call("leaveChat", lambda call: call["params"]["chat_id"] == -100123)
    before = telegram.bot_message_count(1007)
    telegram.edit_user_message(1007, 1, "zaterdag 19 december")  # the first message of all
    replies = telegram.wait_for_reply(1007, after=before, count=2)
    assert "aangepast" in replies[0]["text"]
    assert resident.question_in(replies[-1]) == "date"
    replies = resident.say("x" * 10_000)
    assert "erg lang" in replies[0]["text"]
    replies = resident.say("👍👍")
    assert "kan ik niet lezen" in replies[0]["text"]
    assert resident.question_in(replies[-1]) == "date"
    replies = resident.say("31 februari")
    assert "31 februari bestaat niet" in replies[-1]["text"]
    assert telegram.bot_message_count(-100123) == 1  # it left: nothing more there
    replies = resident.say(dutch(future_saturday()))
    replies = resident.say("14:00")
    replies = resident.say("13:00")
    assert "na de begintijd" in replies[-1]["text"]
    replies = resident.say("18:00")
    assert resident.question_in(replies[-1]) == "neighbourhood"  # people was already known
    replies = resident.say("🎉🎉🎉")
    assert "kan ik niet lezen" in replies[0]["text"]
    assert resident.question_in(replies[-1]) == "neighbourhood"
    replies = resident.say("ergens")
    assert "Kies een van de knoppen" in replies[-1]["text"]
    resident.press("choice:West")
    html = "<b>Repair</b> café'; DROP TABLE requests; --"
    replies = resident.say(html + "\x00")  # PostgreSQL cannot store NUL: it is left out
    assert resident.question_in(replies[-1]) == "name"
    summary = resident.answer_all(CONTACT, replies)[-1]["text"]
    assert html in summary and "40" in summary


def test_negative_amount_is_refused(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    resident = Resident(telegram, knowledge, 1008)
    resident.say("Ik wil subsidie aanvragen voor onze buurtmoestuin")
    replies = resident.say("-50 euro")
    assert "groter zijn dan € 0" in replies[-1]["text"]
    replies = resident.say("€ 1.250")
    assert resident.question_in(replies[-1]) == "spend_on"


def test_restart_in_the_middle_loses_nothing(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions
) -> None:
    resident = Resident(telegram, knowledge, 1009)
    resident.say("Ik wil een zaal voor 25 mensen in Oost")
    resident.say(dutch(future_saturday()))
    bot.kill()
    bot.start()
    replies = resident.say("19:00")
    assert resident.question_in(replies[-1]) == "end_time"
    replies = resident.answer_all({"end_time": "22:00", "purpose": "Bingo", **CONTACT}, replies)
    request = stored(sessions, send_and_get_reference(resident))
    assert request.answers["people"] == 25 and request.answers["neighbourhood"] == "Oost"


def test_english_conversation(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    resident = Resident(telegram, knowledge, 1010, language="en")
    replies = resident.say("Hi, can we borrow 10 tables and a trailer for a clean-up day?")
    assert resident.question_in(replies[-1]) == "pickup_date"
    assert "borrow" in replies[-1]["text"].lower() or "pick" in replies[-1]["text"].lower()


def test_out_of_scope_questions_are_pointed_elsewhere(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    resident = Resident(telegram, knowledge, 1011)
    replies = resident.say("Mijn paspoort is verlopen, hoe vraag ik een nieuwe aan?")
    assert "14 0123" in replies[-1]["text"]
    assert not resident.asked


def test_cancel_and_status_after_sending(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge
) -> None:
    resident = Resident(telegram, knowledge, 1012)
    resident.say("Ik wil een zaal huren")
    replies = resident.command("/cancel")
    assert "niets verstuurd" in replies[-1]["text"]
    replies = resident.say("Kunnen we 5 tafels lenen?")
    replies = resident.answer_all(
        {
            "pickup_date": dutch(future_saturday()),
            "return_date": dutch(future_saturday()),
            "neighbourhood": "De Hoven",
            "purpose": "Burendag",
            **CONTACT,
        },
        replies,
    )
    reference = send_and_get_reference(resident)
    replies = resident.command("/status")
    assert reference in replies[0]["text"] and "ontvangen" in replies[0]["text"]


def test_rasa_down_offers_the_needs_and_keeps_the_details(
    bot_without_rasa: BotProcess, knowledge: Knowledge, sessions
) -> None:
    telegram = bot_without_rasa.telegram
    resident = Resident(telegram, knowledge, 1013)
    replies = resident.say(f"Zaal nodig op {dutch(future_saturday())} voor 30 mensen in Noord")
    assert set(resident.buttons(replies[-1])) == {
        "need:room",
        "need:tools",
        "need:budget",
        "need:permit",
    }
    replies = resident.press("need:room")
    replies = resident.answer_all(
        {"start_time": "10:00", "end_time": "12:00", "purpose": "Vergadering", **CONTACT},
        replies,
    )
    request = stored(sessions, send_and_get_reference(resident))
    assert request.department_key == "vastgoed"
    assert request.answers["people"] == 30
