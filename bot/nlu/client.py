"""Async HTTP client for the Rasa server (`POST /model/parse`, `PUT /model`).

Rasa runs as its own process in its own Python; the app only speaks HTTP to it. A Rasa that
is down or hangs must not make every resident wait, so the client is a circuit breaker: after
a failure or a timeout it fails fast (the bot offers its buttons) and probes Rasa in the
background until it answers again. Only while the app itself swaps the model (`PUT /model`,
which blocks Rasa while it loads) does a slow answer get the patience it needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from bot.nlu.interpretation import Interpretation

log = logging.getLogger(__name__)

# After a failure the client fails fast until a probe finds Rasa answering again.
PROBE_INTERVAL_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 2.0


class NLUUnavailable(RuntimeError):
    """Rasa could not be reached or gave no usable answer."""


class RasaClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 3.0,
        busy_timeout: float = 120.0,
        swap_under_way: Callable[[], bool] = lambda: False,
    ) -> None:
        self.url = base_url.rstrip("/")
        self.busy_timeout = busy_timeout
        # Whether a model swap is under way right now (asked only after a timeout).
        self.swap_under_way = swap_under_way
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, params={"token": token}
        )
        # While set, the circuit is open (fail fast) and this task probes Rasa.
        self._probe: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        return self._probe is not None

    async def parse(self, text: str) -> Interpretation:
        """Interpret `text`; raises NLUUnavailable instead of hanging when Rasa is down."""
        if self.is_open:
            raise NLUUnavailable("Rasa did not answer a moment ago")
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
            self._open(error)
            raise NLUUnavailable(str(error) or type(error).__name__) from error

    async def _post_patiently(self, text: str) -> httpx.Response:
        """A timeout opens the circuit, unless the app is swapping the model: Rasa answers
        nothing while it loads one, and catches up right after, so then wait for it."""
        try:
            return await self._client.post("/model/parse", json={"text": text})
        except httpx.ReadTimeout:
            if not await asyncio.to_thread(self.swap_under_way):
                raise
            return await self._client.post(
                "/model/parse", json={"text": text}, timeout=self.busy_timeout
            )

    def _open(self, error: Exception) -> None:
        if self._probe is None:
            log.warning("Rasa unavailable (%s); answering with buttons until it is back", error)
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        """Close the circuit once Rasa answers /status with a model again."""
        try:
            while not await self.is_ready(timeout=PROBE_TIMEOUT_SECONDS):
                await asyncio.sleep(PROBE_INTERVAL_SECONDS)
            log.info("Rasa answers again")
        finally:
            self._probe = None

    async def is_ready(self, timeout: float | None = None) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            extra = {} if timeout is None else {"timeout": timeout}
            response = await self._client.get("/status", **extra)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        await self._client.aclose()
