"""A department's own system for the delivery tests: a real HTTP server on a local port that
records every webhook call and checks its signature itself (with the standard library, not
with Wegwijs' code). It can answer 200, answer 503 like a system in maintenance, or hold the
call open like one that hangs, and it can be stopped and started again on the same port.

    with WebhookReceiver(secret="s3cret") as receiver:
        ...  # a department's webhook_url = receiver.url
        receiver.wait_until(lambda: len(receiver.accepted()) == 1)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

from bot.learning.rasa_commands import free_port

Mode = Literal["ok", "unavailable", "hang"]
HOLD_AT_MOST_SECONDS = 60.0


@dataclass(frozen=True)
class Call:
    """One POST as it arrived, and what the receiver answered (None: held, never answered)."""

    headers: dict[str, str]
    body: bytes
    signature_valid: bool
    answered: int | None

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, secret: str, port: int = 0, handle_seconds: float = 0.0) -> None:
        self.secret = secret
        self.mode: Mode = "ok"
        # How long handling an accepted call takes, so concurrent senders overlap.
        self.handle_seconds = handle_seconds
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._in_flight = 0
        self.max_in_flight = 0
        self._server: ThreadingHTTPServer | None = None
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/wegwijs"

    def start(self) -> None:
        """Listen (again) on the same port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Close the port: senders get 'connection refused'."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def release(self) -> None:
        """Let held calls end (they are answered, though the sender may be gone by then)."""
        self._released.set()

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def accepted(self) -> list[Call]:
        """The calls answered with 200: what the department's system took in."""
        return [call for call in self.calls() if call.answered == 200]

    def accepted_keys(self) -> Counter[str]:
        return Counter(call.key for call in self.accepted())

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {self.calls()}")
            time.sleep(0.05)

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _trace: TracebackType | None,
    ) -> None:
        self.release()
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = receiver.mode
                answer = {"ok": 200, "unavailable": 503, "hang": None}[mode]
                receiver._record(self.headers, body, answer)
                if mode == "hang":
                    receiver._released.wait(HOLD_AT_MOST_SECONDS)
                    self._answer(200)
                    return
                receiver._enter()
                try:
                    if mode == "ok":
                        time.sleep(receiver.handle_seconds)
                    self._answer(answer or 500)
                finally:
                    receiver._leave()

            def _answer(self, code: int) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender is gone (killed mid-delivery)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        return Handler

    def _record(self, headers: Any, body: bytes, answered: int | None) -> None:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        sent = headers.get("X-Wegwijs-Signature", "")
        call = Call(
            headers={name.lower(): value for name, value in headers.items()},
            body=body,
            signature_valid=hmac.compare_digest(sent, expected),
            answered=answered,
        )
        with self._lock:
            self._calls.append(call)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
