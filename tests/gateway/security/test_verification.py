"""Proving a mobile number on the web chat and Telegram with a one-time code by SMS.

First `CodeVerifier` on its own, on a real Redis of our own (`EmbeddedRedis` under the
test's temporary folder), with a `deliver` that records the SMS it is asked to send:
6 digits, kept hashed, valid 5 minutes, 5 tries, a few codes per number and per citizen,
foreign numbers refused, the outbound budget obeyed, the code written in the log in
development without an SMS provider.

Then end to end through the app's web chat API: a citizen registering a business is
asked for a mobile after the citizenship ID, receives the code at a fake Africa's Talking
messaging API, types it, and the census decides: the number it holds is the one proved
(the certificate at once) or another (an officer reviews). And a newcomer's `make run`:
GATEWAY_DEVELOPMENT without an SMS provider, the code in the log, the demo census.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from dialogs.media import Medium
from dialogs.messages import (
    CheckCode,
    CodeChecked,
    CodeSent,
    LookupRequest,
    LookupResult,
    Reply,
    SendCode,
)
from gateway.app import create_app
from gateway.conversations.messages import Applicant
from gateway.ops.logs import mask_text
from gateway.runtime import Runtime
from gateway.security.budget import OutboundBudget
from gateway.security.limiter import Limiter
from gateway.security.verification import CODE_SECONDS, CodeVerifier
from gateway.settings import Settings
from gateway.submissions.service import Submissions
from state.connect import connect
from state.store import SessionStore, text_of
from tests.gateway.fake_providers import FakeProvider, at_sent, serving

NUMBER = "+97517123456"
OTHER_NUMBER = "+97577123456"
FOREIGN = "+14155550123"
USER = "u-7c2e91ab"
CITIZEN = f"web:{USER}"
CID = "11501001234"  # Pema Wangmo in the demo census, holding NUMBER
AT_KEY = "atsk_test_0123456789abcdef"
ADMIN = "admin-5b7e1c9d2f4a8360"
CODE_SMS = re.compile(r"^(\d{6}) is your code for government services\. It expires in 5 minutes")
LOGGED_CODE = re.compile(r"verification code (\d{6}) for ")


# CodeVerifier on its own --------------------------------------------------------------------


@dataclass
class Verifying:
    """A CodeVerifier with what it was asked to deliver, and its session store."""

    verifier: CodeVerifier
    store: SessionStore
    sent: list[tuple[str, str]] = field(default_factory=list)  # (number, SMS text)

    async def send(self, phone: str = NUMBER, citizen: str = CITIZEN) -> CodeSent:
        return await self.verifier.send(SendCode(phone), applicant(citizen))

    async def check(self, code: str, phone: str = NUMBER, citizen: str = CITIZEN) -> CodeChecked:
        return await self.verifier.check(CheckCode(phone, code), applicant(citizen))

    def code(self) -> str:
        """The code in the last SMS delivered."""
        found = CODE_SMS.match(self.sent[-1][1])
        assert found is not None, self.sent[-1]
        return found.group(1)

    async def stored(self, citizen: str = CITIZEN) -> dict[str, str]:
        """What Redis holds for the citizen's pending code."""
        raw: dict[Any, Any] = await self.store.client.hgetall(CodeVerifier.key(citizen))  # type: ignore[misc]
        return {text_of(k): text_of(v) for k, v in raw.items()}

    async def proved(self, citizen: str = CITIZEN) -> str | None:
        value = await self.store.client.get(SessionStore.phone_key(citizen))
        return text_of(value) if value is not None else None


OpenVerifier = Callable[..., Awaitable[Verifying]]


def applicant(citizen: str = CITIZEN) -> Applicant:
    return Applicant(citizen, Medium.WEB, "en")


