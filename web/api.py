"""The JSON API under /api, for department systems and scripts (Bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["requests"])
