"""Async HTTP client for the Rasa server (`POST /model/parse`, `PUT /model`).

Rasa runs as its own process in its own Python; the app only speaks HTTP to it. When Rasa is
down the client fails fast for a short while, so residents don't wait on every message.
"""

from __future__ import annotations

import time

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from bot.nlu.interpretation import Interpretation

COOL_DOWN_SECONDS = 10.0


class NLUUnavailable(RuntimeError):
    """Rasa could not be reached or gave no usable answer."""


class RasaClient:
    def __init__(
        self, base_url: str, token: str, timeout: float = 3.0, busy_timeout: float = 120.0
    ) -> None:
        self.url = base_url.rstrip("/")
        self.busy_timeout = busy_timeout
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
                retry=retry_if_exception_type((httpx.ConnectError, httpx.RemoteProtocolError)),
                reraise=True,
            ):
                with attempt:
                    response = await self._post_patiently(text)
            response.raise_for_status()
            return Interpretation.from_rasa(response.json())
        except (httpx.HTTPError, ValueError, KeyError) as error:
            self._unavailable_until = time.monotonic() + COOL_DOWN_SECONDS
            raise NLUUnavailable(str(error)) from error

    async def _post_patiently(self, text: str) -> httpx.Response:
        """Rasa took the request but did not answer in time: it is busy, most likely
        loading a new model (`PUT /model` holds its event loop), so wait for it once."""
        try:
            return await self._client.post("/model/parse", json={"text": text})
        except httpx.ReadTimeout:
            return await self._client.post(
                "/model/parse", json={"text": text}, timeout=self.busy_timeout
            )

    async def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            response = await self._client.get("/status")
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        await self._client.aclose()
