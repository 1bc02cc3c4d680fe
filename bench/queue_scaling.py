"""How fast the officials' queue page and GET /api/requests stay as the requests pile up.

A fresh PostgreSQL database is migrated, seeded from the YAML knowledge and filled with
realistic requests in steps (by default 1,000 → 10,000 → 100,000; each step inserts the
difference): residents with names (one per three requests), single and multi-need requests
routed by the real routing rules (so multi-need → initiatievenloket as lead, the other
departments as co-departments through RequestPart rows), statuses that are mostly open,
due dates from 30 days ago to 40 days ahead, the answers the bot would store, and a few
history events per request.  After every step: VACUUM ANALYZE, a fresh `python -m wegwijs
web` process, a browser-like login (CSRF token, session cookie) and a Bearer token, then
warm-up rounds and `--samples` timed rounds of sequential requests; each round visits every
endpoint once, so a burst of load from other work on the machine hits all of them alike.
GET /login, which runs no query, is the baseline.  The queue page's queries are also timed
in-process, with PostgreSQL's JIT as set and off, to show which of them grows and why.

Run: ``.venv/bin/python -m bench.queue_scaling`` (about 4 minutes on 2 cores).  Results go to
``bench/results/queue_scaling.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bench.reply_latency import git_commit, summary
from bot import accounts
from bot.knowledge import NEED_ORDER, Knowledge, Question
from bot.learning.rasa_commands import free_port
from bot.queue import queries
from bot.queue.queries import QueueFilter
from bot.queue.workflow import Status
from bot.routing.rules import RequestFacts, route
from bot.settings import PROJECT_ROOT, Settings
from bot.storage import repositories
from bot.storage.models import Request, RequestEvent, RequestPart, Resident, User
from wegwijs.assembly import database, default_bundle

JSON = dict[str, Any]
RESULTS = PROJECT_ROOT / "bench" / "results"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SIZES = (1_000, 10_000, 100_000)
# 100 took over 8 minutes on 2 busy cores, the page needing most of a second at 100,000.
SAMPLES = 50
PASSWORD = "bench-password-123"
BATCH = 5_000  # rows per executemany: big enough to be quick, small enough for memory
WARM_UP_ROUNDS = 5
QUERY_REPEATS = 10  # per query of the queue page, timed in-process
APP_START_TIMEOUT = 60.0  # s
SEARCH = "bakk"  # a surname fragment, as an official types it (Bakker, Bakkum)

FIRST_NAMES = (  # noqa: SIM905 - a list of names reads better as one string
    "Anna Bram Daan Emma Eva Fatima Fleur Hanna Iris Jan Jesse Julia Kees Lars Lisa Lotte "
    "Luuk Mila Mohamed Noah Noor Olga Piet Priya Ruben Sanne Sem Sophie Tim Yusuf Zoë"
).split()
SURNAMES = (  # noqa: SIM905
    "Aydın,Bakker,Bakkum,Boer,Bos,Brouwer,de Boer,de Graaf,de Groot,de Jong,de Vries,Dekker,"
    "Dijkstra,El Amrani,Hendriks,Jansen,Janssen,Kok,Koster,Meijer,Mulder,Peters,Postma,Smit,"
    "van Beek,van Dam,van den Berg,van Dijk,van Leeuwen,Verhoeven,Visser,Vos,Willems,Yılmaz"
).split(",")
PURPOSES = (
    "Buurtbarbecue voor de straat",
    "Repair café",
    "Taalcafé voor nieuwe buren",
    "Jaarvergadering van de huurdersvereniging",
    "Kinderdisco in de herfstvakantie",
    "Schoonmaakactie in het park",
    "Koffieochtend voor ouderen",
    "Yogales in de buitenlucht",
)
ITEMS = (
    "20 dranghekken",
    "4 partytenten, 10 tafels",
    "30 stoelen en 6 statafels",
    "een geluidsinstallatie",
    "2 aanhangers en 15 afvalgrijpers",
)
INITIATIVES = (
    "Repair Café {n}",
    "Buurtmoestuin {n}",
    "Speeltuinvereniging {n}",
    "Straatfeest {n}",
    "Voedselbank {n}",
    "Kunstroute {n}",
)
ACTIVITIES = ("straatfeest", "braderie", "buitenconcert", "rommelmarkt", "sportdag")
STREETS = ("Marktplein", "Kerkstraat", "Stationsplein", "Parklaan", "Havenkade", "Dorpsstraat")
NOTES = ("Gebeld, komt terug.", "Ruimte is vrij op die datum.", "Overleg met de wijkregisseur.")
# Single needs are most requests; a fifth asks for more than one thing in one conversation.
SINGLE_NEEDS = {"room": 30, "tools": 20, "budget": 20, "permit": 10}
MULTI_SHARE = 0.2
# Mostly open, as a queue is; the closed ones are what an archive holds.
STATUS_WEIGHTS = {
    Status.NEW: 30,
    Status.IN_PROGRESS: 20,
    Status.WAITING_FOR_RESIDENT: 7,
    Status.REOPENED: 3,
    Status.DONE: 32,
    Status.DECLINED: 8,
}
# The allowed transitions (bot/queue/workflow.py) that lead from nieuw to each status.
PATHS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (),
    Status.IN_PROGRESS: (Status.IN_PROGRESS,),
    Status.WAITING_FOR_RESIDENT: (Status.IN_PROGRESS, Status.WAITING_FOR_RESIDENT),
    Status.DONE: (Status.IN_PROGRESS, Status.DONE),
    Status.DECLINED: (Status.DECLINED,),
    Status.REOPENED: (Status.IN_PROGRESS, Status.DONE, Status.REOPENED),
}


# --------------------------------------------------------------------------------------------
# The database and its contents
# --------------------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str, keep: bool) -> Iterator[str]:
    """A new database wegwijs_bench_<random>, dropped afterwards unless `keep`."""
    name = f"wegwijs_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"database {name} kept")
        else:
            with admin.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@dataclass
class Staff:
    """The officials who claim and handle the generated requests, and the two who measure."""

    handlers: dict[str, list[User]]  # department -> officials
    official: User  # of vastgoed, one of its handlers
    admin: User

    @classmethod
    def create(cls, session: Session) -> Staff:
        def add(username: str, role: str, departments: list[str]) -> User:
            return accounts.create_user(
                session, username, PASSWORD, role=role, departments=departments
            )

        handlers = {
            department.key: [
                add(f"{department.key}_{i}", "official", [department.key]) for i in (1, 2)
            ]
            for department in repositories.departments(session).values()
        }
        official = add("bench_vastgoed", "official", ["vastgoed"])
        handlers["vastgoed"].append(official)
        return cls(handlers, official, add("bench_admin", "admin", []))


class Population:
    """Generates residents, requests, parts and history rows the way the bot and the
    officials would have made them, deterministically from a seed."""

    def __init__(self, knowledge: Knowledge, session: Session, staff: Staff, seed: int) -> None:
        self.knowledge, self.staff, self.rng = knowledge, staff, random.Random(seed)
        self.rules = repositories.routing_rules(session)
        self.sla = {d.key: d.sla_days for d in repositories.departments(session).values()}
        self.fallback = repositories.fallback_department(session)
        self.now = datetime.now(UTC)
        self.residents = 0
        self.requests = 0

    def grow(self, engine: Engine, target: int) -> None:
        """Insert requests (and a resident per three of them) until there are `target`."""
        with engine.begin() as connection:
            new_residents = max(1, target // 3) - self.residents
            for batch in _batches(range(self.residents + 1, self.residents + new_residents + 1)):
                connection.execute(insert(Resident), [self._resident(i) for i in batch])
            self.residents += new_residents
            for batch in _batches(range(self.requests + 1, target + 1)):
                requests, parts, events = [], [], []
                for request_id in batch:
                    request, its_parts, its_events = self._request(request_id)
                    requests.append(request)
                    parts += its_parts
                    events += its_events
                connection.execute(insert(Request), requests)
                connection.execute(insert(RequestPart), parts)
                connection.execute(insert(RequestEvent), events)
            self.requests = target
            # Ids were given explicitly: move the sequences on, so the app can insert too.
            for table in ("residents", "requests", "request_parts", "request_events"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )

    def _resident(self, resident_id: int) -> JSON:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
        phone = self.rng.random() < 0.7
        return {
            "id": resident_id,
            "channel": "telegram" if self.rng.random() < 0.95 else "terminal",
            "external_id": str(500_000_000 + resident_id),
            "language": "nl" if self.rng.random() < 0.9 else "en",
            "name": f"{first} {last}",
            "phone": f"+316{self.rng.randrange(10**8):08d}" if phone else None,
            "email": (
                f"{first}.{last.replace(' ', '')}{resident_id}@example.nl".lower()
                if not phone or self.rng.random() < 0.4
                else None
            ),
            "created_at": self.now - timedelta(days=self.rng.uniform(0, 365)),
        }

    def _needs(self) -> list[str]:
        if self.rng.random() < MULTI_SHARE:
            chosen = self.rng.sample(NEED_ORDER, self.rng.choice((2, 2, 2, 3)))
        else:
            chosen = self.rng.choices(list(SINGLE_NEEDS), weights=list(SINGLE_NEEDS.values()))
        return sorted(chosen, key=NEED_ORDER.index)

    def _answer(self, question: Question, due: date, answers: JSON) -> Any:
        rng = self.rng
        match question.key:
            case "date" | "pickup_date":
                return (due + timedelta(days=rng.randint(3, 60))).isoformat()
            case "return_date":  # at most 14 days after the pick-up, as the bot checks
                pickup = date.fromisoformat(answers["pickup_date"])
                return (pickup + timedelta(days=rng.randint(1, 14))).isoformat()
            case "start_time":
                return f"{rng.randint(9, 16):02d}:{rng.choice(('00', '30'))}"
            case "end_time":
                return f"{rng.randint(17, 22):02d}:00"
            case "people":
                return rng.randint(5, 150)
            case "visitors":
                return rng.choice((50, 100, 250, 500, 2000))
            case "amount":
                return f"{rng.choice((150, 500, 750, 2500, 4800, 6000, 12500))}.00"
            case "neighbourhood":
                return rng.choice(question.choices).value
            case "purpose" | "spend_on":
                return rng.choice(PURPOSES)
            case "items":
                return rng.choice(ITEMS)
            case "initiative_name":
                return rng.choice(INITIATIVES).format(n=rng.choice(SURNAMES).split()[-1])
            case "activity":
                return rng.choice(ACTIVITIES)
            case "location":
                return rng.choice(STREETS)
        raise ValueError(f"no generator for the answer {question.key!r}")

    def _request(self, request_id: int) -> tuple[JSON, list[JSON], list[JSON]]:
        rng = self.rng
        needs = self._needs()
        due = self.now.date() + timedelta(days=rng.randint(-30, 40))
        answers: JSON = {}
        for question in self.knowledge.questions_for(needs):
            if question.key not in repositories.CONTACT_FIELDS:  # those are the resident's
                answers[question.key] = self._answer(question, due, answers)
        decision = route(
            self.rules,
            RequestFacts.from_answers(needs, answers),
            self.fallback,
            NEED_ORDER,
        )
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        sla_start = datetime.combine(
            due - timedelta(days=self.sla[decision.department] * 7 // 5),
            day_time(rng.randint(7, 22), rng.randint(0, 59)),
            UTC,
        )
        created = min(sla_start, self.now - timedelta(minutes=rng.randint(1, 600)))
        handlers = self.staff.handlers[decision.department]
        assignee = rng.choice(handlers) if status != Status.NEW or rng.random() < 0.1 else None
        actor = assignee or rng.choice(handlers)
        # What happened since, spread between the creation and now (never in the future).
        moment = iter(created + (self.now - created) * step / 6 for step in range(1, 6))
        events: list[JSON] = [
            _event(request_id, "created", None, created, new_value=decision.department)
        ]
        if assignee is not None:
            events.append(
                _event(request_id, "assigned", actor, next(moment), new_value=assignee.username)
            )
        old: Status = Status.NEW
        first_response = paused = closed = None
        for new in PATHS[status]:
            at = next(moment)
            if new == Status.WAITING_FOR_RESIDENT:
                events.append(_event(request_id, "message_out", actor, at, text="Welke tijd?"))
                paused = at
            first_response = first_response or at
            closed = at if new in (Status.DONE, Status.DECLINED) else None
            events.append(
                _event(request_id, "status", actor, at, old_value=old.value, new_value=new.value)
            )
            old = new
        if rng.random() < 0.2:
            events.append(_event(request_id, "note", actor, next(moment), text=rng.choice(NOTES)))
        request = {
            "id": request_id,
            "reference": f"WW-{created.year}-{request_id:06d}",
            "resident_id": rng.randint(1, self.residents),
            "department_key": decision.department,
            "needs": needs,
            "answers": answers,
            "status": status.value,
            "language": "nl",
            "is_handover": False,
            "routing_rule": decision.rule,
            # The bot's own normalisation, so related requests find each other here too.
            "initiative": repositories.initiative_key(answers.get("initiative_name")),
            "assignee_id": assignee.id if assignee else None,
            "created_at": created,
            "due_at": due,
            "paused_at": paused,
            "first_response_at": first_response,
            "closed_at": closed,
        }
        parts = [
            {"request_id": request_id, "need": need, "department_key": department}
            for need, department in decision.part_departments.items()
        ]
        return request, parts, events


def _event(
    request_id: int,
    kind: str,
    actor: User | None,
    at: datetime,
    *,
    old_value: str | None = None,
    new_value: str | None = None,
    text: str | None = None,
) -> JSON:
    return {
        "request_id": request_id,
        "kind": kind,
        "actor_id": actor.id if actor else None,
        "old_value": old_value,
        "new_value": new_value,
        "text": text,
        "created_at": at,
    }


def _batches(ids: range) -> Iterator[range]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def vacuum_analyze(url: str) -> None:
    """Fresh statistics and visibility maps, as autovacuum would have them after a while."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


