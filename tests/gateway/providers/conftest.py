"""A running gateway for the Twilio tests, and Twilio's webhooks as Twilio sends them.

The app runs on a real Redis (a database the test leased, `redis_database`) with the
shipped services; the census lookup and the submission store are fakes that count their
calls.
Requests carry every parameter Twilio posts and are signed as Twilio signs them, for the
public URL the gateway is configured with.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import pytest
import redis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from dialogs.messages import LookupRequest, LookupResult, Reply, Submission, SubmissionResult
from gateway.app import create_app
from gateway.conversations.messages import Applicant
from gateway.providers.base import Received, Webhook
from gateway.providers.twilio.signature import compute_signature
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.store import SessionRecord
from tests.dialogs.helpers import CENSUS_MOBILE, SERVICES_DIR
from tests.gateway.providers.apps import app_keys, recorded_replies
from tests.redis_databases import RedisDatabase

TOKEN = "9f3c2a7be41d4c0f8a6b5e2d1c0b9a87"  # a Twilio auth token is 32 hex digits
PUBLIC_URL = "https://gw.example.gov.bt"
ACCOUNT = "AC" + "3f" * 16
SERVICE = "MG" + "a1" * 16
CITIZEN = "+97517123456"
SMS_NUMBER = "+15005550006"  # the gateway's Twilio number
WHATSAPP_NUMBER = "+14155238886"
REFERENCE = "BR-2026-000042"
CERTIFICATE = "https://gw.example.gov.bt/d/Tk9QRQ"


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def sms_params(body: str, sid: str, sender: str = CITIZEN) -> dict[str, str]:
    """An inbound SMS exactly as Twilio posts it (parameter order as Twilio sends it)."""
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "BT",
        "To": SMS_NUMBER,
        "MessagingServiceSid": SERVICE,
        "ToZip": "",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def whatsapp_params(
    body: str, sid: str, payload: str | None = None, sender: str = CITIZEN
) -> dict[str, str]:
    """An inbound WhatsApp message as Twilio posts it; with `payload`, a quick-reply tap."""
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Pema",
        "MessageType": "text" if payload is None else "button",
        "SmsSid": sid,
        "WaId": sender.removeprefix("+"),
        "SmsStatus": "received",
        "Body": body,
        "To": f"whatsapp:{WHATSAPP_NUMBER}",
        "MessagingServiceSid": SERVICE,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": f"whatsapp:{sender}",
        "ApiVersion": "2010-04-01",
    }
    if payload is not None:
        params |= {
            "ButtonText": body,
            "ButtonPayload": payload,
            "OriginalRepliedMessageSender": f"whatsapp:{WHATSAPP_NUMBER}",
            "OriginalRepliedMessageSid": new_sid(),
        }
    return params


def status_params(status: str, sid: str, error_code: str | None = None) -> dict[str, str]:
    """A status callback for a message the gateway sent, as Twilio posts it."""
    params = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": CITIZEN,
        "MessagingServiceSid": SERVICE,
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": SMS_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = error_code
    return params


def messages(response: httpx.Response) -> list[str]:
    """The bodies of the TwiML <Message> elements of a response."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root)
    return [child.text or "" for child in root]


@dataclass
class Effects:
    """The fake census and submission store, counting what was performed."""

    lookups: list[LookupRequest] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)

    async def lookup(self, request: LookupRequest) -> LookupResult:
        self.lookups.append(request)
        return LookupResult(ok=True, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE})

    async def submit(self, submission: Submission, applicant: Applicant) -> SubmissionResult:
        self.submissions.append(submission)
        return SubmissionResult(ok=True, reference=REFERENCE, status="issued", link=CERTIFICATE)


@dataclass
class Gateway:
    """The running app, with Twilio's side of the conversation."""

    app: FastAPI
    client: TestClient
    effects: Effects
    redis: redis.Redis
    said: list[list[Reply]]  # what the conversations answered, one list per message

    def post(
        self,
        path: str,
        params: dict[str, str],
        *,
        signed_url: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST `params` as a form, signed for `signed_url` (default: the public URL)."""
        if signature is None:
            signature = compute_signature(TOKEN, signed_url or PUBLIC_URL + path, params)
        return self.client.post(
            path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
        )

    def sms(self, body: str, sid: str | None = None) -> httpx.Response:
        return self.post("/channels/sms/twilio", sms_params(body, sid or new_sid()))

    def whatsapp(
        self, body: str, payload: str | None = None, sid: str | None = None
    ) -> httpx.Response:
        params = whatsapp_params(body, sid or new_sid(), payload)
        return self.post("/channels/whatsapp/twilio", params)

    def session(self, citizen: str = CITIZEN) -> SessionRecord | None:
        portal = self.client.portal
        assert portal is not None
        record: SessionRecord | None = portal.call(
            Runtime.of(self.app).conversations.store.read, citizen
        )
        return record

    def stored_keys(self) -> int:
        """How many keys the app wrote to its Redis database."""
        return len(app_keys(self.redis))


async def receive_signed(channel: Webhook, path: str, params: dict[str, str]) -> Received[Any]:
    """What `channel` makes of `params` posted to `path`, signed, without the app."""
    body = urlencode(params).encode()
    signature = compute_signature(TOKEN, PUBLIC_URL + path, params)
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"x-twilio-signature", signature.encode()),
        ],
    }
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    settings = Settings(twilio_auth_token=TOKEN, public_url=PUBLIC_URL)
    return await channel.receive(Request(scope, receive), settings)


@contextmanager
def running_gateway(database: RedisDatabase, **settings: Any) -> Iterator[Gateway]:
    """The app on the leased `database`, with fake effects."""
    connection = database.client()
    options: dict[str, Any] = {
        "services_dir": SERVICES_DIR,
        "redis_url": database.url,
        "twilio_auth_token": TOKEN,
        "public_url": PUBLIC_URL,
        **settings,
    }
    app = create_app(Settings(**options))
    effects = Effects()
    try:
        with TestClient(app) as client:
            Runtime.of(app).conversations.lookup = effects.lookup
            Runtime.of(app).conversations.submit = effects.submit
            said = recorded_replies(app)
            yield Gateway(app, client, effects, connection, said)
    finally:
        connection.close()


@pytest.fixture
def gw(redis_database: RedisDatabase) -> Iterator[Gateway]:
    with running_gateway(redis_database) as gateway:
        yield gateway
