"""A Rasa that hangs (frozen with SIGSTOP, as a stuck process or an overloaded machine
would): the first message waits at most the timeout, the next ones fail at once (the bot
then offers its buttons), and the client notices by itself when Rasa answers again."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from bot.nlu.client import NLUUnavailable, RasaClient
from tests.rasa_server import TOKEN, server_pid

pytestmark = pytest.mark.rasa
TIMEOUT = 2.0


def test_a_frozen_rasa_costs_one_timeout_and_is_noticed_when_back(rasa_url: str) -> None:
    pid = server_pid(rasa_url)

    async def scenario() -> tuple[float, float, float]:
        client = RasaClient(rasa_url, TOKEN, timeout=TIMEOUT)
        try:
            await client.parse("ik wil een zaal huren")
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                with pytest.raises(NLUUnavailable):
                    await client.parse("we willen tafels lenen")
                first = time.monotonic() - started
                started = time.monotonic()
                with pytest.raises(NLUUnavailable):
                    await client.parse("en een vergunning")
                next_one = time.monotonic() - started
            finally:
                os.kill(pid, signal.SIGCONT)
            started = time.monotonic()
            while client.is_open and time.monotonic() - started < 60:
                await asyncio.sleep(0.2)
            back = time.monotonic() - started
            result = await client.parse("ik wil een zaal huren")
            assert result.intent.startswith("request_")
            return first, next_one, back
        finally:
            await client.aclose()

    first, next_one, back = asyncio.run(scenario())
    assert first < TIMEOUT * 2 + 1  # one timeout (and a retry of the connection at most)
    assert next_one < 0.1  # the circuit is open: no waiting at all
    assert back < 60  # the background probe closed the circuit
