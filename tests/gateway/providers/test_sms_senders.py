"""The SMS senders against fake providers: Africa's Talking's messaging API and Twilio's
REST API, each a real HTTP server on a loopback port that records every request and
answers as the provider does (it can be told how to answer the next requests)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest

from dialogs.messages import Reply, ReplyOption
from gateway.delivery.outbox import Outbox
from gateway.delivery.outgoing import Outgoing, SendContext, SendError
from gateway.delivery.worker import build_worker
from gateway.providers import SENDERS
from gateway.providers.africastalking.sender import send_sms_africastalking
from gateway.providers.twilio.sender import send_sms_twilio, send_whatsapp_twilio
from gateway.settings import Settings
from tests.gateway.fake_providers import (
    Answer,
    Call,
    FakeProvider,
    at_answer,
    at_recipient,
    at_sent,
    serving,
)
from tests.redis_databases import RedisDatabase

CITIZEN = "+97517123456"
AT_KEY = "atsk_5f0c1e2d3b4a69788766554433221100aabbccddeeff0011"
AT_USERNAME = "govbt"
ACCOUNT = "AC" + "3f" * 16
TWILIO_TOKEN = "9f3c2a7be41d4c0f8a6b5e2d1c0b9a87"
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"
SERVICE = "MG" + "a1" * 16
LINK = "https://gw.example.gov.bt/d/Tk9QRQ"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


@pytest.fixture
def fake_at() -> Iterator[FakeProvider]:
    """Africa's Talking's messaging API: every SMS sent (statusCode 101)."""
    with serving(FakeProvider(at_sent)) as fake:
        yield fake


def at_settings(fake: FakeProvider, **extra: Any) -> Settings:
    options: dict[str, Any] = {
        "at_api_key": AT_KEY,
        "at_username": AT_USERNAME,
        "at_sms_url": fake.url + "/version1/messaging",
        **extra,
    }
    return Settings(**options)


# Twilio ------------------------------------------------------------------------------------


def twilio_sent(call: Call, n: int) -> Answer:
    """A Message resource as Twilio's REST API answers `messages.create`."""
    sid = "SM" + uuid.uuid4().hex
    return 201, {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": call.form.get("Body"),
        "date_created": "Thu, 24 Aug 2026 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2026 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": call.form.get("From"),
        "messaging_service_sid": call.form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media.json"},
        "to": call.form.get("To"),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json",
    }


def twilio_error(status: int, code: int, message: str) -> Answer:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.fixture
def fake_twilio() -> Iterator[FakeProvider]:
    with serving(FakeProvider(twilio_sent)) as fake:
        yield fake


def twilio_settings(fake: FakeProvider, **extra: Any) -> Settings:
    options: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": SMS_NUMBER,
        "twilio_api_url": fake.url,
        **extra,
    }
    return Settings(**options)


# Helpers -----------------------------------------------------------------------------------


def outgoing(sender: str, *replies: Reply, address: str = CITIZEN, key: str = "") -> Outgoing:
    if not replies:
        replies = (
            Reply("Registered! Number BR-2026-000042.", link=LINK),
            Reply("Type of business", (ReplyOption("1", "Cottage"), ReplyOption("2", "Small"))),
        )
    return Outgoing(sender, address, [Outgoing.encode(reply) for reply in replies], key=key)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def refusal(sender: Any, item: Outgoing, context: SendContext) -> SendError:
    with pytest.raises(SendError) as refused:
        await sender(item, context)
    return refused.value


def test_the_senders_are_registered() -> None:
    assert SENDERS["sms/africastalking"].send is send_sms_africastalking
    assert SENDERS["sms/twilio"].send is send_sms_twilio
    assert SENDERS["whatsapp/twilio"].send is send_whatsapp_twilio


# Africa's Talking: what is sent -----------------------------------------------------------


async def test_africastalking_posts_each_reply_as_a_form_with_the_api_key(
    fake_at: FakeProvider, http: httpx.AsyncClient
) -> None:
    await send_sms_africastalking(
        outgoing("sms/africastalking"), SendContext(at_settings(fake_at), http)
    )
    assert [call.path for call in fake_at.calls] == ["/version1/messaging"] * 2
    for call in fake_at.calls:
        assert call.headers["apikey"] == AT_KEY
        assert call.headers["accept"] == "application/json"
        assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert fake_at.forms() == [
        {
            "username": AT_USERNAME,
            "to": CITIZEN,
            "message": f"Registered! Number BR-2026-000042.\n{LINK}",
        },
        {
            "username": AT_USERNAME,
            "to": CITIZEN,
            "message": "Type of business\n1. Cottage\n2. Small",
        },
    ]


async def test_africastalking_sends_from_the_sender_id_when_set(
    fake_at: FakeProvider, http: httpx.AsyncClient
) -> None:
    settings = at_settings(fake_at, at_sender_id="GovBhutan")
    await send_sms_africastalking(
        outgoing("sms/africastalking", Reply("hi")), SendContext(settings, http)
    )
    assert fake_at.forms() == [
        {"username": AT_USERNAME, "to": CITIZEN, "message": "hi", "from": "GovBhutan"}
    ]


