"""One settings object for the whole app, read from the environment and an optional `.env`."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Local state: the SQLite database, logs and the generated session key.
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'wegwijs.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = "wegwijs-local-token"
    rasa_timeout_seconds: float = 3.0
    # Rasa servers behind a proxy at rasa_url (docker-compose.scaled.yml), as a JSON list:
    # each loads a new model in turn, so the proxy always has one that answers. Empty: the
    # server at rasa_url is the only one.
    rasa_replica_urls: list[str] = []
    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    rasa_project_dir: Path = PROJECT_ROOT / "rasa_project"
    # Made by `make` as links into the cache outside the clone (see scripts/setup.sh).
    rasa_executable: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    rasa_model_dir: Path = PROJECT_ROOT / ".models"
    # The blind evaluation set: messages written without seeing the training data. A new
    # model must score on it at least as well as the live one.
    evaluation_file: Path = PROJECT_ROOT / "rasa_project" / "tests" / "blind.yml"
    # How much blind-set intent F1 (0..1) a retrained model may lose and still be swapped in.
    nlu_max_f1_drop: float = 0.0
    # A parse that got no answer in rasa_timeout_seconds is tried once more with this
    # patience: Rasa answers nothing while it loads a new model (PUT /model), then catches up.
    rasa_busy_timeout_seconds: float = 120.0
    # Starting Rasa waits this long at most while its process lives: loading takes 25 s on
    # an idle machine and minutes on a busy one.
    rasa_start_timeout_seconds: float = 900.0
    # The language to answer in when neither the message nor the resident's Telegram
    # language tells (a first "hoi" or "/start").
    default_language: Literal["nl", "en"] = "nl"
    max_message_length: int = 1000
    # Load the masking library (deduce: seconds and 1 GB) in the background at start, so the
    # first message for the NLU inbox does not wait for it. Processes that never mask (a
    # delivery-only test) switch it off and start sooner; masking then loads when needed.
    masking_warm_up: bool = True
    # A message goes to the NLU inbox when the model's two best intents are closer than this
    # (or it fell back), for an admin to label.
    nlu_inbox_margin: float = 0.2
    # The officials' web app.
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # Signs the session cookie. Empty: a random key is made once and kept in data/secret_key.
    secret_key: str = ""
    # Send the session cookie over HTTPS only; switch on behind TLS in production.
    session_cookie_secure: bool = False
    session_hours: int = 8
    # Delivery of residents' messages and department webhooks (bot/delivery).
    delivery_retry_seconds: list[float] = [60, 300, 900, 3600, 10800, 21600, 43200, 86400, 86400]
    delivery_lease_seconds: float = 60.0
    delivery_poll_seconds: float = 1.0
    # Telegram webhook mode instead of long polling (production behind HTTPS).
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_webhook_port: int = 8443


@lru_cache
def get_settings() -> Settings:
    """Read the settings once; tests clear the cache when they change the environment."""
    return Settings()
