"""Calling a department's webhook: a signed JSON POST that the receiver can check and
de-duplicate."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Wegwijs-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Wegwijs-Event"


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>` of the HMAC-SHA256 of the exact body, as GitHub and others do."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post(
    client: httpx.AsyncClient, url: str, secret: str | None, payload: dict[str, Any], key: str
) -> None:
    """POST the payload; raise on anything but a 2xx answer."""
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: key,
        EVENT_HEADER: str(payload.get("event", "")),
        SIGNATURE_HEADER: signature(secret or "", body),
    }
    response = await client.post(url, content=body, headers=headers)
    response.raise_for_status()
