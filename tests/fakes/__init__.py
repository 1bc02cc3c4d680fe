"""Test doubles for external services the bot talks to (Telegram cannot be reached in CI)."""

from .telegram_api import ApiError, FakeTelegram

__all__ = ["ApiError", "FakeTelegram"]