def wrong(code: str) -> str:
    """Another 6-digit code than `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
async def open_verifier(redis_url: str) -> AsyncIterator[OpenVerifier]:
    """Makes a verifier with the given settings; `deliver=None` as in development."""
    stores: list[SessionStore] = []

    async def make(*, logged: bool = False, **settings: Any) -> Verifying:
        store = SessionStore(connect(redis_url))
        stores.append(store)
        options = Settings(**settings)
        limiter = Limiter(store.client, redis_url)
        sent: list[tuple[str, str]] = []

        async def deliver(number: str, reply: Reply) -> None:
            sent.append((number, reply.text))

        budget = OutboundBudget(limiter, options)
        verifier = CodeVerifier(store, limiter, budget, options, None if logged else deliver)
        return Verifying(verifier, store, sent)

    yield make
    for store in stores:
        await store.close()


async def test_a_code_of_six_digits_is_sent_by_sms_to_the_number(
    open_verifier: OpenVerifier,
) -> None:
    verifying = await open_verifier()
    assert await verifying.send(NUMBER) == CodeSent(ok=True)
    ((number, text),) = verifying.sent
    assert number == NUMBER
    assert CODE_SMS.match(text), text
    assert text.endswith("Never share it.")


async def test_the_code_is_kept_hashed_never_in_plain(open_verifier: OpenVerifier) -> None:
    verifying = await open_verifier()
    await verifying.send()
    code = verifying.code()
    stored = await verifying.stored()
    assert set(stored) == {"phone", "salt", "digest", "tries"}
    assert stored["phone"] == NUMBER
    assert stored["tries"] == "0"
    assert all(code not in value for value in stored.values())
    assert stored["digest"] == hashlib.sha256(f"{stored['salt']}:{code}".encode()).hexdigest()
    # Salted: the same code would be kept as another digest for another citizen.
    assert len(stored["salt"]) >= 16


async def test_a_code_expires_after_five_minutes(open_verifier: OpenVerifier) -> None:
    verifying = await open_verifier()
    await verifying.send()
    ttl = await verifying.store.client.ttl(CodeVerifier.key(CITIZEN))
    assert CODE_SECONDS == 300
    assert 0 < ttl <= 300

    # Once Redis has let the code go, the right code is refused as expired.
    await verifying.store.client.pexpire(CodeVerifier.key(CITIZEN), 1)
    await asyncio.sleep(0.01)
    assert await verifying.check(verifying.code()) == CodeChecked(ok=False, reason="expired")
    assert await verifying.proved() is None


async def test_a_wrong_code_says_how_many_tries_are_left(open_verifier: OpenVerifier) -> None:
    verifying = await open_verifier()
    await verifying.send()
    bad = wrong(verifying.code())
    assert await verifying.check(bad) == CodeChecked(ok=False, reason="wrong", tries_left=4)
    assert await verifying.check(bad) == CodeChecked(ok=False, reason="wrong", tries_left=3)
    assert await verifying.proved() is None


async def test_the_fifth_try_may_still_be_the_right_code(open_verifier: OpenVerifier) -> None:
    verifying = await open_verifier()
    await verifying.send()
    for _ in range(4):
        await verifying.check(wrong(verifying.code()))
    assert await verifying.check(verifying.code()) == CodeChecked(ok=True)


async def test_after_five_wrong_tries_even_the_right_code_is_refused(
    open_verifier: OpenVerifier,
) -> None:
    verifying = await open_verifier()
    await verifying.send()
    code = verifying.code()
    results = [await verifying.check(wrong(code)) for _ in range(5)]
    assert [r.tries_left for r in results[:4]] == [4, 3, 2, 1]
    assert results[4] == CodeChecked(ok=False, reason="locked")
    sixth = await verifying.check(code)
    assert not sixth.ok
    assert sixth.reason in ("expired", "locked")
    assert await verifying.proved() is None


async def test_the_right_code_proves_the_number_for_the_verified_days(
    open_verifier: OpenVerifier,
) -> None:
    verifying = await open_verifier(verified_days=7)
    await verifying.send()
    assert await verifying.check(verifying.code()) == CodeChecked(ok=True)
    assert await verifying.proved() == NUMBER
    ttl = await verifying.store.client.ttl(SessionStore.phone_key(CITIZEN))
    assert 7 * 86400 - 60 < ttl <= 7 * 86400

    # Used once: the same code cannot prove anything again.
    assert await verifying.stored() == {}
    assert (await verifying.check(verifying.code())).ok is False


async def test_a_code_is_refused_for_another_number_than_it_was_sent_to(
    open_verifier: OpenVerifier,
) -> None:
    verifying = await open_verifier()
    await verifying.send(NUMBER)
    refused = await verifying.check(verifying.code(), phone=OTHER_NUMBER)
    assert refused == CodeChecked(ok=False, reason="expired")
    assert await verifying.proved() is None


async def test_the_fourth_code_to_one_number_within_15_minutes_is_refused(
    open_verifier: OpenVerifier,
) -> None:
    verifying = await open_verifier()
    citizens = [f"web:u-0000000{n}" for n in range(4)]  # four browsers, one number
    results = [await verifying.send(NUMBER, citizen) for citizen in citizens]
    assert results[:3] == [CodeSent(ok=True)] * 3
    assert results[3] == CodeSent(ok=False, reason="too_many")
    assert len(verifying.sent) == 3


async def test_the_fourth_code_for_one_citizen_within_15_minutes_is_refused(
    open_verifier: OpenVerifier,
) -> None:
    verifying = await open_verifier()
    numbers = ["+97517111111", "+97577222222", "+97517333333", "+97577444444"]
    results = [await verifying.send(number) for number in numbers]
    assert results[:3] == [CodeSent(ok=True)] * 3
    assert results[3] == CodeSent(ok=False, reason="too_many")
    assert [number for number, _ in verifying.sent] == numbers[:3]


async def test_a_foreign_number_is_refused_and_sent_nothing(open_verifier: OpenVerifier) -> None:
    verifying = await open_verifier(allowed_countries=["BT"])
    assert await verifying.send(FOREIGN) == CodeSent(ok=False, reason="not_allowed")
    assert await verifying.send("+975") == CodeSent(ok=False, reason="not_allowed")
    assert verifying.sent == []
    assert await verifying.stored() == {}


async def test_the_outbound_budget_holds_codes_back_too(open_verifier: OpenVerifier) -> None:
    verifying = await open_verifier(budget_per_number="1/day")
    assert await verifying.send() == CodeSent(ok=True)
    assert await verifying.send() == CodeSent(ok=False, reason="unavailable")
    assert len(verifying.sent) == 1


async def test_in_development_without_an_sms_provider_the_code_is_logged(
    open_verifier: OpenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.security.verification")
    verifying = await open_verifier(logged=True)
    assert await verifying.send() == CodeSent(ok=True)
    assert verifying.sent == []
    (line,) = [r.getMessage() for r in caplog.records if LOGGED_CODE.search(r.getMessage())]
    found = LOGGED_CODE.search(mask_text(line))  # as the log shows it: numbers masked
    assert found is not None
    assert NUMBER not in mask_text(line)
    assert await verifying.check(found.group(1)) == CodeChecked(ok=True)


# End to end on the web chat -----------------------------------------------------------------


@dataclass
class WebChat:
    """The web chat API as the page uses it, and the fake SMS API codes reach."""

    client: TestClient
    sms: FakeProvider
    census: list[str] = field(default_factory=list)  # the CIDs looked up
    sent: int = 0
    last: dict[str, Any] = field(default_factory=dict)  # the last JSON answer

    def say(self, text: str) -> list[str]:
        """Post one answer; the texts of the replies."""
        self.sent += 1
        payload = {"user": USER, "text": text, "id": f"m{self.sent}"}
        response = self.client.post("/channels/web/messages", json=payload)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        self.last = data
        return [reply["text"] for reply in data["replies"]]

    def code_by_sms(self) -> str:
        """The code the worker sent to the fake SMS API."""
        forms = self.sms.wait_for(1)
        found = CODE_SMS.match(forms[0]["message"])
        assert found is not None, forms
        return found.group(1)

    def admin(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        return self.client.get("/api/v1" + path, headers=headers).json()


def census_holding(mobile: str, looked_up: list[str]) -> Callable[..., Awaitable[LookupResult]]:
    """A census that finds everyone, registered to `mobile`."""

    async def lookup(request: LookupRequest) -> LookupResult:
        looked_up.append(request.url.rsplit("/", 1)[-1])
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": mobile})

    return lookup


@pytest.fixture
def web_chat(request: pytest.FixtureRequest, redis_url: str, tmp_path: Path) -> Iterator[WebChat]:
    """The app with a fake Africa's Talking and the worker in process; the census holds
    the number given by `@pytest.mark.parametrize("web_chat", [...], indirect=True)`."""
    mobile: str = request.param
    with serving(FakeProvider(at_sent)) as sms:
        settings = Settings(
            redis_url=redis_url,
            var_dir=tmp_path / "var",
            admin_token=ADMIN,
            at_api_key=AT_KEY,
            at_sms_url=sms.url + "/version1/messaging",
            worker_in_process=True,
            worker_poll_seconds=0.01,
            relay_seconds=3600,
            pdf_processes=1,
        )
        app = create_app(settings)
        with TestClient(app) as client:
            chat = WebChat(client, sms)
            Runtime.of(app).conversations.lookup = census_holding(mobile, chat.census)
            yield chat
            worker_idle(redis_url, settings.queue_name)


def worker_idle(redis_url: str, queue: str) -> None:
    """Wait for the in-process worker to finish its jobs (it draws the certificate after
    sending its link): stopped in the middle of one, it leaves a connection open."""
    deadline = time.monotonic() + 20
    with redis.Redis.from_url(redis_url) as plain:
        while plain.zcard(queue) or plain.keys("arq:in-progress:*"):
            assert time.monotonic() < deadline, "the worker did not finish its jobs"
            time.sleep(0.02)


def register_until_the_code(chat: WebChat) -> None:
    """Choose the registration, give the ID and the mobile (as typed in Bhutan)."""
    assert chat.say("")[0] == "Government services. Choose one:"
    assert chat.say("2") == ["Enter your citizenship ID (11 digits)"]
    assert chat.say(CID) == [
        "To continue, enter your mobile number. We will send it a 6-digit code by SMS."
    ]
    assert chat.census == []  # the census is not asked before the number is proved
    assert chat.say("17123456") == [f"Enter the 6-digit code we sent to {NUMBER}."]


def sent_to_an_officer(chat: WebChat, code: str) -> None:
    """The code typed: the number is proved, but the census does not confirm the
    applicant, who gives a name and the business's answers; an officer will review."""
    assert chat.say(code) == [
        "Thank you, your number is confirmed.",
        "We could not confirm your record; an officer will. Enter your full name",
    ]
    for answer in ["Pema Wangmo", "Pema Store", "1", "2", "14", "17123456", "1"]:
        chat.say(answer)
    (final,) = chat.say("1")
    assert final.startswith("Received! Number BR-")
    assert "An officer will confirm your identity" in final


