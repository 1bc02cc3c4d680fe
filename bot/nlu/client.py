"""Async HTTP client for the Rasa server (`POST /model/parse`, `PUT /model`).

Rasa runs as its own process in its own Python; the app only speaks HTTP to it. When Rasa is
down the client fails fast for a short while, so residents don't wait on every message.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from bot.nlu.interpretation import Interpretation

COOL_DOWN_SECONDS = 10.0


class NLUUnavailable(RuntimeError):
    """Rasa could not be reached or gave no usable answer."""


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 3.0) -> None:
        self.url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, params={"token": token}
        )
        self._unavailable_until = 0.0

    async def parse(self, text: str) -> Interpretation:
        """Interpret `text`; raises NLUUnavailable instead of hanging when Rasa is down."""
        if time.monotonic() < self._unavailable_until:
            raise NLUUnavailable("Rasa was unreachable a moment ago")
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(2),
                wait=wait_fixed(0.2),
                retry=retry_if_exception_type(httpx.TransportError),
                reraise=True,
            ):
                with attempt:
                    response = await self._client.post("/model/parse", json={"text": text})
            response.raise_for_status()
            return Interpretation.from_rasa(response.json())
        except (httpx.HTTPError, ValueError, KeyError) as error:
            self._unavailable_until = time.monotonic() + COOL_DOWN_SECONDS
            raise NLUUnavailable(str(error)) from error

    async def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            response = await self._client.get("/status")
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def load_model(self, model_path: Path) -> None:
        """Swap the live model; Rasa keeps answering with the old one until the new is loaded."""
        response = await self._client.put(
            "/model", json={"model_file": str(model_path)}, timeout=120
        )
        response.raise_for_status()
        self._unavailable_until = 0.0

    async def aclose(self) -> None:
        await self._client.aclose()
