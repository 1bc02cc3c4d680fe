"""The `wegwijs` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from dataclasses import asdict
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.conversation import ConversationService
from bot.delivery.worker import DeliveryWorker
from bot.dialogue.understanding import Understanding, understand
from bot.knowledge import store
from bot.learning import retraining
from bot.nlu.client import NLUUnavailable
from bot.nlu.language import warm_up
from bot.queue.serialize import request_json
from bot.settings import Settings, get_settings
from bot.storage import repositories as repo
from wegwijs import admin_commands, runner
from wegwijs.assembly import build_service, database, rasa_client
from wegwijs.local_rasa import local_rasa


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wegwijs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="start everything: Rasa, the web app, and the Telegram bot or the chat"
    )
    commands.add_parser("bot", help="run the Telegram bot (long polling or webhook)")
    commands.add_parser("web", help="run the officials' web app and the delivery worker")
    commands.add_parser("chat", help="talk to Wegwijs in the terminal")
    user = commands.add_parser("user", help="manage officials and admins")
    user.add_argument("action", choices=["add"])
    user.add_argument("name")
    user.add_argument("--role", choices=accounts.ROLES, default="official")
    user.add_argument("--department", action="append", help="department key (repeatable)")
    user.add_argument("--full-name", help="the name colleagues see")
    user.add_argument("--password", help="the password (default: a random one, printed)")
    token = commands.add_parser("token", help="API tokens")
    token.add_argument("action", choices=["create"])
    token.add_argument("user")
    interpret = commands.add_parser("interpret", help="show what the NLU makes of a text")
    interpret.add_argument("text")
    requests = commands.add_parser("requests", help="stored requests")
    requests.add_argument("action", choices=["list"])
    requests.add_argument("--json", action="store_true", help="print JSON")
    admin_commands.add_arguments(commands)
    commands.add_parser("db", help="migrate the database").add_argument(
        "action", choices=["upgrade"]
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = get_settings()
    handler = {
        "run": _run,
        "bot": _bot,
        "web": _web,
        "chat": _chat,
        "user": _user,
        "token": _token,
        "interpret": _interpret,
        "requests": _requests,
        "nlu": admin_commands.nlu,
        "knowledge": admin_commands.knowledge,
        "db": _db,
    }[args.command]
    handler(settings, args)


def _run(settings: Settings, _args: argparse.Namespace) -> None:
    """The whole system on one machine: Rasa as a child process when it is configured on
    this machine, the web app, the delivery worker, and the Telegram bot (with a token) or
    the terminal chat."""
    sessions = database(settings)
    with contextlib.ExitStack() as stack:
        if _rasa_is_local(settings):
            stack.enter_context(local_rasa(settings, retraining.model_to_serve(settings, sessions)))
        else:
            _load_live_model(settings, sessions)
        service = build_service(settings, sessions)
        _first_admin(settings, service.sessions)
        print(f"Web app for officials: http://{settings.web_host}:{settings.web_port}/")
        if settings.telegram_bot_token:
            _serve(settings, service, web=True, channel="telegram")
        else:
            print("No TELEGRAM_BOT_TOKEN set: starting the terminal chat instead.\n")
            _serve(settings, service, web=True, channel="terminal")


def _bot(settings: Settings, _args: argparse.Namespace) -> None:
    if not settings.telegram_bot_token:
        raise SystemExit("Set TELEGRAM_BOT_TOKEN to run the Telegram bot.")
    _serve(settings, build_service(settings), web=False, channel="telegram")


def _rasa_is_local(settings: Settings) -> bool:
    """Whether RASA_URL is on this machine: then `wegwijs run` runs Rasa as its child."""
    return urlparse(settings.rasa_url).hostname in ("127.0.0.1", "localhost")


def _load_live_model(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Have a Rasa server elsewhere (docker compose: each one behind the proxy) load the
    live model, training the first one on a first start."""
    try:
        retraining.load_live_model(settings, sessions)
    except httpx.HTTPError as error:
        print(f"Could not load the live model into Rasa at {settings.rasa_url}: {error}")


def _web(settings: Settings, _args: argparse.Namespace) -> None:
    """The web app and the delivery worker; with a Rasa server elsewhere it also loads the
    live model into it (docker-compose.scaled.yml, where the bots run apart)."""
    sessions = database(settings)
    if not _rasa_is_local(settings):
        _load_live_model(settings, sessions)
    service = build_service(settings, sessions)
    _first_admin(settings, service.sessions)
    print(f"Web app for officials: http://{settings.web_host}:{settings.web_port}/", flush=True)
    _serve(settings, service, web=True, channel=None)


