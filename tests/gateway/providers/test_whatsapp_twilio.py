"""WhatsApp through Twilio: `whatsapp:` addresses, quick-reply payloads, numbered text."""

from __future__ import annotations

import pytest

from dialogs.media import Medium
from dialogs.messages import Reply, ReplyOption
from gateway.conversations.messages import Message
from gateway.providers import WEBHOOKS
from gateway.providers.base import Received
from gateway.providers.twilio.signature import compute_signature
from gateway.providers.twilio.whatsapp import TwilioWhatsApp
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
    whatsapp_params,
)

WHATSAPP = "/channels/whatsapp/twilio"
SMS = "/channels/sms/twilio"

# (Body, ButtonPayload): the type and the declaration come as quick-reply taps, whose
# Body is the button's text and whose payload is the option's key.
REGISTRATION: list[tuple[str, str | None]] = [
    ("Hello", None),
    ("2", None),
    ("11501001234", None),
    ("Druk Bakery", None),
    ("Small one please", "2"),
    ("bakery", None),
    ("Thimphu", None),
    ("17123456", None),
    ("1", None),
    ("✅ I agree", "1"),
]


def test_the_adapter_is_registered() -> None:
    assert isinstance(WEBHOOKS["whatsapp/twilio"], TwilioWhatsApp)


def test_replies_are_the_whatsapp_renderers_numbered_text() -> None:
    options = (ReplyOption("1", "Cottage"), ReplyOption("2", "Small"))
    response = TwilioWhatsApp().respond(
        Received(context=None), [Reply("Type of business", options)]
    )
    assert response.media_type == "text/xml"
    assert bytes(response.body).decode() == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        "<Message>Type of business\n1. Cottage\n2. Small</Message></Response>"
    )


async def test_the_prefix_is_stripped_and_the_payload_is_the_choice() -> None:
    sid = new_sid()
    params = whatsapp_params("Yes", sid, payload="1")
    received = await receive_signed(TwilioWhatsApp(), WHATSAPP, params)
    assert received.message == Message(
        citizen=CITIZEN,
        medium=Medium.WHATSAPP,
        text="Yes",
        choice="1",
        message_id=f"twilio:{sid}",
        remember=8 * 24 * 3600,  # Twilio signs no time: its ids are remembered 8 days
    )
    plain = await receive_signed(TwilioWhatsApp(), WHATSAPP, whatsapp_params("hi", sid))
    assert plain.message is not None
    assert plain.message.choice is None


def test_a_business_registration_over_whatsapp_with_quick_replies(gw: Gateway) -> None:
    screens = [messages(gw.whatsapp(body, payload)) for body, payload in REGISTRATION]
    # TwiML with one <Message> per reply, the WhatsApp renderer's numbered text.
    assert screens == [shown(replies, Medium.WHATSAPP) for replies in gw.said]
    assert all(screens)
    assert gw.said[-1][-1].end
    assert screens[-1][-1].endswith(f"\n{CERTIFICATE}")
    assert len(gw.effects.lookups) == 1
    assert len(gw.effects.submissions) == 1
    answers = gw.effects.submissions[0].answers
    assert answers["business_type"] == "small"  # from the payload, not the button's text
    assert answers["activity"] == "bakery"
    assert answers["location"] == "thimphu"
    record = gw.session(CITIZEN)  # keyed by the number, without "whatsapp:"
    assert record is not None
    assert record.channel == "whatsapp"
    assert gw.session(f"whatsapp:{CITIZEN}") is None


def test_a_duplicate_delivery_gets_the_same_twiml_and_has_one_effect(gw: Gateway) -> None:
    for body, payload in REGISTRATION:
        sid = new_sid()
        first = gw.whatsapp(body, payload, sid)
        again = gw.whatsapp(body, payload, sid)
        assert again.status_code == first.status_code == 200
        assert again.content == first.content
        assert messages(first)
    assert len(gw.effects.lookups) == 1
    assert len(gw.effects.submissions) == 1


def test_a_conversation_started_by_sms_continues_on_whatsapp(gw: Gateway) -> None:
    assert messages(gw.sms("hi")) == shown(gw.said[-1], Medium.SMS)
    assert messages(gw.sms("2")) == shown(gw.said[-1], Medium.SMS)
    asked = gw.said[-1]  # the service's first question
    screen = messages(gw.whatsapp("11501001234"))
    assert screen == shown(gw.said[-1], Medium.WHATSAPP)
    assert gw.said[-1] != asked  # the answer was taken: the conversation went on
    assert len(gw.effects.lookups) == 1  # the ID given on WhatsApp, looked up
    record = gw.session(CITIZEN)
    assert record is not None
    assert record.channel == "whatsapp"


def _refused(gw: Gateway, status: int, expected: int = 403) -> None:
    assert status == expected
    assert gw.stored_keys() == 0
    assert gw.effects.lookups == []


@pytest.mark.parametrize(
    "signed_url",
    [
        "http://testserver/channels/whatsapp/twilio",  # the proxy's URL
        PUBLIC_URL + SMS,  # the SMS endpoint's
    ],
)
def test_a_signature_for_another_url_is_refused(gw: Gateway, signed_url: str) -> None:
    response = gw.post(WHATSAPP, whatsapp_params("hi", new_sid()), signed_url=signed_url)
    _refused(gw, response.status_code)


def test_a_wrong_or_missing_signature_is_refused(gw: Gateway) -> None:
    params = whatsapp_params("hi", new_sid(), payload="1")
    _refused(gw, gw.post(WHATSAPP, params, signature="").status_code)
    _refused(gw, gw.post(WHATSAPP, params, signature="0/KCTR6DLpKmkAf8muzZqo1nDgQ=").status_code)
    forged = {**params, "ButtonPayload": "2"}  # a changed answer, the old signature
    original = compute_signature(TOKEN, PUBLIC_URL + WHATSAPP, params)
    _refused(gw, gw.post(WHATSAPP, forged, signature=original).status_code)


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("From", CITIZEN, "expected a whatsapp:+E.164 address"),
        ("From", "whatsapp:", "not an E.164"),
        ("From", "whatsapp:pema", "not an E.164"),
        ("From", "", "missing form fields: From"),
        ("MessageSid", "", "missing form fields: MessageSid"),
    ],
)
def test_a_signed_but_malformed_body_is_a_400(
    gw: Gateway, field: str, value: str, detail: str
) -> None:
    params = {**whatsapp_params("hi", new_sid()), field: value}
    response = gw.post(WHATSAPP, params)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    _refused(gw, response.status_code, 400)


def test_a_json_body_is_refused(gw: Gateway) -> None:
    response = gw.client.post(
        WHATSAPP,
        json={"From": f"whatsapp:{CITIZEN}", "Body": "hi"},
        headers={"X-Twilio-Signature": "x"},
    )
    _refused(gw, response.status_code, 415)