# --------------------------------------------------------------------------------------------
# The app and its clients
# --------------------------------------------------------------------------------------------


@contextmanager
def running_app(database_url: str, workdir: Path) -> Iterator[str]:
    """`python -m wegwijs web` on a free port (Rasa deliberately unreachable); its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEB_PORT": str(port),
        "DATA_DIR": str(workdir / "data"),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
    }
    base = f"http://127.0.0.1:{port}"
    log_file = workdir / "app.log"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "wegwijs", "web"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + APP_START_TIMEOUT
        while not _database_ok(base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start:\n{log_file.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _database_ok(base: str) -> bool:
    """/healthz answers 503 without Rasa and the bot; the database part is what counts."""
    try:
        health = httpx.get(f"{base}/healthz", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return health.get("checks", {}).get("database", {}).get("status") == "ok"


def browser(base: str, username: str) -> httpx.Client:
    """A client logged in like a browser: the login form's CSRF token and session cookie."""
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login")
    form.raise_for_status()
    token = re.search(r'name="csrf_token"\s+value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("no csrf_token field on /login")
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token[1], "next": "/"},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login of {username} failed: {answer.status_code}")
    return client


def api_client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One thing an official does: `kind` page (GET /) or api (GET /api/requests); or the
    login form, which reads nothing from the database and so shows what the machine and
    the app cost without any query (the baseline)."""

    kind: str  # page, api, login
    user: str  # official, admin: whose client (session cookie or token) asks
    filters: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        if self.kind == "login":
            return "GET /login, no query (baseline)"
        what = "queue page" if self.kind == "page" else "GET /api/requests"
        shown = " ".join(f"{key}={value}" for key, value in self.filters) or "first page"
        return f"{what}, {self.user}, {shown}"

    def path(self) -> str:
        base = {"page": "/", "api": "/api/requests", "login": "/login"}[self.kind]
        return str(httpx.URL(base, params=dict(self.filters)))

    def client(self) -> tuple[str, str]:
        return ("page" if self.kind == "login" else self.kind), self.user


SEARCHED = (("q", SEARCH),)
OVERDUE = (("overdue", "true"),)
ENDPOINTS = (
    Endpoint("page", "official"),
    Endpoint("page", "admin"),
    Endpoint("page", "official", SEARCHED),
    Endpoint("page", "official", OVERDUE),
    Endpoint("api", "official"),
    Endpoint("api", "admin"),
    Endpoint("api", "official", SEARCHED),
    Endpoint("login", "official"),
)


def check(clients: dict[tuple[str, str], httpx.Client], endpoint: Endpoint) -> JSON:
    """How many requests match, from the API with the same user and filters; and the page
    must show the API's first request, so both measure the same work."""
    answer = clients[endpoint.client()].get(endpoint.path())
    answer.raise_for_status()
    facts: JSON = {"bytes": len(answer.content)}
    if endpoint.kind == "login":
        return facts
    twin = Endpoint("api", endpoint.user, endpoint.filters).path()
    listed = clients["api", endpoint.user].get(twin).json()
    first = listed["items"][0]["reference"] if listed["items"] else None
    if endpoint.kind == "page" and first and first not in answer.text:
        raise RuntimeError(f"{endpoint.name}: the first request {first} is not on the page")
    return {**facts, "matching": listed["total"]}


