"""A running gateway for channel tests: real Redis (a database the test leased: the
`redis_database` fixture), fake census; and what tests of a running app do with it: dial
a USSD code, record what the conversations answered, run the worker."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialogs.media import Medium
from dialogs.messages import LookupRequest, LookupResult, Reply, Submission, SubmissionResult
from dialogs.render import renderer_for
from gateway.app import create_app
from gateway.catalog.versions import PUBLISHED_KEY, VERSIONS_KEY
from gateway.conversations.messages import Applicant, Message
from gateway.delivery.worker import build_worker
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.store import EVENTS_STREAM
from tests.dialogs.helpers import CENSUS_MOBILE


class Effects:
    """Fake registry and submission store, counting what was performed."""

    def __init__(self) -> None:
        self.lookups: list[LookupRequest] = []
        self.submissions: list[Submission] = []

    async def lookup(self, request: LookupRequest) -> LookupResult:
        self.lookups.append(request)
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})

    async def submit(self, submission: Submission, applicant: Applicant) -> SubmissionResult:
        self.submissions.append(submission)
        return SubmissionResult(
            ok=True, reference="BR-2026-000123", status="issued", link="https://gw.bt/d/x"
        )


# The address requests come from, and the allow-list that lets the aggregators' unsigned
# callbacks (Africa's Talking, Hubtel) in: without a token or a list they are closed.
AGGREGATOR = ("127.0.0.1", 41000)
AGGREGATORS = ["127.0.0.1"]


@contextmanager
def gateway(db: int, **settings: Any) -> Iterator[tuple[TestClient, Effects]]:
    """The app on Redis database `db` (a leased one: `redis_database.number`), flushed,
    with fake effects."""
    with redis.Redis(db=db) as connection:
        connection.flushdb()
    var = Path(tempfile.mkdtemp(prefix="gateway-var-"))
    settings = {"var_dir": var, "ussd_allowed_ips": AGGREGATORS, **settings}
    app = create_app(Settings(redis_url=f"redis://127.0.0.1:6379/{db}", **settings))
    effects = Effects()
    with TestClient(app, client=AGGREGATOR) as client:
        Runtime.of(app).conversations.lookup = effects.lookup
        Runtime.of(app).conversations.submit = effects.submit
        yield client, effects


def recorded_replies(app: Any) -> list[list[Reply]]:
    """What the conversation service answers from now on, one list per message handled:
    what a webhook must carry to the citizen, in its provider's format (a channel test
    compares with it rather than with the shipped services' wording)."""
    conversations = Runtime.of(app).conversations
    handle = conversations.handle
    said: list[list[Reply]] = []

    async def handled(message: Message) -> list[Reply]:
        replies = await handle(message)
        said.append(replies)
        return replies

    conversations.handle = handled  # type: ignore[method-assign]
    return said


def shown(replies: list[Reply], medium: Medium) -> list[str]:
    """What a medium shows of `replies` as text messages: each rendered, its link written
    in (as SMS and WhatsApp text carry a certificate's link)."""
    texts = []
    for reply in replies:
        rendered = renderer_for(medium).render(reply)
        text, link = rendered.text, rendered.link
        texts.append(f"{text}\n{link}" if link and link not in text else text)
    return texts


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


def prove_number(client: TestClient, citizen: str, phone: str = CENSUS_MOBILE) -> None:
    """As if a web chat or Telegram `citizen` had proved `phone` by a code earlier (the
    code itself: tests/gateway/security/test_verification.py)."""
    app = client.app
    assert isinstance(app, FastAPI)
    assert client.portal is not None
    client.portal.call(Runtime.of(app).conversations.store.set_phone, citizen, phone, 3600)


def ussd_form(code: str, session: str, answers: list[str], phone: str) -> dict[str, str]:
    """What Africa's Talking posts for a screen: every answer of the session so far."""
    return {
        "sessionId": session,
        "phoneNumber": phone,
        "networkCode": "40201",
        "serviceCode": code,
        "text": "*".join(answers),
    }


def dial(client: TestClient, code: str, session: str, answers: list[str], phone: str) -> str:
    """Dial `code` from `phone` and give `answers` one screen at a time, as Africa's
    Talking posts them; the last screen."""
    screen = ""
    for count in range(len(answers) + 1):
        form = ussd_form(code, session, answers[:count], phone)
        response = client.post("/channels/ussd/africastalking", data=form)
        assert response.status_code == 200, response.text
        screen = response.text
    return screen


def run_worker(
    client: TestClient, settings: Settings, queue_url: str, session_url: str | None = None
) -> None:
    """Run the worker until the queue is empty, once the app has queued everything."""
    app = client.app
    assert isinstance(app, FastAPI)
    submissions = Runtime.of(app).submissions
    deadline = time.monotonic() + 5
    while submissions.queueing and time.monotonic() < deadline:
        time.sleep(0.01)

    async def burst() -> None:
        worker = build_worker(settings, queue_url, burst=True, session_url=session_url)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    asyncio.run(burst())