async def test_africastalking_cuts_a_long_text_at_line_ends(
    fake_at: FakeProvider, http: httpx.AsyncClient
) -> None:
    text = "\n".join(f"{n}. " + "x" * 95 for n in range(1, 21))  # about 2,000 characters
    context = SendContext(at_settings(fake_at), http)
    await send_sms_africastalking(outgoing("sms/africastalking", Reply(text)), context)
    sent = [form["message"] for form in fake_at.forms()]
    assert len(sent) == 3
    assert all(len(part) <= 918 for part in sent)
    assert "\n".join(sent) == text


@pytest.mark.parametrize(
    ("answer", "retry"),
    [
        ((500, "Internal Server Error"), True),
        ((502, "Bad Gateway"), True),
        ((503, {"error": "unavailable"}), True),
        ((429, "Too Many Requests"), True),
        ((401, "The supplied authentication is invalid"), False),
        ((400, "Request is missing required form field 'to'"), False),
        (at_answer([at_recipient(CITIZEN, 403, "InvalidPhoneNumber")]), False),
        (at_answer([at_recipient(CITIZEN, 406, "UserInBlacklist")]), False),
        (at_answer([at_recipient(CITIZEN, 405, "InsufficientBalance")]), False),
        (at_answer([at_recipient(CITIZEN, 500, "InternalServerError")]), True),
        (at_answer([at_recipient(CITIZEN, 501, "GatewayError")]), True),
        ((201, {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}), False),
        ((201, "not json"), False),
    ],
)
async def test_africastalking_failures_are_classified(
    fake_at: FakeProvider, http: httpx.AsyncClient, answer: Answer, retry: bool
) -> None:
    fake_at.next.append(answer)
    context = SendContext(at_settings(fake_at), http)
    error = await refusal(send_sms_africastalking, outgoing("sms/africastalking"), context)
    assert error.retry is retry, str(error)
    assert len(fake_at.calls) == 1  # the first failure stops the rest
    assert AT_KEY not in str(error)


async def test_africastalking_status_100_and_102_are_successes(
    fake_at: FakeProvider, http: httpx.AsyncClient
) -> None:
    fake_at.next += [
        at_answer([at_recipient(CITIZEN, 100, "Processed")]),
        at_answer([at_recipient(CITIZEN, 102, "Queued")]),
    ]
    await send_sms_africastalking(
        outgoing("sms/africastalking"), SendContext(at_settings(fake_at), http)
    )
    assert len(fake_at.calls) == 2


async def test_africastalking_without_an_api_key_sends_nothing_and_does_not_retry(
    fake_at: FakeProvider, http: httpx.AsyncClient
) -> None:
    context = SendContext(at_settings(fake_at, at_api_key=None), http)
    error = await refusal(send_sms_africastalking, outgoing("sms/africastalking"), context)
    assert error.retry is False
    assert "GATEWAY_AT_API_KEY" in str(error)
    assert fake_at.calls == []


async def test_africastalking_unreachable_is_retried(http: httpx.AsyncClient) -> None:
    settings = Settings(at_api_key=AT_KEY, at_sms_url="http://127.0.0.1:9/version1/messaging")
    error = await refusal(
        send_sms_africastalking, outgoing("sms/africastalking"), SendContext(settings, http)
    )
    assert error.retry is True


# Africa's Talking through the outbox and the worker ----------------------------------------