def measure(
    clients: dict[tuple[str, str], httpx.Client], samples: int
) -> tuple[dict[str, JSON], JSON]:
    """Check every endpoint once, then time `samples` rounds over all of them."""
    checks = {endpoint.name: check(clients, endpoint) for endpoint in ENDPOINTS}
    timings: dict[str, list[float]] = {endpoint.name: [] for endpoint in ENDPOINTS}
    load = [os.getloadavg()[0]]
    for round_number in range(WARM_UP_ROUNDS + samples):
        for endpoint in ENDPOINTS:
            client = clients[endpoint.client()]
            started = time.perf_counter()
            answer = client.get(endpoint.path())
            elapsed = time.perf_counter() - started
            answer.raise_for_status()
            if round_number >= WARM_UP_ROUNDS:
                timings[endpoint.name].append(elapsed)
    load.append(os.getloadavg()[0])
    figures = {name: {**summary(values), **checks[name]} for name, values in timings.items()}
    return figures, {"before_measuring": load[0], "after": load[1]}


def visible_rows(session: Session, user: User) -> JSON:
    """What the user's queue holds: all requests they may see, and the open ones."""
    today = date.today()
    counts = queries.counts(session, user, today)
    everything = session.scalar(select(func.count()).where(queries.visible_to(user)))
    return {"all": everything, "open": counts["open"], "overdue": counts["overdue"]}


