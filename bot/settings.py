"""One settings object for the whole app, read from the environment and an optional `.env`."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'wegwijs.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = "wegwijs-local-token"
    rasa_timeout_seconds: float = 3.0
    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    rasa_project_dir: Path = PROJECT_ROOT / "rasa_project"
    # Made by `make` as links into the cache outside the clone (see scripts/setup.sh).
    rasa_executable: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    rasa_model_dir: Path = PROJECT_ROOT / ".models"
    default_language: str = "nl"
    max_message_length: int = 1000


@lru_cache
def get_settings() -> Settings:
    """Read the settings once; tests clear the cache when they change the environment."""
    return Settings()