def _chat(settings: Settings, _args: argparse.Namespace) -> None:
    _serve(settings, build_service(settings), web=False, channel="terminal")


def _serve(
    settings: Settings, service: ConversationService, *, web: bool, channel: str | None
) -> None:
    from handlers import telegram, terminal

    warm_up()
    if channel == "terminal":
        _log_to_file(settings.data_dir / "chat.log")  # log lines would garble the chat

        async def run_channel(worker: DeliveryWorker, stop: asyncio.Event) -> None:
            async with runner.heartbeat(service.sessions, "bot", "terminal chat", stop):
                await terminal.chat(service, worker)

    elif channel == "telegram":
        application = telegram.build_application(
            service, settings.telegram_bot_token or "", settings.telegram_api_base_url
        )
        mode = "webhook" if settings.telegram_webhook_url else "long polling"

        async def run_channel(worker: DeliveryWorker, stop: asyncio.Event) -> None:
            async with runner.heartbeat(service.sessions, "bot", f"telegram, {mode}", stop):
                await telegram.run_bot(
                    application,
                    worker,
                    stop,
                    webhook_url=settings.telegram_webhook_url,
                    webhook_secret=settings.telegram_webhook_secret,
                    webhook_port=settings.telegram_webhook_port,
                )

    asyncio.run(runner.serve(settings, service, web=web, channel=run_channel if channel else None))


def _log_to_file(log_file: Path) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in root.handlers:
        root.removeHandler(handler)
    root.addHandler(logging.FileHandler(log_file))


def _first_admin(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """On the very first start, make an admin so someone can log in, and say how."""
    password = accounts.new_password()
    with sessions.begin() as session:
        if accounts.has_users(session):
            return
        accounts.create_user(
            session, "admin", password, role="admin", departments=[], full_name="Beheerder"
        )
    note = settings.data_dir / "admin-password.txt"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(f"username: admin\npassword: {password}\n")
    note.chmod(0o600)
    print(
        "\nFirst start: created the admin account for the web app.\n"
        f"  Log in at http://{settings.web_host}:{settings.web_port}/ as 'admin' "
        f"with password {password}\n"
        f"  (also saved in {note}). Add officials with:\n"
        "  .venv/bin/wegwijs user add NAME --role official --department vastgoed\n",
        flush=True,
    )


def _user(settings: Settings, args: argparse.Namespace) -> None:
    sessions = database(settings)
    password = args.password or accounts.new_password()
    try:
        with sessions.begin() as session:
            user = accounts.create_user(
                session,
                args.name,
                password,
                role=args.role,
                departments=args.department or [],
                full_name=args.full_name,
            )
            summary = f"{user.username} ({user.role}; {', '.join(user.department_keys) or 'all'})"
    except accounts.AccountError as error:
        raise SystemExit(str(error)) from error
    print(f"Created {summary}.")
    if not args.password:
        print(f"Password: {password}")


def _token(settings: Settings, args: argparse.Namespace) -> None:
    sessions = database(settings)
    with sessions.begin() as session:
        user = accounts.user_by_name(session, args.user)
        if user is None:
            raise SystemExit(f"No active user {args.user!r}.")
        token = accounts.create_token(session, user)
    print(token)


def _interpret(settings: Settings, args: argparse.Namespace) -> None:
    with database(settings)() as session:
        knowledge = store.load_knowledge(session)

    async def parse() -> Understanding:
        client = rasa_client(settings)
        try:
            return await understand(
                client, knowledge, args.text, date.today(), settings.default_language
            )
        finally:
            await client.aclose()

    try:
        result = asyncio.run(parse())
    except NLUUnavailable as error:
        message = f"The Rasa server at {settings.rasa_url} cannot be reached: {error}"
        raise SystemExit(message) from error
    print(json.dumps(asdict(result), ensure_ascii=False, indent=2))


def _requests(settings: Settings, args: argparse.Namespace) -> None:
    sessions = database(settings)
    with sessions() as session:
        rows = [request_json(r) for r in repo.all_requests(session)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        print(
            f"{row['reference']}  {row['department']:<18} {','.join(row['needs']):<24} "
            f"{row['status']:<15} due {row['due_at']}"
        )


def _db(settings: Settings, _args: argparse.Namespace) -> None:
    database(settings)
    print("Database is up to date.")


if __name__ == "__main__":
    main()
