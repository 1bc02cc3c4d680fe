"""How long a resident waits for Wegwijs' answer, and how much of that is the Rasa parse.

Runs the real bot process (long polling) against the fake Telegram Bot API, the real Rasa
server with the trained model and a real database, all on this machine:

1. warm-up (not measured): a few messages to the bot and a few raw parses;
2. one at a time: one resident after another sends the conversation; per message the bot's
   reply latency and, right after, the raw Rasa parse latency of the same text (nothing runs
   concurrently, so the difference is the bot's own work: polling, database, sending);
3. N residents at once: N threads (distinct chats) each send the conversation, waiting for
   the bot's answer (and a short pause) before the next message;
4. raw Rasa at the same concurrency: N coroutines each parse the same texts in turn.

A reply's latency runs from just before ``send_text`` until the fake Telegram receives the
bot's ``sendMessage`` (its own timestamp, so the resident threads' wake-up delay is left
out; that is reported separately).  CPU time of the bot, Rasa and this harness is recorded
per phase to show where a 2-core machine spends its time.

Run: ``.venv/bin/python -m bench.reply_latency`` (about 2.5 minutes).  Results go to
``bench/results/reply_latency.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.nlu.client import NLUUnavailable, RasaClient
from bot.settings import PROJECT_ROOT, Settings
from tests.e2e.support import BOT_TOKEN, BotProcess, dutch, future_saturday
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeTelegram
from tests.rasa_server import TOKEN, running_rasa
from wegwijs.assembly import shipped_model

JSON = dict[str, Any]
RESULTS = PROJECT_ROOT / "bench" / "results"
WARM_UP = ("Hallo", "Ik wil een zaal huren voor 40 mensen", "/cancel")
REPLY_TIMEOUT = 30.0  # s; a reply slower than this is a failure, not a data point
PAUSE = 0.3  # s a resident waits after the expected answer (catches surplus messages)
CALIBRATION_PAUSE = 1.5  # s; generous, to learn how many messages each answer has
# The fake answers each request on a new connection (HTTP/1.0) with socketserver's listen
# backlog of 5; a burst of 50 residents overflows that, and every dropped SYN costs the bot a
# 1 s TCP retransmit that real Telegram would not cause.  So the benchmark widens it.
FAKE_LISTEN_BACKLOG = 128


def conversation() -> list[str]:
    """What a resident who wants a room types, one message per question of the bot."""
    return [
        "Ik wil een zaal huren voor 40 mensen",
        dutch(future_saturday()),  # e.g. "zaterdag 12 december", always in the future
        "14:00",
        "17:00",
        "Centrum",
        "Repair café",
    ]


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """n, p50/p95/max/mean in milliseconds (inclusive quantiles: never beyond the max)."""
    if not seconds:
        return {"n": 0}
    ms = sorted(s * 1000 for s in seconds)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return {
        "n": len(ms),
        "p50": round(cuts[49], 1),
        "p95": round(cuts[94], 1),
        "max": round(ms[-1], 1),
        "mean": round(statistics.fmean(ms), 1),
    }


def gap(bot: dict[str, Any], rasa: dict[str, Any]) -> dict[str, float]:
    """The bot's overhead as the gap between its percentiles and Rasa's."""
    return {key: round(bot[key] - rasa[key], 1) for key in ("p50", "p95") if key in bot}


# --------------------------------------------------------------------------------------------
# CPU time per process
# --------------------------------------------------------------------------------------------


def _proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux); None elsewhere or when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(marker: str) -> int | None:
    """Pid of this process's child whose command line contains `marker` (here: Rasa)."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and marker in cmdline:
            return int(entry.name)
    return None


