"""A running gateway for channel tests: real Redis (one db per test module), fake census."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient

from dialogs.messages import LookupRequest, LookupResult, Submission, SubmissionResult
from gateway.conversations import Applicant
from gateway.main import create_app
from gateway.settings import Settings
from gateway.versions import PUBLISHED_KEY, VERSIONS_KEY
from state.store import EVENTS_STREAM


class Effects:
    """Fake registry and submission store, counting what was performed."""

    def __init__(self) -> None:
        self.lookups: list[LookupRequest] = []
        self.submissions: list[Submission] = []

    async def lookup(self, request: LookupRequest) -> LookupResult:
        self.lookups.append(request)
        return LookupResult(ok=True, data={"name": "Pema Wangmo"})

    async def submit(self, submission: Submission, applicant: Applicant) -> SubmissionResult:
        self.submissions.append(submission)
        return SubmissionResult(
            ok=True, reference="BR-2026-000123", status="issued", link="https://gw.bt/d/x"
        )


@contextmanager
def gateway(db: int, **settings: Any) -> Iterator[tuple[TestClient, Effects]]:
    """The app on Redis database `db` (flushed), with fake effects."""
    redis.Redis(db=db).flushdb()
    var = Path(tempfile.mkdtemp(prefix="gateway-var-"))
    settings = {"var_dir": var, **settings}
    app = create_app(Settings(redis_url=f"redis://127.0.0.1:6379/{db}", **settings))
    effects = Effects()
    with TestClient(app) as client:
        app.state.conversations.lookup = effects.lookup
        app.state.conversations.submit = effects.submit
        yield client, effects


def app_keys(client: redis.Redis) -> list[bytes]:
    """Keys the app wrote for citizens: not the worker's health check, nor the service
    versions archived and published at start, nor the event stream while it is empty
    (the analytics archive creates it to read from it)."""
    keys: list[bytes] = []
    for key in client.scan_iter():
        if b":health-check" in key or key.decode() in (VERSIONS_KEY, PUBLISHED_KEY):
            continue
        if key == EVENTS_STREAM.encode() and not client.xlen(key):
            continue
        keys.append(key)
    return keys
