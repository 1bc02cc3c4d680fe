"""How much CPU the bot spends on one message outside the NLU call.

Runs the conversation service in this process, as the bot does, with an NLU stand-in that
answers at once, and replies that go to the outbox and are sent (to nowhere) right after the
commit: the database work, the dialogue engine, the routing and the outbox of every message.
Not included: python-telegram-bot and the HTTP calls to Telegram and Rasa (bench/reply_latency
measures the whole bot process). Each resident sends a whole room request; the CPU time of
the process over all messages, after a warm-up, is divided by their number. With --profile
the functions that take the most time are listed too (cProfile, with the steps run inline).

    .venv/bin/python -m bench.step_cpu                       # SQLite in a temp folder
    .venv/bin/python -m bench.step_cpu --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Writes bench/results/step_cpu.json (one entry per database kind) and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import bot.conversation
from bench.reply_latency import git_commit
from bot.conversation import ConversationService, Sender, UpdateId
from bot.dialogue.turns import Reply, Turn
from bot.knowledge.store import KnowledgeSource
from bot.nlu.interpretation import Interpretation
from bot.settings import Settings
from wegwijs.assembly import database

RESULTS = Path(__file__).parent / "results"
MESSAGES = [
    "Wij willen een zaal huren voor een buurtfeest",
    "zaterdag 19 december",
    "19:00",
    "22:00",
    "40",
    "Oost",
    "Bingo",
    "Ans de Vries",
    "06 12345678",
]


class InstantNLU:
    """Answers at once, as Rasa would for these messages: the opening is a room request."""

    async def parse(self, message: str) -> Interpretation:
        intent, confidence = ("request_room", 0.95) if "zaal" in message else ("inform", 0.3)
        return Interpretation(message, intent, confidence, ((intent, confidence),), ())


async def _nowhere(replies: list[Reply]) -> None:
    """Sending costs python-telegram-bot's time, which this benchmark leaves out."""


async def _converse(service: ConversationService, residents: range, first_update: int) -> int:
    update = first_update
    for resident in residents:
        sender = Sender("telegram", str(resident), "nl")
        for message in MESSAGES:
            update += 1
            turn = Turn(text=message)
            await service.handle(sender, turn, _nowhere, UpdateId("telegram:1", update))
    return update


def measure(url: str, residents: int, profile: bool) -> dict[str, Any]:
    settings = Settings(database_url=url, data_dir=Path(tempfile.mkdtemp()))
    sessions = database(settings)
    service = ConversationService(KnowledgeSource(sessions), sessions, InstantNLU())  # type: ignore[arg-type]
    update = asyncio.run(_converse(service, range(10), 0))  # warm-up: caches, first queries
    profiler = cProfile.Profile()
    if profile:  # cProfile sees the main thread only: run the steps inline
        bot.conversation.asyncio.to_thread = _inline  # type: ignore[assignment]
        profiler.enable()
    started_cpu, started = time.process_time(), time.perf_counter()
    asyncio.run(_converse(service, range(1000, 1000 + residents), update))
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    profiler.disable()
    messages = residents * len(MESSAGES)
    result: dict[str, Any] = {
        "database": make_url(url).get_backend_name(),
        "messages": messages,
        "cpu_ms_per_message": round(cpu / messages * 1000, 2),
        "wall_ms_per_message": round(wall / messages * 1000, 2),
        "profiled": profile,
    }
    if profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        result["profile"] = out.getvalue()
    return result


async def _inline(function: Any, *args: Any) -> Any:
    return function(*args)


def _fresh_postgres(url: str) -> str:
    """The benchmark's own PostgreSQL database, emptied first."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return url


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Bot CPU per message, outside the NLU ({results['measured_at']})",
        "",
        f"Commit `{results['commit']}`. The conversation service in one process, an NLU that "
        "answers at once, replies sent to nowhere right after the commit.",
        "",
        "| database | messages | CPU ms per message | wall ms per message |",
        "|---|---:|---:|---:|",
    ]
    for entry in results["runs"].values():
        lines.append(
            f"| {entry['database']} | {entry['messages']} | {entry['cpu_ms_per_message']} | "
            f"{entry['wall_ms_per_message']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL to use (emptied); default SQLite")
    parser.add_argument("--residents", type=int, default=40, help="residents, one after another")
    parser.add_argument("--profile", action="store_true", help="list where the time goes")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)
    if args.database_url:
        url = _fresh_postgres(args.database_url)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    entry = measure(url, args.residents, args.profile)
    print(json.dumps({k: v for k, v in entry.items() if k != "profile"}))
    if args.profile:
        print(entry["profile"])
        return  # a profiled run is slower: not a figure to keep
    path = args.results / "step_cpu.json"
    results = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    results["runs"][entry["database"]] = entry
    results.update(commit=git_commit(), measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    args.results.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    (args.results / "step_cpu.md").write_text(markdown(results))


if __name__ == "__main__":
    main()