@pytest.mark.parametrize("web_chat", [NUMBER], indirect=True)
def test_a_web_citizen_who_proves_the_census_number_gets_the_certificate_at_once(
    web_chat: WebChat,
) -> None:
    register_until_the_code(web_chat)
    code = web_chat.code_by_sms()
    assert web_chat.sms.forms()[0]["to"] == NUMBER
    assert web_chat.say(code) == [
        "Thank you, your number is confirmed.",
        "Welcome Pema Wangmo. Enter the name of your business",
    ]
    assert web_chat.census == [CID]
    for answer in ["Pema Store", "1", "2", "14", "17123456", "1"]:
        web_chat.say(answer)
    (final,) = web_chat.say("1")
    assert final.startswith("Registered! Number BR-")
    assert web_chat.last["ended"] is True
    assert web_chat.last["replies"][0]["link"]

    (submission,) = web_chat.admin("/submissions")
    assert (submission["mode"], submission["status"]) == ("instant", "issued")
    assert submission["phone"] == NUMBER
    # The proved number also gets the link by SMS (the chat may be closed by then).
    forms = web_chat.sms.wait_for(2)
    assert forms[1]["to"] == NUMBER
    assert forms[1]["message"].startswith(
        f"Certificate of Business Registration {submission['reference']}:"
    )