# The queries behind the queue page (web/queue.py), as the page calls them.
PAGE_QUERIES: dict[str, Callable[[Session, User, date], object]] = {
    "queue(), first page": lambda s, u, today: queries.queue(s, u, QueueFilter(), today),
    f"queue(), q={SEARCH}": lambda s, u, today: queries.queue(
        s, u, QueueFilter(search=SEARCH), today
    ),
    "counts()": queries.counts,
}


def query_times(sessions: sessionmaker[Session], users: dict[str, User], repeats: int) -> JSON:
    """Each query of the queue page timed in this process, with the server's JIT setting and
    with JIT off, under the same load: which query makes the page slow, and what JIT
    compilation adds to it."""
    today = date.today()
    result: JSON = {}
    for jit in ("as set", "off"):
        with sessions() as session:
            if jit == "off":
                session.execute(text("SET LOCAL jit = off"))  # this transaction only
            for name, user in users.items():
                user = session.merge(user)
                for label, query in PAGE_QUERIES.items():
                    times = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        query(session, user, today)
                        times.append(time.perf_counter() - started)
                    result.setdefault(f"{name}: {label}", {})[f"jit {jit}"] = summary(times)
    return result


def database_facts(session: Session) -> JSON:
    rows = {
        table: session.scalar(text(f"SELECT count(*) FROM {table}"))
        for table in ("residents", "requests", "request_parts", "request_events")
    }
    size = session.scalar(text("SELECT pg_database_size(current_database())"))
    return {"rows": rows, "size_mb": round((size or 0) / 2**20, 1)}


