"""A stand-in for Rasa's `rasa run` command: a tiny server that answers GET /status with the
model it has (the one it was started with, or loaded by PUT /model), so that starting,
adopting, stopping and loading a Rasa process can be tested in seconds (the real Rasa takes
25 s to minutes to start)."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = """#!{python}
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

arguments = sys.argv[1:]
option = lambda name: arguments[arguments.index(name) + 1]
loaded = {{"model_file": option("--model")}}


class Status(BaseHTTPRequestHandler):
    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        loaded["model_file"] = json.loads(self.rfile.read(length))["model_file"]
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        body = json.dumps(loaded).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


HTTPServer((option("--interface"), int(option("--port"))), Status).serve_forever()
"""


def fake_rasa(folder: Path) -> Path:
    """An executable `rasa` in `folder` that serves /status like `rasa run --enable-api`."""
    path = folder / "rasa"
    path.write_text(SCRIPT.format(python=sys.executable))
    path.chmod(0o755)
    return path