def _machine_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine used so far (Linux /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU seconds used by the bot, Rasa and this harness (fake Telegram + residents)."""

    pids: dict[str, int | None]

    def read(self) -> dict[str, float | None]:
        now = {name: pid and _proc_cpu_seconds(pid) for name, pid in self.pids.items()}
        return {**now, "harness": time.process_time()}

    def measure(self, work: Callable[[], Any], items: Callable[[Any], int]) -> tuple[Any, JSON]:
        """Run `work`; report each process's CPU ms per item and share of the machine."""
        before, start = self.read(), time.perf_counter()
        busy_before = _machine_busy_seconds()
        result = work()
        after, wall = self.read(), time.perf_counter() - start
        count, cores = max(1, items(result)), os.cpu_count() or 1
        report: JSON = {"wall_seconds": round(wall, 2)}
        ours = 0.0
        for name, used in after.items():
            if used is None or before[name] is None:
                continue
            seconds = used - before[name]  # type: ignore[operator]
            ours += seconds
            report[name] = {
                "cpu_ms_per_message": round(seconds * 1000 / count, 1),
                "machine_share": round(seconds / wall / cores, 3),
            }
        if busy_before is not None and (busy_after := _machine_busy_seconds()) is not None:
            # Anything else running on the machine (another job, a build) skews the figures.
            report["other_processes_machine_share"] = round(
                max(0.0, busy_after - busy_before - ours) / wall / cores, 3
            )
        return result, report


# --------------------------------------------------------------------------------------------
# How responsive the fake Telegram itself is
# --------------------------------------------------------------------------------------------

# Runs in its own process so it measures the fake as the bot meets it: a new HTTP request
# (and connection) per call, answered by the busy harness process.
_PROBE = """
import sys, threading, time, urllib.request
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
while not stop.is_set():
    start = time.perf_counter()
    urllib.request.urlopen(sys.argv[1], timeout=30).read()
    print(time.perf_counter() - start, flush=True)
    stop.wait(0.05)
"""


def tcp_counters() -> dict[str, int]:
    """Machine-wide ListenOverflows and TCPSynRetrans (Linux): nonzero deltas during a run
    mean connections to the fake waited for a SYN retransmit (about 1 s each)."""
    try:
        head, values = [
            line.split() for line in Path("/proc/net/netstat").read_text().splitlines()[:2]
        ]
    except (OSError, ValueError):
        return {}
    counters = dict(zip(head[1:], values[1:], strict=False))
    return {key: int(counters.get(key, 0)) for key in ("ListenOverflows", "TCPSynRetrans")}


@contextmanager
def fake_round_trips(telegram: FakeTelegram, samples: list[float]) -> Iterator[None]:
    """Time `getMe` calls to the fake Telegram every 50 ms while the block runs.

    Every reply costs at least two such round trips (getUpdates, sendMessage), so this shows
    how much of the measured latency the test harness adds under load.
    """
    probe = subprocess.Popen(
        [sys.executable, "-c", _PROBE, f"{telegram.api_url}/getMe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield
    finally:
        out, _ = probe.communicate(input="", timeout=60)
        samples.extend(float(line) for line in out.split())


# --------------------------------------------------------------------------------------------
# Talking to the bot
# --------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One resident message and the bot's answer to it (times in seconds from the send)."""

    chat_id: int
    text: str
    sent_at: float  # time.time() just before the message was queued
    seen_first: float  # when the resident's thread noticed the first message of the answer
    seen_last: float  # ... and the last one
    replies: list[str] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    first: float = float("nan")  # when the fake Telegram received the first sendMessage
    last: float = float("nan")  # ... and the last one (set by `stamp`)


def exchange(
    telegram: FakeTelegram, chat_id: int, text: str, *, expected: int | None, pause: float
) -> Exchange:
    """Send `text` and wait for the whole answer.

    With `expected` (learnt in the calibration round) it waits for that many messages, then
    `pause` seconds more so a surplus message cannot leak into the next exchange.  Without
    it, it waits until `pause` seconds pass without a new message.
    """
    after = telegram.bot_message_count(chat_id)
    sent_at, start = time.time(), time.perf_counter()
    if text.startswith("/"):
        telegram.send_command(chat_id, text)
    else:
        telegram.send_text(chat_id, text)
    got = telegram.wait_for_reply(chat_id, after=after, timeout=REPLY_TIMEOUT)
    first = last = time.perf_counter() - start
    if expected is not None and len(got) < expected:
        got = telegram.wait_for_reply(chat_id, after=after, timeout=REPLY_TIMEOUT, count=expected)
        last = time.perf_counter() - start
    while True:  # anything more than expected still belongs to this answer
        try:
            got = telegram.wait_for_reply(chat_id, after=after, timeout=pause, count=len(got) + 1)
        except AssertionError:
            break
        last = time.perf_counter() - start
    return Exchange(
        chat_id,
        text,
        sent_at,
        first,
        last,
        [entry["plain_text"] for entry in got],
        [entry["message_id"] for entry in got if entry["method"] == "sendMessage"],
    )


def converse(
    telegram: FakeTelegram,
    chat_id: int,
    texts: Sequence[str],
    expected: Sequence[int] | None,
    pause: float = PAUSE,
) -> list[Exchange]:
    """One resident's whole conversation, each message after the previous answer."""
    return [
        exchange(telegram, chat_id, text, expected=expected[i] if expected else None, pause=pause)
        for i, text in enumerate(texts)
    ]


def stamp(telegram: FakeTelegram, exchanges: Sequence[Exchange]) -> None:
    """Fill in `first`/`last` from the fake Telegram's arrival time of each sendMessage."""
    arrived = {
        (call["params"].get("chat_id"), call["result"]["message_id"]): call["time"]
        for call in telegram.calls("sendMessage")
        if call["ok"]
    }
    for e in exchanges:
        times = [arrived[(e.chat_id, m)] - e.sent_at for m in e.message_ids]
        e.first, e.last = min(times), max(times)


@dataclass
class ConcurrentRun:
    exchanges: list[Exchange]
    failures: list[str]


def concurrent_residents(
    telegram: FakeTelegram, first_chat: int, residents: int, texts: list[str], expected: list[int]
) -> ConcurrentRun:
    """`residents` threads start together, each holding its own conversation."""
    barrier = threading.Barrier(residents + 1)
    results: list[list[Exchange]] = [[] for _ in range(residents)]
    failures: list[str] = []

    def resident(index: int) -> None:
        barrier.wait()
        try:
            results[index] = converse(telegram, first_chat + index, texts, expected)
        except AssertionError as error:  # a reply timed out: report it, don't hang
            failures.append(f"chat {first_chat + index}: {str(error).splitlines()[0]}")

    threads = [threading.Thread(target=resident, args=(i,), daemon=True) for i in range(residents)]
    for thread in threads:
        thread.start()
    barrier.wait()
    deadline = time.monotonic() + REPLY_TIMEOUT * (len(texts) + 1)
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return ConcurrentRun([e for result in results for e in result], failures)


# --------------------------------------------------------------------------------------------
# Raw Rasa
# --------------------------------------------------------------------------------------------


def pick_model() -> tuple[Path, bool]:
    """The model for the current training data, else the newest one (latency hardly depends
    on the exact data, and retraining takes a quarter of an hour); True if it is current."""
    settings = Settings()
    current = shipped_model(settings)
    if current.exists():
        return current, True
    models = sorted(settings.rasa_model_dir.glob("nlu-*.tar.gz"), key=lambda m: m.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained NLU model in {settings.rasa_model_dir}: run `make setup`.")
    return models[-1], False


def rasa_server(log_file: Path, model: Path) -> AbstractContextManager[str]:
    """The real Rasa server, as in the tests, with the chosen model."""
    return running_rasa(log_file, model)


async def timed_parse(client: RasaClient, text: str) -> float | None:
    """Seconds for one parse, None if Rasa failed."""
    start = time.perf_counter()
    try:
        await client.parse(text)
    except NLUUnavailable:
        return None
    return time.perf_counter() - start


async def concurrent_parses(
    client: RasaClient, residents: int, texts: Sequence[str]
) -> list[float | None]:
    """`residents` coroutines, each parsing the texts in turn, like the residents talk.

    Each pauses `PAUSE` seconds after a parse, as the bot's residents do after an answer, so
    Rasa sees the same number of requests in flight in both runs.
    """

    async def resident() -> list[float | None]:
        timings = []
        for text in texts:
            timings.append(await timed_parse(client, text))
            await asyncio.sleep(PAUSE)
        return timings

    runs = await asyncio.gather(*(resident() for _ in range(residents)))
    return [v for run in runs for v in run]


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def git_commit() -> str | None:
    """HEAD, with "-dirty" when the work tree has changes (the figures may not match HEAD)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None
    return f"{commit}{'-dirty' if dirty else ''}" if commit else None


def run(args: argparse.Namespace, workdir: Path) -> JSON:
    """Start Rasa, the fake Telegram and the bot; measure; stop them again."""
    texts = conversation()
    database_url = args.database_url or f"sqlite:///{workdir / 'wegwijs.db'}"
    # Chats of their own on every run, so a reused database holds no state for them.
    chat_base = 1_000_000 + (int(time.time()) % 100_000) * 1000

    model, current = pick_model()
    if not current:
        print(f"no model for the current training data; using {model.name}", flush=True)
    rasa = rasa_server(workdir / "rasa.log", model)
    telegram_api._Server.request_queue_size = FAKE_LISTEN_BACKLOG  # see FAKE_LISTEN_BACKLOG
    with rasa as rasa_url, FakeTelegram(token=BOT_TOKEN) as tg:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RASA_URL": rasa_url,
            "RASA_TOKEN": TOKEN,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_BASE_URL": tg.base_url,
        }
        bot = BotProcess(tg, env, workdir / "bot.log")
        bot.start()
        assert bot.process is not None
        cpu = CpuMeter({"bot": bot.process.pid, "rasa": child_pid("rasa")})
        try:
            with asyncio.Runner() as loop:
                client = RasaClient(rasa_url, TOKEN, timeout=REPLY_TIMEOUT)
                try:
                    result = measure(args, tg, loop, client, cpu, texts, chat_base)
                finally:
                    loop.run(client.aclose())
        finally:
            bot.stop()
        bot_log = bot.log()
        result["bot_log"] = {
            "nlu_unavailable_warnings": bot_log.count("NLU unavailable"),
            "errors": bot_log.count(" ERROR "),
            "tracebacks": bot_log.count("Traceback"),
            "first_error": next(
                (bot_log[i : i + 2000] for i in [bot_log.find(" ERROR ")] if i >= 0), None
            ),
        }
        result["telegram_api_errors"] = len(tg.errors())
    result["rasa_model"] = {"name": model.name, "matches_training_data": current}
    result["database"] = database_url.split(":", 1)[0].split("+")[0]
    return result


def measure(
    args: argparse.Namespace,
    tg: FakeTelegram,
    loop: asyncio.Runner,
    client: RasaClient,
    cpu: CpuMeter,
    texts: list[str],
    chat_base: int,
) -> JSON:
    """Warm-up, one at a time, N at once through the bot, N at once raw; the figures."""
    print("warming up ...", flush=True)
    converse(tg, chat_base, WARM_UP, None, pause=CALIBRATION_PAUSE)
    for text in [*texts, *texts]:
        loop.run(timed_parse(client, text))

    print(f"one at a time: {args.rounds} residents, one after another ...", flush=True)
    reference = converse(tg, chat_base + 1, texts, None, pause=CALIBRATION_PAUSE)
    expected = [len(e.replies) for e in reference]
    if args.verbose:
        for step in reference:
            print(f"  {step.text!r} -> {len(step.replies)} message(s): {step.replies[-1][:70]!r}")
    seq_bot: list[Exchange] = []
    seq_parse: list[float | None] = []
    for round_ in range(args.rounds):
        for index, text in enumerate(texts):
            seq_bot.append(
                exchange(tg, chat_base + 10 + round_, text, expected=expected[index], pause=PAUSE)
            )
            seq_parse.append(loop.run(timed_parse(client, text)))
    stamp(tg, seq_bot)
    paired = [(e, p) for e, p in zip(seq_bot, seq_parse, strict=True) if p is not None]

    idle_trips: list[float] = []
    with fake_round_trips(tg, idle_trips):
        time.sleep(2)
    print(f"{args.residents} residents at once, through the bot ...", flush=True)
    busy_trips: list[float] = []
    tcp_before = tcp_counters()
    with fake_round_trips(tg, busy_trips):
        concurrent, bot_cpu = cpu.measure(
            lambda: concurrent_residents(tg, chat_base + 100, args.residents, texts, expected),
            lambda run: len(run.exchanges),
        )
    tcp = {key: value - tcp_before[key] for key, value in tcp_counters().items()}
    stamp(tg, concurrent.exchanges)
    answers = concurrent.exchanges
    mismatches = sum(e.replies != reference[i % len(texts)].replies for i, e in enumerate(answers))

    print(f"{args.residents} concurrent raw Rasa parses ...", flush=True)
    parses, rasa_cpu = cpu.measure(
        lambda: loop.run(concurrent_parses(client, args.residents, texts)), len
    )

    one_at_a_time = {
        "bot_first_reply": summary([e.first for e in seq_bot]),
        "bot_last_reply": summary([e.last for e in seq_bot]),
        "rasa_parse": summary([p for p in seq_parse if p is not None]),
        "overhead_paired_first": summary([e.first - p for e, p in paired]),
        "overhead_paired_last": summary([e.last - p for e, p in paired]),
        "seen_by_resident_last_reply": summary([e.seen_last for e in seq_bot]),
    }
    one_at_a_time["overhead_percentile_gap_last"] = gap(
        one_at_a_time["bot_last_reply"], one_at_a_time["rasa_parse"]
    )
    bot_first = summary([e.first for e in answers])
    bot_last = summary([e.last for e in answers])
    rasa = summary([p for p in parses if p is not None])
    return {
        "expected_messages_per_answer": expected,
        "one_at_a_time": one_at_a_time,
        "concurrent": {
            "bot_first_reply": bot_first,
            "bot_last_reply": bot_last,
            "rasa_parse": rasa,
            "overhead_percentile_gap_first": gap(bot_first, rasa),
            "overhead_percentile_gap_last": gap(bot_last, rasa),
            "seen_by_resident_last_reply": summary([e.seen_last for e in answers]),
            "bot_last_reply_by_message": {
                text: summary([e.last for e in answers if e.text == text]) for text in texts
            },
            "fake_telegram_round_trip": summary(busy_trips),
            "fake_telegram_round_trip_idle": summary(idle_trips),
            "fake_telegram_listen_backlog": FAKE_LISTEN_BACKLOG,
            "tcp_during_run": tcp,
            "bot_run_cpu": bot_cpu,
            "rasa_run_cpu": rasa_cpu,
            "bot_messages_per_second": round(len(answers) / bot_cpu["wall_seconds"], 1),
            "rasa_parses_per_second": round(len(parses) / rasa_cpu["wall_seconds"], 1),
            "answers_differing_from_one_at_a_time": mismatches,
            "reply_timeouts": concurrent.failures,
            "rasa_failures": parses.count(None),
        },
    }


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def _row(name: str, stats: JSON) -> str:
    cells = [f"{stats.get(k, float('nan')):.0f}" for k in ("p50", "p95", "max")]
    return f"| {name} | {stats.get('n', 0)} | " + " | ".join(cells) + " |"


def _cpu(report: JSON, name: str) -> str:
    item = report.get(name)
    if not item:
        return f"{name} n/a"
    return (
        f"{name} {item['cpu_ms_per_message']:.0f} ms ({item['machine_share']:.0%} of the machine)"
    )


def _share(report: JSON) -> str:
    share = report.get("other_processes_machine_share")
    return "n/a" if share is None else f"{share:.0%}"


def markdown(result: JSON) -> str:
    """The short human table for bench/results/reply_latency.md (also printed)."""
    seq, conc, n = result["one_at_a_time"], result["concurrent"], result["residents"]
    gap_last, gap_first = (
        conc["overhead_percentile_gap_last"],
        conc["overhead_percentile_gap_first"],
    )
    seq_gap = seq["overhead_percentile_gap_last"]
    bot_cpu, rasa_cpu = conc["bot_run_cpu"], conc["rasa_run_cpu"]
    return "\n".join(
        [
            f"# Reply latency ({result['date']})",
            "",
            f"Commit `{result['git_commit']}`, {result['cpu_count']} CPUs, {result['database']}, "
            f"{n} residents × {result['messages_per_resident']} messages; 1-minute load average "
            f"before the run {result['load_average_1min']['before']:.1f}. Milliseconds, from "
            "sending a message until the bot's reply reaches (fake) Telegram.",
            "",
            "| measurement | n | p50 | p95 | max |",
            "|---|---:|---:|---:|---:|",
            _row(f"bot, first reply message, {n} at once", conc["bot_first_reply"]),
            _row(f"bot, last reply message, {n} at once", conc["bot_last_reply"]),
            _row(f"raw Rasa parse, {n} at once", conc["rasa_parse"]),
            _row("bot, first reply message, one at a time", seq["bot_first_reply"]),
            _row("bot, last reply message, one at a time", seq["bot_last_reply"]),
            _row("raw Rasa parse, one at a time", seq["rasa_parse"]),
            _row(
                "bot overhead (last reply − parse, same text), one at a time",
                seq["overhead_paired_last"],
            ),
            _row(
                f"fake Telegram round trip (harness), {n} at once", conc["fake_telegram_round_trip"]
            ),
            _row("fake Telegram round trip (harness), idle", conc["fake_telegram_round_trip_idle"]),
            "",
            "Bot overhead beyond the Rasa parse, as percentile gaps (bot − raw Rasa):",
            "",
            f"- {n} at once, last reply: p50 {gap_last['p50']:.0f}, p95 {gap_last['p95']:.0f}",
            f"- {n} at once, first reply: p50 {gap_first['p50']:.0f}, p95 {gap_first['p95']:.0f}",
            f"- one at a time, last reply: p50 {seq_gap['p50']:.0f}, p95 {seq_gap['p95']:.0f}",
            "",
            f"With {n} at once (each resident pausing {PAUSE} s after an answer): bot "
            f"{conc['bot_messages_per_second']} messages/s, raw Rasa "
            f"{conc['rasa_parses_per_second']} parses/s. CPU per message through the bot: "
            f"{_cpu(bot_cpu, 'bot')}, {_cpu(bot_cpu, 'rasa')}, {_cpu(bot_cpu, 'harness')}; "
            f"per raw parse: {_cpu(rasa_cpu, 'rasa')}, {_cpu(rasa_cpu, 'harness')}. Other "
            f"processes on the machine used {_share(bot_cpu)} of it during the bot run and "
            f"{_share(rasa_cpu)} during the raw Rasa run.",
            "",
            f"Answers differing from the one-at-a-time answers: "
            f"{conc['answers_differing_from_one_at_a_time']}; reply timeouts: "
            f"{len(conc['reply_timeouts'])}; bot 'NLU unavailable' warnings: "
            f"{result['bot_log']['nlu_unavailable_warnings']}; bot errors: "
            f"{result['bot_log']['errors']}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reply_latency", description=__doc__)
    parser.add_argument("--residents", type=int, default=50, help="residents talking at once")
    parser.add_argument("--rounds", type=int, default=5, help="residents in the one-at-a-time run")
    parser.add_argument(
        "--database-url",
        help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench "
        "(default: SQLite in a temporary folder)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder with the logs")
    parser.add_argument("--verbose", action="store_true", help="show the calibration answers")
    args = parser.parse_args(argv)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="wegwijs-bench-"))
    try:
        figures = run(args, workdir)
    finally:
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "residents": args.residents,
        "messages_per_resident": len(conversation()),
        "one_at_a_time_residents": args.rounds,
        "pause_after_answer_seconds": PAUSE,
        "bot_rasa_timeout_seconds": Settings().rasa_timeout_seconds,
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "unit": "ms",
        **figures,
        "duration_seconds": round(time.perf_counter() - started, 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "reply_latency.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    )
    table = markdown(result)
    (args.results / "reply_latency.md").write_text(table)
    print(table)
    if result["concurrent"]["reply_timeouts"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