@dataclass
class Bench:
    """The database, its contents and the measuring users, kept from one step to the next."""

    url: str
    workdir: Path
    sessions: sessionmaker[Session]
    population: Population
    tokens: dict[str, str]  # official, admin -> API token
    samples: int

    def step(self, size: int) -> JSON:
        """Grow to `size` requests, then measure a freshly started app."""
        load_at_start = os.getloadavg()[0]
        started = time.perf_counter()
        self.population.grow(self.sessions.kw["bind"], size)
        inserted = time.perf_counter() - started
        vacuum_analyze(self.url)
        vacuumed = time.perf_counter() - started - inserted
        staff = self.population.staff
        with self.sessions() as session:
            facts = database_facts(session)
            users = {"official": session.merge(staff.official), "admin": session.merge(staff.admin)}
            visible = {name: visible_rows(session, user) for name, user in users.items()}
        page_queries = query_times(self.sessions, users, QUERY_REPEATS)
        with running_app(self.url, self.workdir) as base:
            clients: dict[tuple[str, str], httpx.Client] = {}
            for name, user in users.items():
                clients["page", name] = browser(base, user.username)
                clients["api", name] = api_client(base, self.tokens[name])
            try:
                endpoints, load = measure(clients, self.samples)
            finally:
                for client in clients.values():
                    client.close()
        print(f"{size:,} requests, p50 in ms:", flush=True)
        for name, figures in endpoints.items():
            print(f"  {name}: {figures['p50']:.0f}", flush=True)
        return {
            "requests": size,
            "insert_seconds": round(inserted, 1),
            "vacuum_analyze_seconds": round(vacuumed, 1),
            "database": facts,
            "visible": visible,
            "load_average_1min": {"at_start": load_at_start, **load},
            "endpoints": endpoints,
            "page_queries": page_queries,
        }


