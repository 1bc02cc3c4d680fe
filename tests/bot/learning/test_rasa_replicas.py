"""Several Rasa servers behind one proxy (docker-compose.scaled.yml) load a new model each in
turn, so that one of them always answers while the other loads."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.learning import retraining
from bot.learning.rasa_commands import free_port, is_up, serve_command
from bot.settings import Settings
from tests.fakes.rasa_executable import fake_rasa
from tests.rasa_server import TOKEN


def test_rasa_servers_behind_a_proxy_each_load_the_live_model(tmp_path: Path) -> None:
    """docker-compose.scaled.yml: two Rasa servers behind one URL. Both get the live model,
    and one that has it already is left alone (stand-in `rasa run` processes)."""
    rasa = fake_rasa(tmp_path)
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    models = [tmp_path / "old.tar.gz", tmp_path / "live.tar.gz"]
    settings = Settings(rasa_executable=rasa, rasa_token=TOKEN, rasa_replica_urls=urls)
    servers = [
        subprocess.Popen(serve_command(settings, model, url))
        for model, url in zip(models, urls, strict=True)
    ]
    try:
        for url in urls:
            _wait_for(lambda url=url: is_up(settings, url))
        retraining._put_model(settings, models[1], only_if_other=True)
        loaded = [httpx.get(f"{url}/status").json()["model_file"] for url in urls]
        assert loaded == [str(models[1])] * 2
    finally:
        for server in servers:
            server.kill()
            server.wait()


def _wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)
