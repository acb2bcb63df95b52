"""The Rasa client against a fake Rasa (a real HTTP server on loopback): answers, failures
of every kind falling back, and the circuit breaker opening and recovering.

The real Rasa is in `test_rasa_integration.py`; a fake is used here because only a fake
can be made slow, broken or malformed on demand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dialogs.messages import Entity, Meaning
from nlu.breaker import CircuitBreaker
from nlu.rasa_client import RasaClassifier, RasaError, meaning_from_parse
from nlu.rasa_project import rasa_text
from nlu.rasa_runtime import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Fallback:
    """Stands in for the embedded classifier: its answers are recognisable."""

    name = "embedded"

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def classify(self, text: str, lang: str) -> Meaning:
        self.texts.append(text)
        return Meaning(text, intent="help", confidence=1.0, source="embedded")


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRasa:
    """Counts requests and answers each with the current `handler`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.handler: Handler = self.parse

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.query), await request.json()))
        return await self.handler(request)

    async def parse(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(parse_result((await request.json())["text"]))


def parse_result(text: str, intent: str | None = "drone-flight-authorization") -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.91} if intent else None,
        "entities": [
            {"entity": "dzongkhags", "value": "paro", "start": 16, "end": 20},
            {"entity": "dzongkhags", "value": "paro", "start": 30, "end": 34},
        ],
        "intent_ranking": [
            {"name": intent or "nlu_fallback", "confidence": 0.91},
            {"name": "bus-service-permit", "confidence": 0.05},
        ],
    }


@asynccontextmanager
async def fake_rasa() -> AsyncIterator[tuple[FakeRasa, str]]:
    rasa = FakeRasa()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rasa.dispatch)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield rasa, str(server.make_url("/"))
    finally:
        await server.close()


@asynccontextmanager
async def client(
    url: str, *, timeout: float = 0.3, clock: Clock | None = None, token: str | None = None
) -> AsyncIterator[RasaClassifier]:
    breaker = CircuitBreaker(threshold=3, cooldown=30.0, clock=clock or Clock())
    rasa = RasaClassifier(url, Fallback(), token=token, timeout=timeout, breaker=breaker)
    try:
        yield rasa
    finally:
        await rasa.aclose()


async def test_answer_is_a_meaning_with_ranking_and_entities() -> None:
    async with fake_rasa() as (fake, url), client(url, token="s3cret") as rasa:
        meaning = await rasa.classify("drone permit in paro", "en")
    assert meaning == Meaning(
        "drone permit in paro",
        intent="drone-flight-authorization",
        confidence=0.91,
        ranking=(("drone-flight-authorization", 0.91), ("bus-service-permit", 0.05)),
        entities=(Entity("dzongkhags", "paro"),),  # the same entity twice is given once
        source="rasa",
    )
    assert fake.requests == [("/model/parse", {"token": "s3cret"}, {"text": meaning.text})]
    assert rasa.stats() == {
        "calls": 1,
        "answered": 1,
        "fallbacks": 0,
        "failures": 0,
        "timeouts": 0,
        "skipped": 0,
        "breaker_state": "closed",
        "breaker_opened": 0,
    }


async def test_no_token_no_query_and_a_full_parse_url_is_kept() -> None:
    async with fake_rasa() as (fake, url), client(url + "model/parse") as rasa:
        await rasa.classify("drone", "en")
    assert fake.requests == [("/model/parse", {}, {"text": "drone"})]


async def test_rasa_is_sent_the_text_as_it_was_trained() -> None:
    """Tibetan as syllables and English hints appended (`rasa_text`); the Meaning keeps
    the citizen's own words."""
    async with fake_rasa() as (fake, url), client(url) as rasa:
        meaning = await rasa.classify("ཌྲོན་གི་ཆོག་ཐམ།", "dz")
        await rasa.classify("biz reg pls", "en")
    assert [body for _, _, body in fake.requests] == [
        {"text": "ཌྲོན གི ཆོག ཐམ drone permit"},
        {"text": "biz reg pls business register please"},
    ]
    assert meaning.text == "ཌྲོན་གི་ཆོག་ཐམ།"


async def test_a_leading_slash_is_not_sent_as_an_intent_command() -> None:
    """Rasa reads "/stop" as the intent `stop` given directly (confidence 1): a Telegram
    command is classified as the words it is."""
    async with fake_rasa() as (fake, url), client(url) as rasa:
        meaning = await rasa.classify("/start", "en")
    assert [body for _, _, body in fake.requests] == [{"text": "start"}]
    assert meaning.text == "/start"


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope", "", None])
def test_fallback_intent_or_none_is_not_understood(intent: str | None) -> None:
    data = parse_result("blah", intent)
    meaning = meaning_from_parse("blah", data)
    assert (meaning.intent, meaning.confidence) == (None, 0.0)
    assert ("nlu_fallback", 0.91) not in meaning.ranking
    assert ("out_of_scope", 0.91) not in meaning.ranking
    assert ("bus-service-permit", 0.05) in meaning.ranking
    assert meaning.source == "rasa"