def run(args: argparse.Namespace, workdir: Path) -> JSON:
    settings = Settings()
    bundle = default_bundle(settings)
    knowledge = bundle.knowledge()
    with fresh_database(args.postgres, args.keep) as url:
        sessions = database(settings.model_copy(update={"database_url": url}))
        with sessions.begin() as session:
            staff = Staff.create(session)
            tokens = {
                "official": accounts.create_token(session, staff.official),
                "admin": accounts.create_token(session, staff.admin),
            }
            population = Population(knowledge, session, staff, args.seed)
        with sessions() as session:
            # The harness connects with the app's environment, PGOPTIONS included.
            settings = {
                name: session.scalar(text(f"SHOW {name}"))
                for name in ("server_version", "jit", "shared_buffers", "work_mem")
            }
        bench = Bench(url, workdir, sessions, population, tokens, args.samples)
        steps = [bench.step(size) for size in sorted(args.sizes)]
        sessions.kw["bind"].dispose()
    return {
        "postgresql": settings.pop("server_version"),
        "postgresql_settings": {**settings, "PGOPTIONS": os.environ.get("PGOPTIONS", "")},
        "steps": steps,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def markdown(result: JSON) -> str:
    """The table for bench/results/queue_scaling.md and the README: endpoint × size."""
    steps = result["steps"]

    def row(label: str, cell: Callable[[JSON], str]) -> str:
        return f"| {label} | " + " | ".join(cell(step) for step in steps) + " |"

    def timing(step: JSON, endpoint: Endpoint) -> str:
        figures = step["endpoints"][endpoint.name]
        return f"{figures['p50']:.0f} / {figures['p95']:.0f}"

    def seen(step: JSON, user: str) -> str:
        return f"{step['visible'][user]['all']:,} / {step['visible'][user]['open']:,}"

    def matching(filters: tuple[tuple[str, str], ...], step: JSON) -> str:
        return f"{step['endpoints'][Endpoint('page', 'official', filters).name]['matching']:,}"

    def query(name: str, step: JSON) -> str:
        figures = step["page_queries"][name]
        return f"{figures['jit as set']['p50']:.0f} / {figures['jit off']['p50']:.0f}"

    def load(step: JSON) -> str:
        averages = step["load_average_1min"]
        return f"{averages['before_measuring']:.1f} / {averages['after']:.1f}"

    pg_settings = ", ".join(f"{k} {v}" for k, v in result["postgresql_settings"].items() if v)
    header = row("requests in the database", lambda step: f"{step['requests']:,}")
    rule = "|---|" + "---:|" * len(steps)
    return "\n".join(
        [
            f"# Queue scaling ({result['date']})",
            "",
            f"Commit `{result['git_commit']}`, {result['cpu']} × {result['cpu_count']}, "
            f"PostgreSQL {result['postgresql']} ({pg_settings}). Milliseconds per request "
            f"as the client sees it, p50 / p95 of {result['samples']} sequential requests per "
            f"endpoint after {result['warm_up_rounds']} warm-up rounds; a page or API page has "
            "50 rows.",
            "",
            header,
            rule,
            *(row(endpoint.name, partial(timing, endpoint=endpoint)) for endpoint in ENDPOINTS),
            "",
            header,
            rule,
            row("official of vastgoed sees (all / open)", partial(seen, user="official")),
            row("admin sees (all / open)", partial(seen, user="admin")),
            row(f"official's open requests matching q={SEARCH}", partial(matching, SEARCHED)),
            row("official's open requests overdue", partial(matching, OVERDUE)),
            row("database size (MB)", lambda step: f"{step['database']['size_mb']:,.0f}"),
            row("1-min load average (before measuring / after)", load),
            "",
            f"The machine has {result['cpu_count']} cores; a load average above that means "
            "other work competed for the CPU during the step.",
            "",
            "The queue page's queries (bot/queue/queries.py), each timed in-process: p50 ms of "
            f"{QUERY_REPEATS} runs with PostgreSQL's JIT as set / with JIT off.",
            "",
            header,
            rule,
            *(row(name, partial(query, name)) for name in steps[0]["page_queries"]),
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queue_scaling", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=lambda value: [int(part) for part in value.split(",")],
        default=list(SIZES),
        help="numbers of requests, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=SAMPLES,
        help=f"timed requests per endpoint and size (default {SAMPLES})",
    )
    parser.add_argument("--postgres", default=ADMIN_URL, help="where to create the database")
    parser.add_argument("--seed", type=int, default=3, help="seed of the generated requests")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with scratch_folder(args.keep) as workdir:
        figures = run(args, workdir)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "samples": args.samples,
        "warm_up_rounds": WARM_UP_ROUNDS,
        "search": SEARCH,
        "unit": "ms",
        **figures,
        "duration_seconds": round(time.perf_counter() - started, 1),
    }
    print(save(result, args.results))


@contextmanager
def scratch_folder(keep: bool) -> Iterator[Path]:
    """A temporary folder for the app's data and log; kept (and named) with --keep."""
    folder = Path(tempfile.mkdtemp(prefix="wegwijs-bench-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"app data and log kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def save(result: JSON, folder: Path) -> str:
    """Write queue_scaling.json (every figure) and .md (the table); return the table."""
    folder.mkdir(parents=True, exist_ok=True)
    table = markdown(result)
    (folder / "queue_scaling.md").write_text(table)
    figures = json.dumps(result, indent=2, ensure_ascii=False)
    (folder / "queue_scaling.json").write_text(figures + "\n")
    return table


if __name__ == "__main__":
    main()