async def test_the_worker_retries_africastalking_then_sends(
    fake_at: FakeProvider, redis_database: RedisDatabase
) -> None:
    fake_at.next += [
        (503, "Service Unavailable"),
        at_answer([at_recipient(CITIZEN, 500, "InternalServerError")]),
    ]
    url = redis_database.url
    settings = at_settings(
        fake_at, redis_url=url, worker_poll_seconds=0.01, send_retry_seconds=0.01
    )
    box = Outbox(url, settings.queue_name)
    try:
        assert await box.send(outgoing("sms/africastalking", Reply("hi"), key="at-sms:1"))
    finally:
        await box.close()
    worker = build_worker(settings, url, burst=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    assert (worker.jobs_complete, worker.jobs_retried, worker.jobs_failed) == (1, 2, 0)
    assert [form["message"] for form in fake_at.forms()] == ["hi"] * 3


# Twilio -----------------------------------------------------------------------------------


def basic_auth(call: Call) -> tuple[str, str]:
    kind, _, value = call.headers["authorization"].partition(" ")
    assert kind == "Basic"
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


async def test_twilio_creates_one_message_per_reply_with_basic_auth(
    fake_twilio: FakeProvider, http: httpx.AsyncClient
) -> None:
    await send_sms_twilio(outgoing("sms/twilio"), SendContext(twilio_settings(fake_twilio), http))
    assert [call.path for call in fake_twilio.calls] == [MESSAGES_PATH] * 2
    for call in fake_twilio.calls:
        assert basic_auth(call) == (ACCOUNT, TWILIO_TOKEN)
        assert call.headers["content-type"] == "application/x-www-form-urlencoded"
        assert call.headers["accept"] == "application/json"
    assert fake_twilio.forms() == [
        {"To": CITIZEN, "From": SMS_NUMBER, "Body": f"Registered! Number BR-2026-000042.\n{LINK}"},
        {"To": CITIZEN, "From": SMS_NUMBER, "Body": "Type of business\n1. Cottage\n2. Small"},
    ]


async def test_twilio_sends_through_a_messaging_service_when_configured(
    fake_twilio: FakeProvider, http: httpx.AsyncClient
) -> None:
    settings = twilio_settings(fake_twilio, twilio_messaging_service_sid=SERVICE)
    await send_sms_twilio(outgoing("sms/twilio", Reply("hi")), SendContext(settings, http))
    assert fake_twilio.forms() == [{"To": CITIZEN, "MessagingServiceSid": SERVICE, "Body": "hi"}]


async def test_whatsapp_through_twilio_uses_whatsapp_addresses(
    fake_twilio: FakeProvider, http: httpx.AsyncClient
) -> None:
    settings = twilio_settings(fake_twilio, twilio_from_number=WHATSAPP_NUMBER)
    context = SendContext(settings, http)
    await send_whatsapp_twilio(outgoing("whatsapp/twilio", Reply("hi")), context)
    address = f"whatsapp:{CITIZEN}"
    await send_whatsapp_twilio(
        outgoing("whatsapp/twilio", Reply("again"), address=address), context
    )
    assert fake_twilio.forms() == [
        {"To": address, "From": f"whatsapp:{WHATSAPP_NUMBER}", "Body": "hi"},
        {"To": address, "From": f"whatsapp:{WHATSAPP_NUMBER}", "Body": "again"},
    ]
    assert {basic_auth(call) for call in fake_twilio.calls} == {(ACCOUNT, TWILIO_TOKEN)}


async def test_twilio_cuts_a_body_longer_than_1600_characters(
    fake_twilio: FakeProvider, http: httpx.AsyncClient
) -> None:
    text = "\n".join(f"{n}. " + "y" * 95 for n in range(1, 31))  # about 3,000 characters
    context = SendContext(twilio_settings(fake_twilio), http)
    await send_sms_twilio(outgoing("sms/twilio", Reply(text)), context)
    bodies = [form["Body"] for form in fake_twilio.forms()]
    assert len(bodies) == 2
    assert all(len(body) <= 1600 for body in bodies)
    assert "\n".join(bodies) == text


@pytest.mark.parametrize(
    ("answer", "retry"),
    [
        (twilio_error(429, 20429, "Too Many Requests"), True),
        (twilio_error(500, 20500, "Internal Server Error"), True),
        (twilio_error(503, 20503, "Service Unavailable"), True),
        (twilio_error(400, 21211, "The 'To' number +975 is not a valid phone number."), False),
        (twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), False),
        (twilio_error(401, 20003, "Authenticate"), False),
        (twilio_error(404, 20404, "The requested resource was not found"), False),
    ],
)
@pytest.mark.parametrize("sender", ["sms/twilio", "whatsapp/twilio"])
async def test_twilio_failures_are_classified(
    fake_twilio: FakeProvider, http: httpx.AsyncClient, answer: Answer, retry: bool, sender: str
) -> None:
    fake_twilio.next.append(answer)
    context = SendContext(twilio_settings(fake_twilio), http)
    error = await refusal(SENDERS[sender].send, outgoing(sender), context)
    assert error.retry is retry, str(error)
    assert str(answer[1]["code"]) in str(error)
    assert len(fake_twilio.calls) == 1
    assert TWILIO_TOKEN not in str(error)


@pytest.mark.parametrize(
    "missing",
    [
        {"twilio_account_sid": ""},
        {"twilio_auth_token": None},
        {"twilio_from_number": "", "twilio_messaging_service_sid": ""},
    ],
)
async def test_twilio_without_credentials_or_sender_sends_nothing_and_does_not_retry(
    fake_twilio: FakeProvider, http: httpx.AsyncClient, missing: dict[str, Any]
) -> None:
    context = SendContext(twilio_settings(fake_twilio, **missing), http)
    error = await refusal(send_sms_twilio, outgoing("sms/twilio"), context)
    assert error.retry is False
    assert fake_twilio.calls == []


async def test_twilio_unreachable_is_retried(http: httpx.AsyncClient) -> None:
    settings = Settings(
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_from_number=SMS_NUMBER,
        twilio_api_url="http://127.0.0.1:9",
    )
    error = await refusal(send_sms_twilio, outgoing("sms/twilio"), SendContext(settings, http))
    assert error.retry is True
    assert TWILIO_TOKEN not in str(error)
