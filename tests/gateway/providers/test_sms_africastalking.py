"""SMS through Africa's Talking end to end: the inbound callback as Africa's Talking posts
it, replies queued in the outbox and sent by the in-process worker to a fake messaging API
(a real HTTP server on a loopback port), and delivery reports in the message log.

The app runs on a real Redis (a database the test leased, `redis_database`) with the
shipped services; the census lookup and the submission store are fakes that count their
calls. What the citizen is sent is compared with what the conversation answered
(`recorded_replies`), never with the shipped services' wording.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialogs.media import Medium
from dialogs.messages import Reply, ReplyOption
from gateway.app import create_app
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers import WEBHOOKS
from gateway.providers.africastalking.sms import AfricasTalkingSms, AfricasTalkingSmsReports
from gateway.runtime import Runtime
from tests.dialogs.helpers import SERVICES_DIR
from tests.gateway.fake_providers import FakeProvider, at_answer, at_recipient
from tests.gateway.providers.apps import Effects, app_keys, recorded_replies, shown
from tests.gateway.providers.test_sms_senders import AT_KEY, AT_USERNAME, at_settings, fake_at
from tests.redis_databases import RedisDatabase

__all__ = ["fake_at"]  # the fixture, shared with the sender tests

TOKEN = "k2S9vQ4mX7pL1zR8"
ADMIN = "admin-7c1f0e9d4b2a6e81"
CITIZEN = "+97517123456"
SHORT_CODE = "21525"
PATH = "/channels/sms/africastalking"
REPORTS = "/channels/sms/africastalking/reports"
REGISTRATION = ["hi", "2", "11501001234", "Druk Bakery", "1", "6", "14", "17123456", "1", "yes"]


def inbound(text: str, message_id: str | None = None, sender: str = CITIZEN) -> dict[str, str]:
    """An inbound SMS as Africa's Talking posts it to the callback URL."""
    return {
        "linkId": "SampleLinkId123",
        "text": text,
        "to": SHORT_CODE,
        "id": message_id or str(uuid.uuid4()),
        "date": "2026-11-28 09:30:00",
        "from": sender,
    }


def report(message_id: str, status: str, reason: str = "") -> dict[str, str]:
    """A delivery report as Africa's Talking posts it."""
    form = {
        "phoneNumber": CITIZEN,
        "retryCount": "0",
        "status": status,
        "networkCode": "40201",
        "id": message_id,
    }
    if reason:
        form["failureReason"] = reason
    return form


