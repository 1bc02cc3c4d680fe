"""`wegwijs nlu ...` and `wegwijs knowledge ...`: what an admin does on the web pages, from a
terminal (set-up scripts, moving knowledge between a test and a production install)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import KnowledgeError, store
from bot.knowledge.bundle import Change, read_bundle, write_bundle
from bot.learning import evaluation, rasa_commands, retraining, training_data
from bot.learning.learning_curve import learning_curve
from bot.nlu.language import guess_language
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.knowledge_tables import Intent, NluModel
from wegwijs.assembly import database, shipped_model

REPORTS = PROJECT_ROOT / "reports"
CLI_ACTOR = "wegwijs (command line)"


def add_arguments(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nlu = commands.add_parser("nlu", help="train, roll back, serve or test the NLU model")
    nlu.add_argument(
        "action",
        choices=[
            "prepare",
            "train",
            "rollback",
            "serve",
            "test",
            "cross-validate",
            "learning-curve",
        ],
    )
    nlu.add_argument(
        "--accept-worse",
        action="store_true",
        help="swap the new model in even if it scores lower on the blind set",
    )
    nlu.add_argument(
        "--file",
        type=Path,
        help="with test: evaluate on this Rasa NLU file instead of the blind set",
    )
    nlu.add_argument(
        "--report-dir",
        type=Path,
        default=REPORTS,
        help="with test and learning-curve: where the reports go (reports/)",
    )
    knowledge = commands.add_parser("knowledge", help="export or import all knowledge as YAML")
    knowledge.add_argument("action", choices=["export", "import"])
    knowledge.add_argument("directory", type=Path)
    knowledge.add_argument("--yes", action="store_true", help="import without asking")
    knowledge.add_argument(
        "--dry-run", action="store_true", help="only report what an import would change"
    )


# -- nlu ------------------------------------------------------------------------------------


def nlu(settings: Settings, args: argparse.Namespace) -> None:
    if args.action == "prepare":
        _prepare(settings)
        return
    sessions = database(settings)
    if args.action == "train":
        _train(settings, sessions, args.accept_worse)
    elif args.action == "rollback":
        with sessions() as session:
            target = retraining.rollback_target(settings, session)
            name = target.file_name if target else None
        if target is None:
            raise SystemExit("There is no earlier model to go back to.")
        retraining.activate(settings, sessions, target.id, actor=CLI_ACTOR, action="rolled back")
        print(f"Live model is now {name}.")
    elif args.action == "serve":
        model = retraining.model_to_serve(settings, sessions)
        sys.exit(
            subprocess.call(
                rasa_commands.serve_command(settings, model),
                env=rasa_commands.environment(settings),
            )
        )
    elif args.action == "test":
        _test(settings, sessions, args.file or settings.evaluation_file, args.report_dir)
    elif args.action == "learning-curve":
        _learning_curve(settings, sessions, args.report_dir)
    else:
        _cross_validate(settings, sessions)


def _test(settings: Settings, sessions: sessionmaker[Session], file: Path, out: Path) -> None:
    """The live model, as residents get it, on the blind set (or another file):
    <out>/nlu-<file name>.json with every figure and error, and the summary printed."""
    model = retraining.model_to_serve(settings, sessions)
    with sessions() as session:
        knowledge = store.load_knowledge(session)
    served = settings.rasa_url if rasa_commands.serves(settings, model) else None
    if served is None:
        print("Starting a Rasa server with the live model for the evaluation...", flush=True)
    figures = evaluation.evaluate_model(
        settings,
        knowledge,
        model,
        evaluation.read_cases(file),
        settings.data_dir / "rasa-evaluation.log",
        served,
    )
    figures = {"model": model.name, "file": file.name, **figures}
    name = f"nlu-{file.stem}"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    (out / f"{name}.md").write_text(evaluation.summary(figures) + "\n")
    print(evaluation.summary(figures))
    print(f"\n{len(figures['errors'])} errors; all figures in {out / name}.json")


def _learning_curve(settings: Settings, sessions: sessionmaker[Session], out: Path) -> None:
    """Blind-set figures of models trained on a quarter, half, three quarters and all of
    the training data → <out>/nlu-learning-curve.json and .md."""
    with sessions() as session:
        bundle = store.read(session)
    rows = learning_curve(
        settings,
        bundle,
        evaluation.read_cases(settings.evaluation_file),
        settings.data_dir / "training" / "learning-curve",
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "nlu-learning-curve.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["| share | examples | accuracy | multi-need exact | single as multi |"]
    lines.append("| ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        lines.append(
            f"| {row['share']:.0%} | {row['examples']} | {row['accuracy']:.3f} "
            f"| {row['multi_need_exact_match']:.3f} | {row['single_read_as_multi']:.3f} |"
        )
    (out / "nlu-learning-curve.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _prepare(settings: Settings) -> None:
    """Train the model of the shipped knowledge unless the cache has it: what a first start
    serves, and what the tests use (set-up runs this; no database is involved)."""
    path = shipped_model(settings)
    if path.exists():
        print(f"NLU model is ready: {path}")
        return
    print("Training the NLU model of the shipped knowledge (a few minutes, once)...", flush=True)
    rasa_commands.train(
        settings,
        settings.data_dir / "training" / "shipped",
        path,
        lambda epoch, epochs: print(f"\r  round {epoch} of {epochs}", end="", flush=True),
    )
    print(f"\nNLU model is ready: {path}")


def _train(settings: Settings, sessions: sessionmaker[Session], accept_worse: bool) -> None:
    """The first model is simply trained; after that a run is validated, tested on the
    blind set and swapped in (into a running Rasa too) only if it is not worse."""
    with sessions() as session:
        live = retraining.live_model(session)
        bundle = store.read(session)
    if live is None or retraining.model_file(settings, live) is None:
        path = retraining.model_to_serve(settings, sessions)
        print(f"NLU model ready: {path}")
        return
    current = training_data.render(bundle, settings, settings.data_dir / "training" / "check")
    if live.data_hash == current:
        print(f"NLU model is up to date: {live.file_name}")
        return
    try:
        run_id = retraining.start(sessions, CLI_ACTOR)
    except retraining.TrainingBusy as error:
        raise SystemExit(str(error)) from error

    def show(phase: str, percent: int) -> None:
        bar = "#" * (percent // 5)
        print(f"\r[{bar:<20}] {percent:3d}%  {phase[:70]:<70}", end="", flush=True)

    retraining.Run(
        settings, sessions, run_id, accept_worse=accept_worse, on_progress=show
    ).execute()
    print()
    with sessions() as session:
        run = session.get(NluModel, run_id)
        assert run is not None
        print(f"Result: {run.phase}")
        if run.intent_f1 is not None:
            print(f"  intent F1 {run.intent_f1:.4f} (live model: {run.baseline_intent_f1})")
        if run.status != "live":
            raise SystemExit(run.error or run.phase)


def _cross_validate(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """5-fold cross-validation of the database's training data; the F1 per intent is kept
    for the admins' intent list."""
    project = settings.data_dir / "training" / "cross-validation"
    with sessions() as session:
        training_data.render(store.read(session), settings, project)
    out = REPORTS / "nlu-cross-validation"
    rasa_commands.cross_validate(settings, project, out)
    per_intent = rasa_commands.intent_scores(out)
    with sessions.begin() as session:
        for intent in session.scalars(select(Intent)):
            intent.cv_f1 = per_intent.get(intent.name)
            intent.cv_measured_at = datetime.now(UTC)
    _write_scores(REPORTS / "nlu-cross-validation.json", rasa_commands.report_scores(out))