def test_entities_as_the_embedded_classifier_gives_them() -> None:
    text = "call +975 17123456 or 97577123456, cid 11512000123, Pasakha"
    data = {
        "intent": {"name": "status", "confidence": 0.8},
        "entities": [
            {"entity": "phone", "value": "+975 17123456", "start": 5, "end": 18},
            {"entity": "phone", "value": "97577123456", "start": 22, "end": 33},
            # With its country code a phone number also matches the 11-digit ID regex.
            {"entity": "cid", "value": "97577123456", "start": 22, "end": 33},
            {"entity": "cid", "value": "11512000123", "start": 39, "end": 50},
            # The synonym mapper leaves a name equal to the value but for case as written.
            {"entity": "industrial_parks", "value": "Pasakha", "start": 52, "end": 59},
            {"entity": "dzongkhags"},  # malformed: ignored
            "garbage",
        ],
    }
    assert meaning_from_parse(text, data).entities == (
        Entity("phone", "17123456"),
        Entity("phone", "77123456"),
        Entity("cid", "11512000123"),
        Entity("industrial_parks", "pasakha"),
    )


def test_entities_in_the_appended_hints_are_left_out() -> None:
    """A shop is sent as "ཚོང ཁང shop": the one found in the hint is not the citizen's."""
    text = "ཚོང་ཁང་ སྤ་རོ"
    sent = "ཚོང ཁང སྤ རོ shop"
    assert rasa_text(text) == sent
    data = {
        "text": sent,
        "intent": {"name": "business-registration", "confidence": 0.9},
        "entities": [
            {"entity": "business_activities", "value": "general_shop", "start": 0, "end": 6},
            {"entity": "dzongkhags", "value": "paro", "start": 7, "end": 12},
            {"entity": "business_activities", "value": "hint", "start": 13, "end": 17},
            {"entity": "dzongkhags", "value": "thimphu"},  # no span: kept
        ],
    }
    assert meaning_from_parse(text, data).entities == (
        Entity("business_activities", "general_shop"),
        Entity("dzongkhags", "paro"),
        Entity("dzongkhags", "thimphu"),
    )


@pytest.mark.parametrize(
    "data",
    [
        [],
        "ok",
        {"intent": "drone"},
        {"intent": {"name": "drone", "confidence": "high"}},
        {"intent": None, "intent_ranking": [{"name": "drone", "confidence": None}]},
    ],
)
def test_what_is_not_a_parse_result_is_an_error(data: Any) -> None:
    with pytest.raises(RasaError):
        meaning_from_parse("text", data)


def state(rasa: RasaClassifier) -> str:
    """The breaker's state, read afresh (mypy would keep an earlier read's narrowing)."""
    return rasa.breaker.state


def answer(status: int, body: bytes, content_type: str = "application/json") -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type=content_type)

    return handler