@dataclass
class Gateway:
    app: FastAPI
    client: TestClient
    effects: Effects
    at: FakeProvider
    redis: redis.Redis
    said: list[list[Reply]]  # what the conversations answered, one list per message

    def post(self, path: str, form: dict[str, str], token: str | None = TOKEN) -> httpx.Response:
        url = path if token is None else f"{path}?token={token}"
        return self.client.post(url, data=form)

    def log(self, address: str = CITIZEN) -> list[dict[str, Any]]:
        response = self.client.get(
            "/api/v1/messages",
            params={"address": address},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows

    def outbound(self) -> int:
        return sum(row["direction"] == "out" for row in self.log())

    def sms(self, text: str, message_id: str | None = None) -> list[str]:
        """Send `text`; the SMS texts the gateway sent back (waits for the worker)."""
        before = len(self.at.calls)
        response = self.post(PATH, inbound(text, message_id))
        assert response.status_code == 200, response.text
        assert response.text == "OK"
        expected = self.outbound()  # the replies are logged (queued) before the answer ends
        forms = self.at.wait_for(expected)
        return [form["message"] for form in forms[before:]]

    def stored(self) -> list[bytes]:
        """The keys in the app's Redis database, but the worker's health check."""
        return app_keys(self.redis)


@pytest.fixture
def gw(fake_at: FakeProvider, tmp_path: Path, redis_database: RedisDatabase) -> Iterator[Gateway]:
    settings = at_settings(
        fake_at,
        services_dir=SERVICES_DIR,
        var_dir=tmp_path,  # the message log's own database
        redis_url=redis_database.url,
        ussd_token=TOKEN,
        admin_token=ADMIN,
        worker_in_process=True,
        worker_poll_seconds=0.01,
        send_retry_seconds=0.05,
    )
    app = create_app(settings)
    effects = Effects()
    connection = redis_database.client()
    try:
        with TestClient(app) as client:
            Runtime.of(app).conversations.lookup = effects.lookup
            Runtime.of(app).conversations.submit = effects.submit
            said = recorded_replies(app)
            yield Gateway(app, client, effects, fake_at, connection, said)
    finally:
        connection.close()


def test_the_adapters_are_registered() -> None:
    assert isinstance(WEBHOOKS["sms/africastalking"], AfricasTalkingSms)
    assert isinstance(WEBHOOKS["sms/africastalking/reports"], AfricasTalkingSmsReports)


def test_replies_become_an_outgoing_for_the_sender() -> None:
    message = Message(CITIZEN, Medium.SMS, "1", message_id="at-sms:abc")
    reply = Reply("Type of business", (ReplyOption("1", "Cottage"),))
    outgoing = AfricasTalkingSms().outgoing(message, None, [reply])
    assert outgoing == Outgoing(
        sender="sms/africastalking",
        address=CITIZEN,
        replies=[Outgoing.encode(reply)],
        key="at-sms:abc",
    )
    assert outgoing.decoded() == [reply]


def test_a_business_registration_over_africastalking_sms(gw: Gateway) -> None:
    screens = [gw.sms(text) for text in REGISTRATION]
    # Each reply the conversation gave is an SMS, as SMS shows it (numbered options,
    # the certificate's link written in).
    assert screens == [shown(replies, Medium.SMS) for replies in gw.said]
    assert all(screens)
    assert gw.said[-1][-1].end
    assert "https://gw.bt/d/x" in screens[-1][-1]  # what apps.Effects issued
    assert len(gw.effects.lookups) == 1
    assert len(gw.effects.submissions) == 1
    assert gw.effects.submissions[0].answers["contact_phone"] == CITIZEN
    for call in gw.at.calls:
        assert call.path == "/version1/messaging"
        assert call.headers["apikey"] == AT_KEY
        assert call.headers["accept"] == "application/json"
        assert call.form["username"] == AT_USERNAME
        assert call.form["to"] == CITIZEN
        assert "from" not in call.form
    log = gw.log()
    inbound_rows = [row for row in log if row["direction"] == "in"]
    assert [row["text"] for row in inbound_rows] == REGISTRATION
    assert {row["channel"] for row in log} == {"sms/africastalking"}
    assert all(row["provider_id"].startswith("at-sms:") for row in inbound_rows)
    assert all(row["segments"] >= 1 for row in log)


def test_a_duplicate_callback_has_one_effect_and_is_sent_once(gw: Gateway) -> None:
    first = gw.sms("hi", "dup-1")
    again = gw.post(PATH, inbound("hi", "dup-1"))
    assert again.status_code == 200
    time.sleep(0.3)  # the worker would have sent a second copy by now
    assert len(gw.at.calls) == len(first)


def test_delivery_reports_update_the_message_log(gw: Gateway) -> None:
    gw.sms("hi")
    message_id = "ATXid_" + f"{1:032x}"  # the messageId the fake API gave the first SMS
    provider_id = f"at-sms:{message_id}"
    response = gw.post(REPORTS, report(message_id, "Sent"))
    assert response.status_code == 200
    assert response.text == "OK"
    rows = [row for row in gw.log() if row["provider_id"] == provider_id]
    assert [(row["direction"], row["status"]) for row in rows] == [("out", "Sent")]
    gw.post(REPORTS, report(message_id, "Failed", "DeliveryFailure"))
    rows = [row for row in gw.log() if row["provider_id"] == provider_id]
    assert [(row["direction"], row["status"]) for row in rows] == [("out", "Failed")]
    gw.post(REPORTS, report(message_id, "Success"))
    rows = [row for row in gw.log() if row["provider_id"] == provider_id]
    assert [row["status"] for row in rows] == ["Success"]


def test_a_refused_send_is_not_retried(gw: Gateway) -> None:
    gw.at.next.append(at_answer([at_recipient(CITIZEN, 403, "InvalidPhoneNumber")]))
    response = gw.post(PATH, inbound("hi"))
    assert response.status_code == 200
    gw.at.wait_for(1)
    time.sleep(0.3)  # a retry would come after 0.05 s
    assert len(gw.at.calls) == 1


def test_a_failing_api_is_retried_until_it_sends(gw: Gateway) -> None:
    gw.at.next += [(503, "Service Unavailable"), (429, "Too Many Requests")]
    response = gw.post(PATH, inbound("hi"))
    assert response.status_code == 200
    forms = gw.at.wait_for(3)
    assert forms[0] == forms[1] == forms[2]
    assert [forms[2]["message"]] == shown(gw.said[0], Medium.SMS)


@pytest.mark.parametrize("token", [None, "", "wrong"])
@pytest.mark.parametrize("path", [PATH, REPORTS])
def test_a_missing_or_wrong_token_is_403_and_nothing_is_processed(
    gw: Gateway, token: str | None, path: str
) -> None:
    form = inbound("hi") if path == PATH else report("ATXid_1", "Success")
    response = gw.post(path, form, token=token)
    assert response.status_code == 403
    time.sleep(0.1)
    assert gw.at.calls == []
    assert gw.stored() == []
    assert gw.log() == []


@pytest.mark.parametrize(("development", "status"), [(False, 403), (True, 200)])
def test_without_a_token_or_allow_list_the_callback_is_closed_unless_developing(
    fake_at: FakeProvider,
    tmp_path: Path,
    redis_database: RedisDatabase,
    development: bool,
    status: int,
) -> None:
    """Africa's Talking signs nothing: with neither secret nor allow-list anyone could
    speak as any number and make the gateway send SMS anywhere."""
    settings = at_settings(
        fake_at,
        services_dir=SERVICES_DIR,
        var_dir=tmp_path,
        redis_url=redis_database.url,
        worker_in_process=False,
        development=development,
    )
    with TestClient(create_app(settings)) as client:
        response = client.post(PATH, data=inbound("hi"))
        reports = client.post(REPORTS, data={"id": "ATXid_1", "status": "Success"})
    assert response.status_code == reports.status_code == status
    if development:
        assert response.text == "OK"


@pytest.mark.parametrize(
    ("path", "form", "status"),
    [
        (PATH, {"to": SHORT_CODE, "text": "hi", "id": "x1"}, 400),  # no from
        (PATH, {"from": CITIZEN, "to": SHORT_CODE, "text": "hi"}, 400),  # no id
        (PATH, {**inbound("hi"), "from": "not a number"}, 400),
        (PATH, {**inbound("hi"), "id": "bad id with spaces"}, 400),
        (REPORTS, {"status": "Success", "phoneNumber": CITIZEN}, 400),  # no id
        (REPORTS, {"id": "ATXid_1", "status": " "}, 400),
    ],
)
def test_a_malformed_callback_is_a_400(
    gw: Gateway, path: str, form: dict[str, str], status: int
) -> None:
    response = gw.post(path, form)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert gw.log() == []


@pytest.mark.parametrize("path", [PATH, REPORTS])
def test_a_body_that_is_not_a_form_is_a_4xx(gw: Gateway, path: str) -> None:
    response = gw.client.post(f"{path}?token={TOKEN}", json={"from": CITIZEN})
    assert response.status_code == 415
    response = gw.client.post(
        f"{path}?token={TOKEN}",
        content=b"\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500
