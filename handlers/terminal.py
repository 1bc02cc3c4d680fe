"""The terminal chat: the same conversation as in Telegram, typed in a shell.

Buttons show as numbers; type the number (or the button's text) to press it.
"""

from __future__ import annotations

import asyncio
import getpass
import textwrap

from bot.conversation import ConversationService, Sender
from bot.delivery.worker import DeliveryWorker
from bot.dialogue.turns import Button, Reply, Turn

COMMANDS = {"start", "help", "status", "cancel"}
QUIT = {"/quit", "/exit", "/stop", "quit", "exit"}


def render(reply: Reply) -> tuple[str, list[Button]]:
    """The reply as terminal text, and the buttons in the order they are numbered."""
    lines = [textwrap.fill(p, 88) if p else "" for p in reply.text.split("\n")]
    buttons = [button for row in reply.buttons for button in row]
    for number, button in enumerate(buttons, start=1):
        lines.append(f"   [{number}] {button.label}")
    return "\n".join(lines), buttons


def parse_input(line: str, buttons: list[Button]) -> Turn:
    text = line.strip()
    if text.startswith("/") and text[1:].split()[0].lower() in COMMANDS:
        command, _, argument = text[1:].partition(" ")
        return Turn(command=command.lower(), text=argument.strip() or None)
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return Turn(button=buttons[int(text) - 1].data)
    for button in buttons:
        if text.lower() == button.label.lower():
            return Turn(button=button.data)
    return Turn(text=line)


async def chat(
    service: ConversationService,
    worker: DeliveryWorker | None = None,
    user: str | None = None,
    language: str = "nl",
) -> None:
    """Chat until /quit. With a delivery worker, officials' messages appear in the chat."""
    sender = Sender("terminal", user or getpass.getuser(), language)
    if worker is not None:

        async def show_official_message(chat_id: str, message: Reply) -> None:
            if chat_id != sender.external_id:
                raise LookupError(f"resident {chat_id} is not in this terminal chat")
            print(f"\n\nwegwijs> {render(message)[0]}\n\nu> ", end="", flush=True)

        worker.add_channel("terminal", show_official_message)
        worker.wake()
    print("Wegwijs terminal chat. Typ /quit om te stoppen, /help voor uitleg.\n")
    buttons = await _show(service, sender, Turn(command="start"))
    while True:
        try:
            line = await asyncio.to_thread(input, "u> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if line.strip().lower() in QUIT:
            return
        buttons = await _show(service, sender, parse_input(line, buttons))


async def _show(service: ConversationService, sender: Sender, turn: Turn) -> list[Button]:
    buttons: list[Button] = []
    for reply in await service.handle(sender, turn):
        text, buttons = render(reply)
        print(f"\nwegwijs> {text}\n", flush=True)
    return buttons