def _write_scores(path: Path, scores: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scores, indent=2) + "\n")
    print(json.dumps(scores, indent=2))


# -- knowledge --------------------------------------------------------------------------------


def knowledge(settings: Settings, args: argparse.Namespace) -> None:
    sessions = database(settings)
    directory: Path = args.directory
    if args.action == "export":
        with sessions() as session:
            write_bundle(store.read(session), directory)
        print(f"Exported the knowledge to {directory}/knowledge and {directory}/rasa_project.")
        return
    try:
        incoming = read_bundle(directory / "knowledge", directory / "rasa_project", guess_language)
        incoming.check()
    except KnowledgeError as error:
        raise SystemExit(f"Not imported: {error}") from error
    with sessions() as session:
        found = store.changes_from(session, incoming)
    if not found:
        print("Nothing to change: the database already holds exactly this knowledge.")
        return
    print(describe(found))
    if args.dry_run:
        return
    if not args.yes and input("Apply these changes? [y/N] ").strip().lower() not in ("y", "j"):
        print("Nothing changed.")
        return
    try:
        with sessions.begin() as session:
            store.apply(session, incoming, CLI_ACTOR)
    except KnowledgeError as error:
        raise SystemExit(f"Not imported: {error}") from error
    print(f"Imported {len(found)} changes. Retrain (`wegwijs nlu train`) to teach the model.")


def describe(found: list[Change]) -> str:
    """A short report: counts per subject and action, then the items themselves."""
    counts = Counter((change.subject, change.action) for change in found)
    lines = [f"{n:5d} {subject} {action}" for (subject, action), n in sorted(counts.items())]
    lines.append("")
    lines.extend(f"  {change.action:<8} {change.subject:<10} {change.key}" for change in found)
    return "\n".join(lines)