async def hang(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.json_response(parse_result("late"))


async def slow_headers_then_close(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={"Content-Length": "1000"})
    await response.prepare(request)
    await response.write(b'{"intent": ')
    await asyncio.sleep(5)  # the body never completes within the timeout
    return response


@pytest.mark.parametrize(
    ("handler", "timed_out"),
    [
        (hang, True),
        (slow_headers_then_close, True),
        (answer(500, b'{"error": "boom"}'), False),
        (answer(503, b"unavailable", "text/plain"), False),
        (answer(401, b'{"message": "bad token"}'), False),
        (answer(200, b"<html>not json</html>", "text/html"), False),
        (answer(200, b'{"intent": '), False),
        (answer(200, b'["a", "list"]'), False),
        (answer(200, b'{"intent": null, "intent_ranking": 5}'), False),
        (answer(200, b"[" * 100_000 + b"]" * 100_000), False),
        (answer(200, b'{"text": "' + b"x" * 2_000_000 + b'"}'), False),
    ],
    ids=[
        *("hang", "stalled-body", "500", "503", "401", "html", "truncated", "list"),
        "ranking-not-a-list",
        *("deep", "huge"),
    ],
)
async def test_failures_fall_back_within_the_timeout(handler: Handler, timed_out: bool) -> None:
    async with fake_rasa() as (fake, url), client(url, timeout=0.2) as rasa:
        fake.handler = handler
        started = time.monotonic()
        meaning = await rasa.classify("drone permit", "en")
        elapsed = time.monotonic() - started
    assert meaning == Meaning("drone permit", "help", 1.0, source="embedded")
    assert elapsed < 1.0
    if timed_out:
        assert elapsed >= 0.2
    stats = rasa.stats()
    assert (stats["fallbacks"], stats["failures"], stats["timeouts"]) == (1, 1, int(timed_out))
    assert stats["breaker_state"] == "closed"  # one failure does not open it


async def test_unreachable_rasa_falls_back() -> None:
    async with client(f"http://127.0.0.1:{free_port()}") as rasa:
        meaning = await rasa.classify("drone", "en")
    assert meaning.source == "embedded"
    assert rasa.counters.failures == 1


async def test_breaker_opens_after_three_failures_and_stops_calling_rasa() -> None:
    clock = Clock()
    async with fake_rasa() as (fake, url), client(url, timeout=0.1, clock=clock) as rasa:
        fake.handler = hang
        for _ in range(3):
            assert (await rasa.classify("drone", "en")).source == "embedded"
        assert rasa.breaker.state == "open"
        started = time.monotonic()
        for _ in range(20):
            assert (await rasa.classify("drone", "en")).source == "embedded"
        assert time.monotonic() - started < 0.1  # open: no call waits for the timeout
        clock.now += 29.9
        await rasa.classify("drone", "en")
    assert len(fake.requests) == 3
    stats = rasa.stats()
    assert (stats["calls"], stats["failures"], stats["skipped"]) == (24, 3, 21)
    assert (stats["breaker_state"], stats["breaker_opened"]) == ("open", 1)


async def test_a_success_resets_the_count_of_failures() -> None:
    async with fake_rasa() as (fake, url), client(url) as rasa:
        for handler in (answer(500, b""), answer(500, b""), fake.parse, answer(500, b"")):
            fake.handler = handler
            await rasa.classify("drone", "en")
        assert rasa.breaker.state == "closed"
        assert rasa.breaker.consecutive_failures == 1


async def test_half_open_lets_one_trial_through_and_recovers() -> None:
    clock = Clock()
    async with fake_rasa() as (fake, url), client(url, clock=clock) as rasa:
        fake.handler = answer(502, b"bad gateway")
        for _ in range(3):
            await rasa.classify("drone", "en")
        assert rasa.breaker.state == "open"

        clock.now += 30.0  # the cooldown is over: Rasa is back, but slowly
        release = asyncio.Event()

        async def slow_parse(request: web.Request) -> web.StreamResponse:
            await release.wait()
            return await fake.parse(request)

        fake.handler = slow_parse
        trial = asyncio.create_task(rasa.classify("drone permit in paro", "en"))
        while len(fake.requests) < 4:  # the trial reached Rasa
            await asyncio.sleep(0.005)
        assert state(rasa) == "half-open"
        # While the trial is out, the others keep to the fallback without waiting.
        others = [await rasa.classify("other", "en") for _ in range(5)]
        assert {m.source for m in others} == {"embedded"}
        release.set()
        assert (await trial).source == "rasa"

        assert state(rasa) == "closed"
        assert (await rasa.classify("again", "en")).source == "rasa"
    assert len(fake.requests) == 5  # 3 failures, the trial, one after recovery


async def test_failed_trial_opens_the_breaker_for_another_cooldown() -> None:
    clock = Clock()
    async with fake_rasa() as (fake, url), client(url, clock=clock) as rasa:
        fake.handler = answer(500, b"")
        for _ in range(3):
            await rasa.classify("drone", "en")
        clock.now += 31.0
        await rasa.classify("drone", "en")  # the trial: fails
        assert rasa.breaker.state == "open"
        clock.now += 29.0
        await rasa.classify("drone", "en")
        assert len(fake.requests) == 4
        fake.handler = fake.parse
        clock.now += 1.0
        assert (await rasa.classify("drone", "en")).source == "rasa"
    assert rasa.breaker.times_opened == 1  # one outage, however many trials


async def test_cancelled_trial_lets_the_next_call_try() -> None:
    clock = Clock()
    async with fake_rasa() as (fake, url), client(url, clock=clock) as rasa:
        fake.handler = answer(500, b"")
        for _ in range(3):
            await rasa.classify("drone", "en")
        clock.now += 30.0
        fake.handler = hang
        trial = asyncio.create_task(rasa.classify("drone", "en"))
        while len(fake.requests) < 4:
            await asyncio.sleep(0.005)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        fake.handler = fake.parse
        assert (await rasa.classify("drone", "en")).source == "rasa"


async def test_one_session_is_reused_and_closed() -> None:
    async with fake_rasa() as (_fake, url), client(url) as rasa:
        await rasa.classify("one", "en")
        session = rasa._session
        await rasa.classify("two", "en")
        assert rasa._session is session
        await rasa.aclose()
        assert session is not None
        assert session.closed
        assert (await rasa.classify("three", "en")).source == "rasa"  # a new session


def test_breaker_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=0)
