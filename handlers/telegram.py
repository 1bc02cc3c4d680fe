"""python-telegram-bot 22 handlers: small, async, one per kind of update."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.conversation import ConversationService, Sender, UpdateId
from bot.delivery.worker import DeliveryWorker
from bot.dialogue.turns import Reply, Turn
from bot.knowledge import LANGUAGES
from handlers import polling, webhook

log = logging.getLogger(__name__)
COMMANDS = ("start", "help", "status", "cancel")


def build_application(service: ConversationService, token: str, api_base_url: str) -> Application:
    """The bot, talking to `api_base_url` (Telegram itself, or a local fake in tests)."""
    root = api_base_url.rstrip("/")
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        # Updates come from handlers.polling or handlers.webhook, which hand each one to
        # process_update and acknowledge it only after its step committed.
        .updater(None)
        .build()
    )
    application.bot_data["service"] = service
    # Residents only, in their private chat with the bot: in a group or channel it says so
    # and leaves (keeping no "resident" for it). An edited message is acknowledged, never
    # taken as the answer to whatever question is open now.
    not_private = ~filters.ChatType.PRIVATE & (
        filters.UpdateType.MESSAGES | filters.UpdateType.CHANNEL_POSTS
    )
    application.add_handler(MessageHandler(not_private, on_group))
    application.add_handler(ChatMemberHandler(on_group, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, on_edited)
    )
    new_private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler(list(COMMANDS), on_command, filters=new_private))
    application.add_handler(MessageHandler(new_private & filters.COMMAND, on_unknown_command))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(new_private & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(
        MessageHandler(new_private & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_media)
    )
    application.add_error_handler(on_error)
    return application


async def run_bot(
    application: Application,
    worker: DeliveryWorker,
    stop: asyncio.Event,
    *,
    webhook_url: str = "",
    webhook_secret: str = "",
    webhook_port: int = 8443,
) -> None:
    """Run the bot inside an existing event loop until `stop` is set: long polling, or a
    webhook behind HTTPS in production. Its replies and officials' messages go out through
    `worker`."""
    application.bot_data["service"].wake_delivery = worker.wake

    async def send(chat_id: str, message: Reply) -> None:
        await _send(application.bot, int(chat_id), message)

    worker.add_channel("telegram", send)
    worker.wake()
    async with application:
        await application.start()
        await _register_commands(application)
        server = None
        if webhook_url:
            await application.bot.set_webhook(
                webhook_url, secret_token=webhook_secret or None, allowed_updates=Update.ALL_TYPES
            )
            server = uvicorn.Server(
                uvicorn.Config(
                    webhook.webhook_app(application, webhook_secret),
                    host="0.0.0.0",
                    port=webhook_port,
                    log_level="warning",
                )
            )
            server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
            channel = asyncio.ensure_future(server.serve())
        else:
            channel = asyncio.ensure_future(polling.poll(application, stop))
        try:
            await stop.wait()
            if server is not None:
                server.should_exit = True  # after the updates being handled are answered
            await channel  # a batch being handled is finished
        finally:
            await application.stop()


async def _register_commands(application: Application) -> None:
    """Telegram's command menu, in Dutch by default and in English for English phones; the
    descriptions are texts admins keep (command_start, …), set each time the bot starts
    (post_init would run only under run_polling, which the bot does not use)."""
    knowledge = application.bot_data["service"].knowledge
    for language in LANGUAGES:
        commands = [
            BotCommand(name, knowledge.text(f"command_{name}", language)) for name in COMMANDS
        ]
        try:
            await application.bot.set_my_commands(
                commands, language_code=None if language == "nl" else language
            )
        except TelegramError:  # the menu is a convenience; the bot works without it
            log.warning("could not set Telegram's command menu (%s)", language, exc_info=True)


def _sender(update: Update) -> Sender:
    user = update.effective_user
    return Sender(
        channel="telegram",
        external_id=str(update.effective_chat.id),
        language_code=user.language_code if user else None,
    )


async def _respond(update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn) -> None:
    """One step of the resident's conversation, once per update. Its replies were written to
    the outbox with it; they are sent right away, or by the delivery worker if older
    messages to this chat still wait or sending fails."""
    service: ConversationService = context.application.bot_data["service"]

    async def deliver(replies: list[Reply]) -> None:
        for reply in replies:
            await _send(context.bot, update.effective_chat.id, reply)

    source = f"telegram:{context.bot.id}"
    await service.handle(_sender(update), turn, deliver, UpdateId(source, update.update_id))


async def _send(bot: Bot, chat_id: int, reply: Reply) -> None:
    await bot.send_message(chat_id=chat_id, text=reply.text, reply_markup=_keyboard(reply))


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    first, _, argument = update.effective_message.text.partition(" ")
    command = first.lstrip("/").split("@")[0].lower()
    await _respond(update, context, Turn(command=command, text=argument.strip() or None))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _respond(update, context, Turn(command="help"))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _respond(update, context, Turn(text=update.effective_message.text))


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice messages, files, locations: a polite word, nothing lost."""
    if update.effective_message is None:
        return
    await _respond(update, context, Turn(media=True))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An earlier message, edited: what it said then was handled then; the edit is
    acknowledged and the open question asked again, so nothing lands on the wrong one."""
    await _respond(update, context, Turn(edited=True))


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Added to a group or channel, or written to in one: say that the bot talks with
    residents one to one, and leave. Being removed needs no answer."""
    chat = update.effective_chat
    member = update.my_chat_member
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if member and member.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return
    service: ConversationService = context.application.bot_data["service"]
    language = (_sender(update).language_code or "nl")[:2]
    try:
        await context.bot.send_message(
            chat_id=chat.id, text=service.knowledge.text("private_chat_only", language)
        )
    except TelegramError:  # a channel, or a group that does not let the bot write
        log.info("could not tell group %s that the bot talks one to one", chat.id)
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as error:  # left already, for a message that came just before
        log.info("could not leave group %s: %s", chat.id, error)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    try:  # fails for a press redelivered after a restart: too old to answer by then
        await query.answer()
    except TelegramError:
        log.debug("could not answer the button press", exc_info=True)
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        return  # the bot sends no buttons to groups; a forwarded one does nothing there
    try:  # a pressed keyboard is spent; removing it keeps old buttons from being pressed
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError:
        log.debug("could not remove the keyboard", exc_info=True)
    await _respond(update, context, Turn(button=query.data))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and webhook.FAILED in context.application.bot_data:
        context.application.bot_data[webhook.FAILED].add(update.update_id)
    if isinstance(update, Update) and update.effective_chat:
        service: ConversationService = context.application.bot_data["service"]
        language = (_sender(update).language_code or "nl")[:2]
        try:
            await context.bot.send_message(
                chat_id=update.effective_chat.id,
                text=service.knowledge.text("error_generic", language),
            )
        except TelegramError:
            log.warning("could not tell the resident about the error", exc_info=True)
