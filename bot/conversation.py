"""The path of one resident message: NLU → dialogue → (routing → storage) → replies.

Channels (Telegram, the terminal chat) hand a Turn to `ConversationService.handle`. The Rasa
call is async; the database work runs in a worker thread, so neither blocks the event loop.
Messages of one resident are handled one at a time, in order: in this process by a lock,
across processes by the conversation row's lock. A message the model was unsure about goes
to the NLU inbox after the step.

A channel that redelivers (Telegram) gives each update's id: the step then happens once per
update, and its replies are written to the outbox in the step's own transaction, so a crash
after the commit still delivers them and a crash before it leaves the update to be handled
again. When nothing older waits for the chat, the step leases its replies to itself and
sends them right after the commit (one transaction less per reply than the delivery
worker's claim, renew and finish); should it die first, the worker sends them once the lease
has run out. The terminal chat shows the replies it gets back.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import outbox
from bot.dialogue.confirmation import readable
from bot.dialogue.engine import DialogueEngine
from bot.dialogue.presentation import format_day, need_list
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.turns import Action, Expectation, Outcome, Reply, Turn, pressed, stamped
from bot.knowledge import NEED_ORDER, RECURRENCE, Knowledge
from bot.knowledge.store import KnowledgeSource
from bot.learning.inbox import Collector, Unsure
from bot.nlu.client import NLUUnavailable, RasaClient
from bot.nlu.interpretation import Interpretation
from bot.nlu.language import choose_language
from bot.nlu.needs import settle_needs
from bot.queue import actions
from bot.routing.rules import RequestFacts, RoutingDecision, route
from bot.routing.sla import add_working_days
from bot.storage import repositories as repo
from bot.storage.models import Conversation, Request, Resident, utc_now

log = logging.getLogger(__name__)
REPEAT_MARK = "[herhaald] "  # in the transcript, before a message sent twice
# Control characters other than tab and newline: stripped before anything reads or stores.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class UpdateId:
    """An update's number as its source counts: Telegram numbers each bot's updates."""

    source: str  # "telegram:<the bot's id>"
    number: int


@dataclass(frozen=True)
class Step:
    """What a step produced: the replies, a message for the NLU inbox, and the outbox rows
    it leased to itself to send at once (with the lease, the token for marking them)."""

    replies: list[Reply]
    unsure: Unsure | None = None
    leased: list[int] = field(default_factory=list)
    lease: datetime | None = None


@dataclass(frozen=True)
class Sender:
    """Who wrote: the channel, the id there, and the language the channel reports."""

    channel: str
    external_id: str
    language_code: str | None = None


class ConversationService:
    def __init__(
        self,
        knowledge: KnowledgeSource,
        sessions: sessionmaker[Session],
        nlu: RasaClient,
        today: Callable[[], date] = date.today,
        max_message_length: int = 1000,
        inbox: Collector | None = None,
        default_language: str = "nl",
        reply_lease_seconds: float = 60.0,
    ) -> None:
        self.knowledge_source = knowledge
        self.sessions = sessions
        self.nlu = nlu
        self.today = today
        self.max_message_length = max_message_length
        # Where messages the model was unsure about go, for an admin to label (None: nowhere).
        self.inbox = inbox
        self.default_language = default_language
        # How long replies a step sends itself are kept from the delivery worker.
        self.reply_lease_seconds = reply_lease_seconds
        # Tells the delivery worker that replies wait for it (the channel that runs the
        # worker sets it): those not sent at once, or whose sending failed.
        self.wake_delivery: Callable[[], None] = lambda: None
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(
        self,
        sender: Sender,
        turn: Turn,
        deliver: Callable[[list[Reply]], Awaitable[None]] | None = None,
        update_id: UpdateId | None = None,
    ) -> list[Reply]:
        """Process one turn and return what to show the resident. `deliver` sends the
        replies while this resident's next message still waits, so replies keep their order.
        With an `update_id` the replies go to the outbox (see the module's note); `deliver`
        then sends them at once if nothing older waits. An update handled before returns no
        replies."""
        if turn.text:  # NUL cannot be stored (PostgreSQL refuses it); controls mean nothing
            turn.text = CONTROLS.sub("", turn.text)
        async with self._locks[(sender.channel, sender.external_id)]:
            if (
                turn.text
                and not turn.command  # a command's argument ("/status WW-…") is no message
                and readable(turn.text)  # emoji or punctuation alone: the engine won't read it
                and len(turn.text) <= self.max_message_length
            ):
                turn.interpretation = await self._interpret(turn.text)
            step = await asyncio.to_thread(
                self._step, sender, turn, update_id, update_id is not None and deliver is not None
            )
            if deliver is not None and update_id is None:
                await deliver(step.replies)
            elif deliver is not None and step.leased:
                await self._send_leased(step, deliver)
            elif step.replies and update_id is not None:
                self.wake_delivery()
            if step.unsure is not None and self.inbox is not None:
                self.inbox.submit(step.unsure)  # masked in the inbox's own thread
            return step.replies

    async def _send_leased(
        self, step: Step, deliver: Callable[[list[Reply]], Awaitable[None]]
    ) -> None:
        """Send the replies the step leased to itself, one by one, and mark each sent one
        delivered; after a failure the rest go back to the delivery worker."""
        sent: list[int] = []
        try:
            for reply, row in zip(step.replies, step.leased, strict=True):
                await deliver([reply])
                sent.append(row)
        except Exception as error:  # Telegram unreachable, the resident blocked the bot
            log.info("replies left to the delivery worker: %s", error)
        await asyncio.to_thread(self._settle_leased, step, sent)
        if len(sent) < len(step.leased):
            self.wake_delivery()

    def _settle_leased(self, step: Step, sent: list[int]) -> None:
        assert step.lease is not None
        with self.sessions.begin() as session:
            if sent:
                outbox.mark_all_delivered(session, sent, step.lease)
            for row in step.leased:
                if row not in sent:
                    outbox.release(session, row, step.lease)

    async def _interpret(self, text: str) -> Interpretation | None:
        try:
            return await self.nlu.parse(text)
        except NLUUnavailable as error:
            log.warning("NLU unavailable, continuing without it: %s", error)
            return None

    @property
    def knowledge(self) -> Knowledge:
        """The knowledge as admins left it a moment ago."""
        return self.knowledge_source.current()

    def _step(self, sender: Sender, turn: Turn, update_id: UpdateId | None, send_now: bool) -> Step:
        with self.sessions.begin() as session:
            if update_id and not repo.first_time(session, update_id.source, update_id.number):
                log.info("update %s was handled before", update_id)
                return Step([])
            knowledge = self.knowledge_source.current(session)
            resident = repo.resident_for(
                session,
                sender.channel,
                sender.external_id,
                sender.language_code or self.default_language,
            )
            conversation = repo.conversation_for(session, resident)
            state = ConversationState.from_json(conversation.state)
            if turn.button is not None:
                turn.button = pressed(turn.button, state.keyboard)
            if not state.in_progress and state.phase == Phase.IDLE:
                conversation.started_at = datetime.now(UTC)
            state.language = choose_language(
                None if turn.command else turn.text,
                current=state.language if conversation.state else None,
                telegram_code=sender.language_code,
                default=self.default_language,
                opening=state.phase in (Phase.IDLE, Phase.CLARIFY) and not state.in_progress,
            )
            resident.language = state.language
            # Messages to this chat still to be sent (rarely: right after a restart, or while
            # Telegram is unreachable); asked once, it decides the repeat and the lease.
            waiting = update_id is not None and outbox.waiting(
                session, sender.channel, sender.external_id
            )
            if waiting and self._repeated(session, sender, resident, turn):
                # Sent again before the replies to the first one arrived (after a restart,
                # say): it answered the question the resident saw, not the next one.
                repo.log_message(session, resident, "in", REPEAT_MARK + _describe(turn))
                return Step([])
            if turn.interpretation is not None:
                turn.interpretation = settle_needs(turn.interpretation, knowledge)
            interpretation = turn.interpretation
            repo.log_message(
                session,
                resident,
                "in",
                _describe(turn),
                interpretation.intent if interpretation else None,
                interpretation.confidence if interpretation else None,
            )
            turn.known_contact = repo.known_contact(resident)
            if state.reply_to is not None and not repo.open_request(session, state.reply_to):
                state.reply_to = None  # closed or gone: nothing to reply to any more
            engine = DialogueEngine(
                knowledge,
                self.today,
                self.max_message_length,
                expectations=lambda current: self._expectations(session, current),
            )
            outcome = engine.handle(state, turn)
            unsure = self._unsure(state, outcome, turn, resident)
            replies = (
                outcome.replies
                + self._carry_out(session, knowledge, resident, conversation, state, outcome, turn)
                + outcome.follow_up
            )
            if any(reply.buttons for reply in replies):  # a new keyboard: older ones expire
                state.keyboard += 1
                replies = stamped(replies, state.keyboard)
            conversation.state = state.to_json()
            for reply in replies:
                repo.log_message(session, resident, "out", reply.text)
            if update_id is None:
                return Step(replies, unsure)
            lease = None
            if send_now and not waiting:
                lease = utc_now() + timedelta(seconds=self.reply_lease_seconds)
            rows = [
                outbox.add_reply(
                    session,
                    resident_id=resident.id,
                    channel=sender.channel,
                    chat_id=sender.external_id,
                    reply=reply,
                    leased_until=lease,
                )
                for reply in replies
            ]
            session.flush()
            return Step(replies, unsure, [row.id for row in rows] if lease else [], lease)

    @staticmethod
    def _repeated(session: Session, sender: Sender, resident: Resident, turn: Turn) -> bool:
        """The same text as the resident's previous message, while the replies to that one
        still wait to be sent."""
        if not turn.text or turn.command:
            return False
        previous = repo.last_message_in(session, resident) or ""
        if previous.removeprefix(REPEAT_MARK) != _describe(turn):
            return False
        return outbox.waiting(session, sender.channel, sender.external_id, replies_only=True)

    def _unsure(
        self, state: ConversationState, outcome: Outcome, turn: Turn, resident: Resident
    ) -> Unsure | None:
        """The message for the inbox: the model was unsure, and its intent decided what the
        bot did (the engine says which intent it used)."""
        interpretation = turn.interpretation
        if self.inbox is None or interpretation is None or not turn.text or not outcome.intent:
            return None
        if not self.inbox.is_unsure(interpretation):
            return None
        names = (resident.name, state.answers.get("name"))
        return Unsure.of(turn.text, state.language, interpretation, *names)

    def _carry_out(
        self,
        session: Session,
        knowledge: Knowledge,
        resident: Resident,
        conversation: Conversation,
        state: ConversationState,
        outcome: Outcome,
        turn: Turn,
    ) -> list[Reply]:
        language = state.language
        match outcome.action:
            case Action.SUBMIT:
                request = self._store(session, resident, conversation, state, handover=False)
                replies = [self._submitted(session, knowledge, request, language)]
                state.reset()
                return replies
            case Action.HANDOVER:
                request = self._store(session, resident, conversation, state, handover=True)
                due = format_day(request.due_at, language)
                department = request.department.name
                state.reset()
                return [
                    Reply(
                        knowledge.text(
                            "handover_done",
                            language,
                            department=department,
                            reference=request.reference,
                            due=due,
                        )
                    )
                ]
            case Action.SHOW_STATUS:
                return [self._status(session, knowledge, resident, language, turn.text or "")]
            case Action.ADD_TO_THREAD:
                request = repo.open_request(session, state.reply_to)
                if request is None:  # checked before the engine ran; kept for type safety
                    return []
                said = outcome.thread_text or turn.text or ""
                actions.record_resident_reply(session, request, said)
                reference = request.reference
                return [Reply(knowledge.text("reply_added", language, reference=reference))]
            case _:
                return []

    def _expectations(self, session: Session, state: ConversationState) -> list[Expectation]:
        """Who would answer the request as it stands, and by when: its lead department and
        the departments of its parts, each with its own service level."""
        decision = self._route(session, state)
        departments = repo.departments(session)
        keys = dict.fromkeys([decision.department, *decision.part_departments.values()])
        return [
            Expectation(
                departments[key].name,
                add_working_days(self.today(), departments[key].sla_days),
                departments[key].contact_phone or departments[key].contact_email,
            )
            for key in keys
            if key in departments
        ]

    def _route(self, session: Session, state: ConversationState) -> RoutingDecision:
        facts = RequestFacts.from_answers(state.needs, state.answers)
        fallback = repo.fallback_department(session)
        return route(repo.routing_rules(session), facts, fallback, NEED_ORDER)

    def _store(
        self,
        session: Session,
        resident: Resident,
        conversation: Conversation,
        state: ConversationState,
        *,
        handover: bool,
    ) -> Request:
        if handover:
            decision = RoutingDecision(repo.fallback_department(session), (), None, {})
        else:
            decision = self._route(session, state)
        department = repo.departments(session)[decision.department]
        recurrence = {RECURRENCE: state.recurrence} if state.recurrence else {}
        request = repo.create_request(
            session,
            resident=resident,
            needs=state.needs,
            answers={**state.answers, **recurrence},
            decision=decision,
            due=add_working_days(self.today(), department.sla_days),
            language=state.language,
            conversation_started=conversation.started_at,
            is_handover=handover,
            urgent=state.urgent,
        )
        session.refresh(request, ["department"])
        actions.record_created(session, request)
        return request

    def _submitted(
        self, session: Session, knowledge: Knowledge, request: Request, language: str
    ) -> Reply:
        names = {key: d.name for key, d in repo.departments(session).items()}
        text = knowledge.text(
            "submitted",
            language,
            reference=request.reference,
            department=names[request.department_key],
            due=format_day(request.due_at, language),
        )
        if request.co_departments:
            text += "\n\n" + knowledge.text(
                "submitted_with_co",
                language,
                department=names[request.department_key],
                co_departments=", ".join(names[k] for k in request.co_departments),
            )
        return Reply(text)

    def _status(
        self,
        session: Session,
        knowledge: Knowledge,
        resident: Resident,
        language: str,
        text: str,
    ) -> Reply:
        """The resident's requests; only the one named, when the message names one."""
        requests = repo.requests_of(session, resident)
        named = repo.REFERENCE.search(text.upper())
        if named:
            requests = [r for r in requests if r.reference == named.group(0)]
            if not requests:
                return Reply(knowledge.text("status_unknown", language, reference=named.group(0)))
        if not requests:
            return Reply(knowledge.text("status_none", language))
        lines = [knowledge.text("status_title", language)]
        for request in requests:
            lines.append(
                "• "
                + knowledge.text(
                    "status_line",
                    language,
                    reference=request.reference,
                    needs=need_list(knowledge, request.needs, language) or "—",
                    status=knowledge.status_name(request.status, language),
                    department=request.department.name,
                    due=format_day(request.due_at, language),
                )
            )
        return Reply("\n".join(lines))


def _describe(turn: Turn) -> str:
    """What the resident did, as one line for the transcript."""
    if turn.command:
        return f"/{turn.command} {turn.text or ''}".strip()
    if turn.button:
        return f"[knop: {turn.button}]"
    if turn.media:
        return "[media]"
    if turn.edited:
        return "[bewerkt bericht]"
    return turn.text or ""
