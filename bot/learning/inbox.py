"""The NLU inbox: residents' messages the model may have got wrong, for an admin to label.

Two kinds of message come in. A free-text message the model was unsure about ("unsure":
its fallback, or its two best intents close together) where the intent decided what the bot
did; and the first message of a request an official re-routed ("rerouted": the model's
intent sent it to the wrong department). Every text is masked (bot.learning.masking) before
it is stored. An admin confirms the model's guess or picks the right intent, which adds a
training example the next training learns from, or dismisses the message.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge, store
from bot.knowledge.bundle import example_key
from bot.knowledge.store import KnowledgeSource
from bot.learning.masking import mask, vocabulary
from bot.nlu.interpretation import FALLBACK_INTENT, Interpretation
from bot.storage.knowledge_tables import InboxEntry, Intent, TrainingExample
from bot.storage.models import MessageLog, Request, User, utc_now

log = logging.getLogger(__name__)

UNSURE = "unsure"
REROUTED = "rerouted"
OPEN = "open"
# What an admin did with an entry -> its status.
CONFIRM, LABEL, DISMISS = "confirm", "label", "dismiss"
STATUSES = {CONFIRM: "confirmed", LABEL: "labelled", DISMISS: "dismissed"}


class InboxError(ValueError):
    """A refused action on an entry; the message (Dutch) is shown to the admin as is."""


class EntryGone(InboxError):
    """The entry is no longer open: another admin handled it meanwhile."""


class EntryMissing(EntryGone):
    """There is no such entry."""


@dataclass(frozen=True)
class Guess:
    """What the model made of a message: its intent and the runner-up, with confidences."""

    intent: str | None
    confidence: float | None
    runner_up: str | None = None
    runner_up_confidence: float | None = None

    @classmethod
    def of(cls, interpretation: Interpretation) -> Guess:
        """The intent as the bot used it (nlu_fallback included) and the next best one."""
        others = [(n, s) for n, s in interpretation.ranking if n != interpretation.intent]
        runner_up, score = others[0] if others else (None, None)
        return cls(interpretation.intent, interpretation.confidence, runner_up, score)


def is_unsure(interpretation: Interpretation, margin: float) -> bool:
    """The model fell back, or its two best intents are less than `margin` apart."""
    if interpretation.is_fallback:
        return True
    scores = [score for name, score in interpretation.ranking if name != FALLBACK_INTENT]
    best, second = [*scores, 0.0, 0.0][:2]
    return best - second < margin


# -- adding -----------------------------------------------------------------------------------


def add(
    session: Session,
    knowledge: Knowledge,
    *,
    reason: str,
    text: str,
    language: str,
    guess: Guess,
    names: tuple[str, ...] = (),
    request_id: int | None = None,
) -> InboxEntry | None:
    """Mask the text and put it in the inbox, unless the same text is already waiting there.
    `names` are people known to be in it (the resident's own name)."""
    masked = " ".join(
        mask(
            text,
            names=names,
            keep=_neighbourhoods(knowledge),
            ordinary_words=vocabulary(session.scalars(select(TrainingExample.text))),
        ).split()
    )
    # Square brackets mark entities in Rasa's training data: the resident meant none.
    masked = masked.replace("[", "(").replace("]", ")")
    if not masked:
        return None
    waiting = select(InboxEntry.id).where(InboxEntry.status == OPEN, InboxEntry.text == masked)
    if session.scalar(waiting.limit(1)) is not None:
        return None
    entry = InboxEntry(
        reason=reason,
        text=masked,
        language=language,
        guessed_intent=guess.intent,
        confidence=guess.confidence,
        runner_up=guess.runner_up,
        runner_up_confidence=guess.runner_up_confidence,
        request_id=request_id,
    )
    session.add(entry)
    session.flush()
    return entry


def _neighbourhoods(knowledge: Knowledge) -> list[str]:
    """The neighbourhoods and their synonyms: useful training data, never an address."""
    if not knowledge.has_question("neighbourhood"):
        return []
    choices = knowledge.question("neighbourhood").choices
    return [word for choice in choices for word in (choice.value, *choice.synonyms)]


def add_rerouted(session: Session, knowledge: Knowledge, request: Request) -> None:
    """An official re-routed the request: the model may have misread the resident's first
    message. It goes to the inbox with the intent the model gave it then. The official's
    re-routing must not fail on this, so a failure only leaves a warning in the log."""
    first = session.scalar(
        select(MessageLog)
        .where(
            MessageLog.request_id == request.id,
            MessageLog.direction == "in",
            MessageLog.intent.is_not(None),
        )
        .order_by(MessageLog.id)
        .limit(1)
    )
    if first is None:
        return
    try:
        with session.begin_nested():
            add(
                session,
                knowledge,
                reason=REROUTED,
                text=first.text,
                language=request.language,
                guess=Guess(first.intent, first.confidence),
                names=_names(request.resident.name),
                request_id=request.id,
            )
    except Exception:
        log.warning("could not put request %s in the NLU inbox", request.id, exc_info=True)


def _names(*names: str | None) -> tuple[str, ...]:
    return tuple(name for name in names if name)


@dataclass(frozen=True)
class Unsure:
    """A message to put in the inbox, kept in memory until it is masked. `names`: the
    resident's own name, as far as known."""

    text: str
    language: str
    guess: Guess
    names: tuple[str, ...]

    @classmethod
    def of(
        cls, text: str, language: str, interpretation: Interpretation, *names: str | None
    ) -> Unsure:
        return cls(text, language, Guess.of(interpretation), _names(*names))


class Collector:
    """Puts unsure messages in the inbox off the reply path. Masking may have to wait for
    deduce to load (seconds), so it runs in a thread of its own, one message at a time,
    after the replies went out. A failure is logged; the conversation never notices."""

    def __init__(
        self, sessions: sessionmaker[Session], knowledge: KnowledgeSource, margin: float
    ) -> None:
        self.sessions = sessions
        self.knowledge = knowledge
        self.margin = margin
        self._queue: queue.SimpleQueue[Unsure] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None

    def is_unsure(self, interpretation: Interpretation) -> bool:
        return is_unsure(interpretation, self.margin)

    def submit(self, message: Unsure) -> None:
        with self._idle:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nlu-inbox", daemon=True)
                self._thread.start()
        self._queue.put(message)

    def wait(self, timeout: float) -> bool:
        """Wait until every submitted message is stored (at most `timeout` seconds): at a
        stop, so what is in flight is not lost. Returns whether all were stored."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                self._store(message)
            except Exception:
                log.warning("could not put a message in the NLU inbox", exc_info=True)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _store(self, message: Unsure) -> None:
        with self.sessions.begin() as session:
            add(
                session,
                self.knowledge.current(session),
                reason=UNSURE,
                text=message.text,
                language=message.language,
                guess=message.guess,
                names=message.names,
            )


# -- the admin's side -------------------------------------------------------------------------


def open_entries(session: Session, reason: str | None = None) -> list[InboxEntry]:
    """What waits for an admin, newest first; `reason` narrows it to unsure or rerouted."""
    query = select(InboxEntry).where(InboxEntry.status == OPEN)
    if reason:
        query = query.where(InboxEntry.reason == reason)
    return list(session.scalars(query.order_by(InboxEntry.created_at.desc(), InboxEntry.id.desc())))


def can_confirm(entry: InboxEntry) -> bool:
    """Only a real intent can be confirmed; a fallback is relabelled or dismissed."""
    return bool(entry.guessed_intent) and entry.guessed_intent != FALLBACK_INTENT


def resolve(
    session: Session, actor: User, entry_id: int, action: str, intent: str | None = None
) -> InboxEntry:
    """Confirm the guess, label the message with `intent`, or dismiss it. Confirming and
    labelling add the text as a training example of that intent (audited, so the training
    page sees the data changed), unless the example is there already."""
    entry = session.get(InboxEntry, entry_id, with_for_update=True)
    if entry is None:
        raise EntryMissing("Dit bericht staat niet in de inbox.")
    if entry.status != OPEN:
        raise EntryGone("Dit bericht is al afgehandeld, misschien door een andere beheerder.")
    if action == DISMISS:
        intent = None
    elif action == CONFIRM:
        if not can_confirm(entry):
            raise InboxError("Het model wist het niet; kies zelf de juiste intentie.")
        intent = entry.guessed_intent
    elif action == LABEL:
        if not intent:
            raise InboxError("Kies een intentie.")
    else:
        raise InboxError("Onbekende actie: bevestigen, een intentie kiezen of negeren.")
    if intent is not None:
        _learn(session, actor, entry, intent)
    entry.status = STATUSES[action]
    entry.resolved_intent = intent
    entry.resolved_by_id = actor.id
    entry.resolved_at = utc_now()
    session.flush()
    return entry


def _learn(session: Session, actor: User, entry: InboxEntry, intent: str) -> None:
    """The entry's text becomes an example of `intent`; the same text under another intent
    would teach the model two answers, so that is refused."""
    if session.get(Intent, intent) is None:
        raise InboxError(f"De intentie '{intent}' bestaat niet (meer).")
    existing = session.scalar(
        select(TrainingExample.intent).where(TrainingExample.text == entry.text).limit(1)
    )
    if existing == intent:
        return
    if existing is not None:
        raise InboxError(
            f"Deze zin staat al als voorbeeld bij {existing}. Verplaats dat voorbeeld op de "
            "pagina van die intentie, of negeer dit bericht."
        )
    value = {"intent": intent, "language": entry.language, "text": entry.text}
    session.add(TrainingExample(source="inbox", **value))
    session.flush()
    store.record(session, actor, "example", example_key(value), None, value)


def open_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(InboxEntry.status == OPEN)) or 0
