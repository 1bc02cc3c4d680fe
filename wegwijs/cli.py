"""The `wegwijs` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from bot.dialogue.slots import fill_from_entities
from bot.knowledge import load_knowledge
from bot.nlu.client import NLUUnavailable
from bot.nlu.language import choose_language, warm_up
from bot.nlu.patterns import merge_entities
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.storage import repositories as repo
from wegwijs import rasa_process
from wegwijs.assembly import build_service, prepare_database, rasa_client

REPORTS = PROJECT_ROOT / "reports"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wegwijs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start everything: Rasa, then the Telegram bot or the chat")
    commands.add_parser("bot", help="run the Telegram bot (long polling)")
    commands.add_parser("chat", help="talk to Wegwijs in the terminal")
    interpret = commands.add_parser("interpret", help="show what the NLU makes of a text")
    interpret.add_argument("text")
    requests = commands.add_parser("requests", help="stored requests")
    requests.add_argument("action", choices=["list"])
    requests.add_argument("--json", action="store_true", help="print JSON")
    nlu = commands.add_parser("nlu", help="train, serve or test the NLU model")
    nlu.add_argument("action", choices=["train", "serve", "test", "cross-validate"])
    nlu.add_argument("--force", action="store_true", help="train even if the model is current")
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
        "chat": _chat,
        "interpret": _interpret,
        "requests": _requests,
        "nlu": _nlu,
        "db": _db,
    }[args.command]
    handler(settings, args)


def _run(settings: Settings, _args: argparse.Namespace) -> None:
    """The whole system on one machine: Rasa if it is not running yet, then the bot."""
    rasa = None
    if not rasa_process.is_up(settings) and urlparse(settings.rasa_url).hostname in (
        "127.0.0.1",
        "localhost",
    ):
        print("Starting the Rasa server (about 25 seconds)...", flush=True)
        rasa = rasa_process.start_server(settings, PROJECT_ROOT / "data" / "rasa.log")
    try:
        if settings.telegram_bot_token:
            _bot(settings, _args)
        else:
            print("No TELEGRAM_BOT_TOKEN set: starting the terminal chat instead.\n")
            _chat(settings, _args)
    finally:
        if rasa is not None:
            rasa.terminate()
            rasa.wait(timeout=30)


def _bot(settings: Settings, _args: argparse.Namespace) -> None:
    from telegram import Update

    from handlers.telegram import build_application

    if not settings.telegram_bot_token:
        raise SystemExit("Set TELEGRAM_BOT_TOKEN to run the Telegram bot.")
    warm_up()
    application = build_application(
        build_service(settings), settings.telegram_bot_token, settings.telegram_api_base_url
    )
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def _chat(settings: Settings, _args: argparse.Namespace) -> None:
    from handlers.terminal import chat

    log_file = PROJECT_ROOT / "data" / "chat.log"  # log lines would garble the conversation
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in root.handlers:
        root.removeHandler(handler)
    root.addHandler(logging.FileHandler(log_file))
    warm_up()
    asyncio.run(chat(build_service(settings)))


def _interpret(settings: Settings, args: argparse.Namespace) -> None:
    knowledge = load_knowledge(settings.knowledge_dir)

    async def parse():  # type: ignore[no-untyped-def]
        client = rasa_client(settings)
        try:
            return await client.parse(args.text)
        finally:
            await client.aclose()

    try:
        result = asyncio.run(parse())
    except NLUUnavailable as error:
        message = f"The Rasa server at {settings.rasa_url} cannot be reached: {error}"
        raise SystemExit(message) from error
    needs = [n for n in map(knowledge.need_for_intent, result.intents) if n]
    questions = knowledge.questions_for(needs or list(knowledge.needs))
    slots, _ = fill_from_entities(
        questions, merge_entities(result.entities, args.text), {}, date.today()
    )
    output = {
        "intent": result.intent,
        "confidence": round(result.confidence, 4),
        "needs": needs,
        "slots": slots,
        "language": choose_language(args.text, current=None, telegram_code=None),
    }
    print(json.dumps(output, ensure_ascii=False, indent=2))


def _requests(settings: Settings, args: argparse.Namespace) -> None:
    sessions = prepare_database(settings, load_knowledge(settings.knowledge_dir))
    with sessions() as session:
        rows = [
            {
                "reference": r.reference,
                "department": r.department_key,
                "co_departments": r.co_departments,
                "needs": r.needs,
                "status": r.status,
                "answers": r.answers,
                "created_at": r.created_at.isoformat(),
                "due_at": r.due_at.isoformat(),
            }
            for r in repo.all_requests(session)
        ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        print(
            f"{row['reference']}  {row['department']:<18} {','.join(row['needs']):<24} "
            f"{row['status']:<15} due {row['due_at']}"
        )


def _nlu(settings: Settings, args: argparse.Namespace) -> None:
    if args.action == "train":
        model = rasa_process.train(settings, force=args.force)
        if rasa_process.is_up(settings):  # swap the live model without a restart

            async def swap() -> None:
                client = rasa_client(settings)
                try:
                    await client.load_model(model)
                finally:
                    await client.aclose()

            asyncio.run(swap())
            print(f"The running Rasa server now uses {model.name}")
    elif args.action == "serve":
        model = rasa_process.train(settings)
        sys.exit(subprocess.call(rasa_process.serve_command(settings, model)))
    elif args.action == "test":
        scores = rasa_process.evaluate(
            settings, settings.rasa_project_dir / "tests" / "holdout.yml", REPORTS / "nlu-holdout"
        )
        _write_scores(REPORTS / "nlu-holdout.json", scores)
    else:
        scores = rasa_process.cross_validate(settings, REPORTS / "nlu-cross-validation")
        _write_scores(REPORTS / "nlu-cross-validation.json", scores)


def _write_scores(path: Path, scores: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scores, indent=2) + "\n")
    print(json.dumps(scores, indent=2))


def _db(settings: Settings, _args: argparse.Namespace) -> None:
    prepare_database(settings, load_knowledge(settings.knowledge_dir))
    print("Database is up to date.")


if __name__ == "__main__":
    main()