@pytest.mark.parametrize("web_chat", [OTHER_NUMBER], indirect=True)
def test_a_census_holding_another_number_sends_the_web_application_to_an_officer(
    web_chat: WebChat,
) -> None:
    register_until_the_code(web_chat)
    sent_to_an_officer(web_chat, web_chat.code_by_sms())
    (submission,) = web_chat.admin("/submissions")
    assert (submission["mode"], submission["status"]) == ("review", "pending")


@pytest.mark.parametrize("web_chat", [NUMBER], indirect=True)
def test_a_wrong_code_typed_on_the_web_chat_says_the_tries_left(web_chat: WebChat) -> None:
    register_until_the_code(web_chat)
    typed = wrong(web_chat.code_by_sms())
    (screen,) = web_chat.say(typed)
    assert screen.startswith("That code is not right. 4 tries left.")
    assert web_chat.census == []


# A newcomer's `make run`: development, no SMS provider, the demo census -------------------


@pytest.fixture
def development(redis_url: str, tmp_path: Path) -> Iterator[WebChat]:
    settings = Settings(
        development=True,
        redis_url=redis_url,
        var_dir=tmp_path / "var",
        at_api_key=None,
        worker_in_process=False,
        relay_seconds=3600,
    )
    app = create_app(settings)
    with serving(FakeProvider(at_sent)) as sms, TestClient(app) as client:
        yield WebChat(client, sms)  # `sms` stays empty: no provider is configured
        queued_after_replies(Runtime.of(app).submissions)


def queued_after_replies(submissions: Submissions) -> None:
    """Wait for the notifications a submission queues after its reply: stopped while
    queueing, the app would leave the queue's connection open."""
    deadline = time.monotonic() + 5
    while submissions.queueing:
        assert time.monotonic() < deadline, "notifications still being queued"
        time.sleep(0.01)


def logged_code(caplog: pytest.LogCaptureFixture) -> str:
    codes = [
        found.group(1)
        for record in caplog.records
        if (found := LOGGED_CODE.search(record.getMessage())) is not None
    ]
    assert len(codes) == 1, codes
    return codes[0]


def test_in_development_the_code_is_logged_and_the_demo_census_confirms_a_sample_citizen(
    development: WebChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.security.verification")
    register_until_the_code(development)
    assert development.say(logged_code(caplog)) == [
        "Thank you, your number is confirmed.",
        "Welcome Pema Wangmo. Enter the name of your business",
    ]
    for answer in ["Pema Store", "1", "2", "14", "17123456", "1"]:
        development.say(answer)
    (final,) = development.say("1")
    assert final.startswith("Registered! Number BR-")
    assert development.sms.calls == []


def test_in_development_a_cid_not_in_the_demo_census_goes_to_review(
    development: WebChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.security.verification")
    development.say("")
    development.say("2")
    development.say("12345678901")
    development.say("17123456")
    sent_to_an_officer(development, logged_code(caplog))
