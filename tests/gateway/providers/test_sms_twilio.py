"""SMS through Twilio: signed form webhooks in, TwiML out, status callbacks acknowledged."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fastapi import Request
from pydantic import SecretStr

from dialogs.media import MORE_KEY, Medium
from dialogs.messages import Reply, ReplyOption
from gateway.conversations.messages import Message
from gateway.providers import WEBHOOKS
from gateway.providers.base import DeliveryReport, Received
from gateway.providers.twilio.messaging import MAX_BODY, chunks
from gateway.providers.twilio.signature import compute_signature, public_url, signature_valid
from gateway.providers.twilio.sms import TwilioSms, TwilioStatus
from gateway.settings import Settings
from tests.gateway.providers.apps import shown
from tests.gateway.providers.conftest import (
    CERTIFICATE,
    CITIZEN,
    PUBLIC_URL,
    TOKEN,
    Gateway,
    messages,
    new_sid,
    receive_signed,
    running_gateway,
    sms_params,
    status_params,
)
from tests.redis_databases import RedisDatabase

SMS = "/channels/sms/twilio"
STATUS = "/channels/sms/twilio/status"

# Business registration, from the main menu: the service, the ID (census lookup), the
# business name, type Cottage, activity Bakery, Thimphu, the contact number, the summary
# confirmed, the declaration accepted (submission).
REGISTRATION = ["hi", "2", "11501001234", "Druk Bakery", "1", "6", "14", "17123456", "1", "yes"]


# The signature helper --------------------------------------------------------------------

KNOWN_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
KNOWN_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
KNOWN_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_known_signature_vector() -> None:
    assert compute_signature("12345", KNOWN_URL, KNOWN_PARAMS) == KNOWN_SIGNATURE
    assert signature_valid("12345", KNOWN_URL, KNOWN_PARAMS, KNOWN_SIGNATURE)
    # Twilio signs with or without the default port: both are accepted.
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert signature_valid("12345", with_port, KNOWN_PARAMS, KNOWN_SIGNATURE)


@pytest.mark.parametrize(
    ("token", "url", "params"),
    [
        ("12346", KNOWN_URL, KNOWN_PARAMS),
        ("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", KNOWN_PARAMS),
        ("12345", "http://internal:8000/myapp.php?foo=1&bar=2", KNOWN_PARAMS),
        ("12345", KNOWN_URL, {**KNOWN_PARAMS, "Digits": "1235"}),
        ("12345", KNOWN_URL, {**KNOWN_PARAMS, "Extra": ""}),
        ("12345", KNOWN_URL, {k: v for k, v in KNOWN_PARAMS.items() if k != "Caller"}),
    ],
    ids=["token", "query", "proxy-url", "value", "added-param", "removed-param"],
)
def test_the_known_signature_fails_for_anything_else(
    token: str, url: str, params: dict[str, str]
) -> None:
    assert not signature_valid(token, url, params, KNOWN_SIGNATURE)


def _request(path: str, query: bytes = b"") -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("10.0.0.5", 8000),
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"10.0.0.5:8000")],
    }
    return Request(scope)


@pytest.mark.parametrize("base", [PUBLIC_URL, PUBLIC_URL + "/"])
def test_the_signed_url_is_the_public_one_not_the_one_the_proxy_shows(base: str) -> None:
    settings = Settings(public_url=base)
    assert public_url(_request(SMS), settings) == PUBLIC_URL + SMS
    assert public_url(_request(SMS, b"tenant=moice&x=a%20b"), settings) == (
        PUBLIC_URL + SMS + "?tenant=moice&x=a%20b"
    )


# TwiML -----------------------------------------------------------------------------------


def test_no_replies_is_an_empty_response() -> None:
    response = TwilioSms().respond(Received(context=None), [])
    assert response.media_type == "text/xml"
    assert bytes(response.body).decode() == '<?xml version="1.0" encoding="UTF-8"?><Response />'


def test_one_message_per_reply_rendered_for_sms_and_escaped() -> None:
    replies = [
        Reply("Tashi & Sons <Ltd> saved."),
        Reply("Type of business", (ReplyOption("1", "Cottage"), ReplyOption("2", "Small"))),
        Reply("Registered!", link="https://gw.example.gov.bt/d/x", end=True),
    ]
    body = bytes(TwilioSms().respond(Received(context=None), replies).body).decode()
    assert "Tashi &amp; Sons &lt;Ltd&gt; saved." in body
    root = ET.fromstring(body)
    assert [m.text for m in root] == [
        "Tashi & Sons <Ltd> saved.",
        "Type of business\n1. Cottage\n2. Small",
        "Registered!\nhttps://gw.example.gov.bt/d/x",
    ]


def test_a_reply_longer_than_twilio_accepts_is_sent_in_parts_at_line_ends() -> None:
    lines = [f"{n}. {'x' * 60}" for n in range(1, 60)]
    text = "\n".join(lines)
    parts = list(chunks(text))
    assert len(parts) == 3
    assert all(len(part) <= MAX_BODY for part in parts)
    assert "\n".join(parts) == text
    assert list(chunks("y" * (MAX_BODY + 5))) == ["y" * MAX_BODY, "yyyyy"]
    assert list(chunks("")) == []


def test_the_adapters_are_registered() -> None:
    assert isinstance(WEBHOOKS["sms/twilio"], TwilioSms)
    assert isinstance(WEBHOOKS["sms/twilio/status"], TwilioStatus)


# Through HTTP ----------------------------------------------------------------------------


def test_a_business_registration_over_sms(gw: Gateway) -> None:
    screens = [messages(gw.sms(text)) for text in REGISTRATION]
    # Each answer is TwiML with one <Message> per reply the conversation gave, as SMS
    # shows it (numbered options, the certificate's link written in).
    assert screens == [shown(replies, Medium.SMS) for replies in gw.said]
    assert all(screens)
    options = [option.key for replies in gw.said for reply in replies for option in reply.options]
    assert "14" in options  # the dzongkhags' list...
    assert MORE_KEY not in options  # ... whole: an SMS is not paged like a USSD screen
    assert gw.said[-1][-1].end
    assert CERTIFICATE in screens[-1][-1]
    assert len(gw.effects.lookups) == 1
    assert len(gw.effects.submissions) == 1
    submitted = gw.effects.submissions[0]
    assert submitted.service == "business-registration"
    assert submitted.answers["business_name"] == "Druk Bakery"
    assert submitted.answers["contact_phone"] == "+97517123456"
    record = gw.session(CITIZEN)
    assert record is not None
    assert record.channel == "sms"


def test_a_duplicate_delivery_gets_the_same_twiml_and_has_one_effect(gw: Gateway) -> None:
    for text in REGISTRATION:
        sid = new_sid()
        first = gw.sms(text, sid)
        again = gw.sms(text, sid)  # Twilio retried: the same MessageSid
        assert again.status_code == first.status_code == 200
        assert again.content == first.content
        assert messages(first)
    assert len(gw.effects.lookups) == 1
    assert len(gw.effects.submissions) == 1
    assert gw.sms("1", sid).content == first.content  # long after, still the same answer


def test_a_query_string_is_part_of_the_signed_url(gw: Gateway) -> None:
    params = sms_params("hi", new_sid())
    url = f"{PUBLIC_URL}{SMS}?tenant=moice"
    response = gw.post(f"{SMS}?tenant=moice", params, signed_url=url)
    assert messages(response) == shown(gw.said[-1], Medium.SMS)
    params = sms_params("hi", new_sid())
    signed_without_query = gw.post(f"{SMS}?tenant=moice", params, signed_url=PUBLIC_URL + SMS)
    assert signed_without_query.status_code == 403


def _refused(gw: Gateway, response_status: int, expected: int = 403) -> None:
    assert response_status == expected
    assert gw.session(CITIZEN) is None
    assert gw.stored_keys() == 0  # nothing processed, nothing remembered
    assert gw.effects.lookups == []


def test_a_wrong_signature_is_refused_and_nothing_is_processed(gw: Gateway) -> None:
    params = sms_params("hi", new_sid())
    response = gw.post(SMS, params, signature=compute_signature("0" * 32, PUBLIC_URL + SMS, params))
    _refused(gw, response.status_code)
    assert response.json() == {"detail": "wrong X-Twilio-Signature"}


def test_a_missing_signature_is_refused(gw: Gateway) -> None:
    response = gw.client.post(SMS, data=sms_params("hi", new_sid()))
    _refused(gw, response.status_code)
    _refused(gw, gw.post(SMS, sms_params("hi", new_sid()), signature="").status_code)


@pytest.mark.parametrize(
    "proxy_url",
    [
        "http://testserver/channels/sms/twilio",  # what the app sees behind the proxy
        "http://10.0.0.5:8000/channels/sms/twilio",
        "http://gw.example.gov.bt/channels/sms/twilio",  # the scheme counts too
        "https://gw.example.gov.bt/channels/whatsapp/twilio",  # another endpoint
    ],
)
def test_a_signature_for_another_url_is_refused(gw: Gateway, proxy_url: str) -> None:
    response = gw.post(SMS, sms_params("hi", new_sid()), signed_url=proxy_url)
    _refused(gw, response.status_code)


def test_a_tampered_or_extended_body_is_refused(gw: Gateway) -> None:
    params = sms_params("hi", new_sid())
    signature = compute_signature(TOKEN, PUBLIC_URL + SMS, params)
    tampered = {**params, "From": "+97577999999"}
    _refused(gw, gw.post(SMS, tampered, signature=signature).status_code)
    extended = {**params, "MediaUrl0": "https://evil.example/x.png"}
    _refused(gw, gw.post(SMS, extended, signature=signature).status_code)


def test_parameters_twilio_adds_without_notice_are_signed_over_and_accepted(
    gw: Gateway,
) -> None:
    params = {**sms_params("hi", new_sid()), "AddressRetention": "retain", "Unheard": "x"}
    assert messages(gw.post(SMS, params)) == shown(gw.said[-1], Medium.SMS)


def test_without_an_auth_token_every_twilio_request_is_refused(
    redis_database: RedisDatabase,
) -> None:
    with running_gateway(redis_database, twilio_auth_token=None) as gateway:
        params = sms_params("hi", new_sid())
        for signature in ["", compute_signature("", PUBLIC_URL + SMS, params)]:
            response = gateway.post(SMS, params, signature=signature)
            _refused(gateway, response.status_code)
        status = status_params("delivered", new_sid())
        assert gateway.post(STATUS, status).status_code == 403
    with running_gateway(redis_database, twilio_auth_token=SecretStr("")) as gateway:
        params = sms_params("hi", new_sid())
        signature = compute_signature("", PUBLIC_URL + SMS, params)
        _refused(gateway, gateway.post(SMS, params, signature=signature).status_code)


def test_a_shared_key_signature_is_refused_while_none_is_configured(gw: Gateway) -> None:
    headers = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=x"}
    response = gw.post(SMS, sms_params("hi", new_sid()), headers=headers)
    _refused(gw, response.status_code)


def _signed(params: dict[str, str]) -> str:
    return compute_signature(TOKEN, PUBLIC_URL + SMS, params)


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in sms_params("hi", new_sid()).items() if k != name}


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        (_without("From"), 400, "missing form fields: From"),
        (_without("MessageSid"), 400, "missing form fields: MessageSid"),
        ({**sms_params("hi", new_sid()), "From": ""}, 400, "missing form fields: From"),
        ({**sms_params("hi", new_sid()), "From": "PEMA"}, 400, "not an E.164"),
        ({**sms_params("hi", new_sid()), "From": "97517123456"}, 400, "not an E.164"),
        ({**sms_params("hi", "SM<script>")}, 400, "not a Twilio message SID"),
    ],
    ids=["no-from", "no-sid", "empty-from", "letters", "no-plus", "bad-sid"],
)
def test_a_signed_but_malformed_body_is_a_400(
    gw: Gateway, params: dict[str, str], status: int, detail: str
) -> None:
    response = gw.post(SMS, params)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    _refused(gw, response.status_code, status)


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"From": "+97517123456", "Body": "hi"}', "application/json", 415),
        (b"From=+97517123456&Body=hi", "text/plain", 415),
        (b"\xff\xfe\x00garbage", "application/octet-stream", 415),
        (b"From=%2B97517123456&Body=hi", "application/x-www-form-urlencoded", 403),
        (b"\xff\xfe=\x00&&==", "application/x-www-form-urlencoded", 403),
        (b"", "application/x-www-form-urlencoded", 400),  # signed, but empty
    ],
    ids=["json", "text", "binary", "form-unsigned-for-it", "junk-form", "empty-form"],
)
def test_a_body_that_is_not_a_twilio_form_is_a_4xx(
    gw: Gateway, content: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type, "X-Twilio-Signature": _signed({})}
    response = gw.client.post(SMS, content=content, headers=headers)
    _refused(gw, response.status_code, status)


def test_a_multipart_body_is_refused(gw: Gateway) -> None:
    response = gw.client.post(
        SMS,
        data=sms_params("hi", new_sid()),
        files={"MediaUrl0": ("x.png", b"\x89PNG", "image/png")},
        headers={"X-Twilio-Signature": _signed({})},
    )
    _refused(gw, response.status_code, 415)


# Status callbacks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_code"),
    [("queued", None), ("sent", None), ("delivered", None), ("undelivered", "30003")],
)
def test_a_status_callback_is_acknowledged(
    gw: Gateway, status: str, error_code: str | None
) -> None:
    response = gw.post(STATUS, status_params(status, new_sid(), error_code))
    assert response.status_code == 204
    assert response.content == b""
    assert gw.stored_keys() == 0  # a status is no citizen's message


def test_a_status_callback_is_signature_checked_and_validated(gw: Gateway) -> None:
    params = status_params("delivered", new_sid())
    assert gw.post(STATUS, params, signed_url=PUBLIC_URL + SMS).status_code == 403
    assert gw.post(STATUS, params, signature="bm9wZQ==").status_code == 403
    missing = {k: v for k, v in params.items() if k != "MessageStatus"}
    response = gw.post(STATUS, missing)
    assert response.status_code == 400
    assert response.json() == {"detail": "missing form fields: MessageStatus"}


async def test_what_the_adapters_hand_over() -> None:
    sid = new_sid()
    received = await receive_signed(TwilioSms(), SMS, sms_params("Druk Bakery", sid))
    assert received.message == Message(
        citizen=CITIZEN,
        medium=Medium.SMS,
        text="Druk Bakery",
        message_id=f"twilio:{sid}",
        remember=8 * 24 * 3600,  # Twilio signs no time: its ids are remembered 8 days
    )
    status = await receive_signed(TwilioStatus(), STATUS, status_params("failed", sid, "30008"))
    assert status == Received(
        context=None,
        reports=(DeliveryReport(f"twilio:{sid}", "failed", CITIZEN, errors=("30008",)),),
    )
