"""Each provider's webhook alone, table-driven: its real bodies, and at least five broken
ones, posted as the provider posts them (signed: Twilio's X-Twilio-Signature, Meta's
X-Hub-Signature-256, Telegram's secret token; Africa's Talking's and Hubtel's callbacks
carry the USSD token), to the webhook's `receive` in a request built by hand: no app, no
services, no Redis, no conversation. A real body gives the typed `Received` written here;
a broken one the refusal's status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import HTTPException, Request

from dialogs.media import Medium
from gateway.conversations.messages import Message
from gateway.providers import WEBHOOKS
from gateway.providers.base import Delivery, DeliveryReport, Received
from gateway.providers.meta.whatsapp import BusinessNumber
from gateway.providers.telegram.webhook import TelegramChat
from gateway.settings import Settings
from tests.gateway.providers.bodies import (
    FORM,
    PUBLIC_URL,
    TWILIO_TOKEN,
    fixture,
    fresh,
    provider_headers,
)

USSD_TOKEN = "harness-ussd-token-5f2a9c71"
SERVICE = "business-registration"
CITIZEN = "+97517123456"
USSD_WINDOW, EIGHT_DAYS = 600, 8 * 24 * 3600  # a USSD session lasts at most 180 s
# Africa's Talking and Hubtel sign nothing: their callbacks carry the USSD token.
UNSIGNED = {name for name in WEBHOOKS if name.startswith(("ussd/", "sms/africastalking"))}
SETTINGS = Settings(
    twilio_auth_token=TWILIO_TOKEN,
    public_url=PUBLIC_URL,
    ussd_token=USSD_TOKEN,
    ussd_codes={"*384*1#": SERVICE, "*714*11#": SERVICE},
    **{key: value for name in WEBHOOKS for key, value in fixture(name).get("settings", {}).items()},
)

Document = Any  # a form (a dict of strings), a JSON document, or raw bytes


def real(name: str, **changes: Any) -> Document:
    """The provider's real body for webhook `name` (fixtures/), sent now, with `changes`
    (a field set to None is left out)."""
    sample = fixture(name)
    body = fresh(sample["form"] if "form" in sample else sample["json"])
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


def is_form(name: str) -> bool:
    return "form" in fixture(name)


@dataclass(frozen=True)
class Post:
    """A body as a webhook's provider posts it."""

    body: bytes
    headers: dict[str, str]
    query: str = ""


def as_provider(name: str, document: Document, content_type: str = "", sign: bool = True) -> Post:
    """`document` encoded, with the content type and signature its provider sends (`sign`
    False: no signature, no token)."""
    if isinstance(document, bytes):
        body = document
    elif is_form(name) and isinstance(document, dict):
        body = urlencode(document).encode()
    else:
        body = json.dumps(document).encode()
    headers = provider_headers(name, body) if sign else {}
    headers["content-type"] = content_type or (FORM if is_form(name) else "application/json")
    query = f"token={USSD_TOKEN}" if sign and name in UNSIGNED else ""
    return Post(body, headers, query)


async def receive(name: str, post: Post) -> Received[Any] | int:
    """What webhook `name` makes of `post`: the typed Received, or the refusal's status."""
    path = "/channels" + WEBHOOKS[name].path
    headers = {**post.headers, "content-length": str(len(post.body))}
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "server": ("gw.example.gov.bt", 443),
        "path": path,
        "raw_path": path.encode(),
        "query_string": post.query.encode(),
        "headers": [(key.lower().encode(), value.encode()) for key, value in headers.items()],
        "client": ("196.201.214.10", 41000),
    }
    sent = False

    async def body() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": post.body, "more_body": False}

    try:
        return await WEBHOOKS[name].receive(Request(scope, body), SETTINGS)
    except HTTPException as exc:
        refused = exc
    assert refused.detail, f"{name}: a {refused.status_code} without a reason"
    return refused.status_code


def received(context: Any = None, *messages: Message, reports: Any = ()) -> Received[Any]:
    return Received(context=context, messages=messages, reports=tuple(reports))


def ussd(text: str, message_id: str, session: str = "ATUid_reg1", **more: Any) -> Message:
    options = {"accumulated": True, "service": SERVICE, "remember": USSD_WINDOW, **more}
    return Message(CITIZEN, Medium.USSD, text, message_id=message_id, session=session, **options)


AT_SMS_ID = "3e4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a7b8"
AT_REPORT_ID = "ATXid_4f1e3b2a9c8d7e6f5a4b3c2d1e0f9a8b"
WAMID = "wamid.HBgLOTc1MTcxMjM0NTYVAgASGBQzQUY5NkQ0RjY1QjJCMkI4RkYzQQA="
META_NUMBER = "106540352242922"
TELEGRAM_USER = 580114233


def meta_value(**value: Any) -> dict[str, Any]:
    """A WhatsApp Business Account webhook around one change's value (as the fixture's)."""
    body = real("whatsapp/meta")
    change = body["entry"][0]["changes"][0]
    return {**body, "entry": [{"id": "1", "changes": [{**change, "value": value}]}]}


def meta_message(**fields: Any) -> dict[str, Any]:
    """The fixture's message with `fields` changed (None: left out)."""
    value = real("whatsapp/meta")["entry"][0]["changes"][0]["value"]
    message = {k: v for k, v in {**value["messages"][0], **fields}.items() if v is not None}
    return meta_value(**{**value, "messages": [message]})


def telegram_message(**fields: Any) -> dict[str, Any]:
    """The fixture's update with its message's `fields` changed (None: left out)."""
    message = {k: v for k, v in {**real("telegram")["message"], **fields}.items() if v is not None}
    update: dict[str, Any] = real("telegram", message=message)
    return update


PRESS: dict[str, Any] = {
    "update_id": 736201450,
    "callback_query": {
        "id": "4382bfdwdsb323b2d9",
        "from": {"id": TELEGRAM_USER, "is_bot": False, "first_name": "Pema"},
        "message": {
            "message_id": 1188,
            "chat": {"id": TELEGRAM_USER, "type": "private"},
            "date": 1767225600,
            "text": "Choose a service",
        },
        "chat_instance": "-3214213441",
        "data": "2",
    },
}

# (webhook, what the body is, the body, what the webhook makes of it)
REAL: list[tuple[str, str, Document, Received[Any]]] = [
    (
        "ussd/africastalking",
        "the first hop",
        real("ussd/africastalking"),
        received(None, ussd("", "at:ATUid_reg1:0:")),
    ),
    (
        "ussd/africastalking",
        "a later hop",
        real("ussd/africastalking", text="2*11501001234"),
        received(None, ussd("2*11501001234", "at:ATUid_reg1:13:2*11501001234")),
    ),
    (
        "ussd/africastalking/events",
        "a session's end",
        real("ussd/africastalking/events"),
        received(),
    ),
    (
        "ussd/hubtel",
        "an initiation (its message is the code dialled)",
        real("ussd/hubtel"),
        received(
            None,
            Message(
                "+233244123456",
                Medium.USSD,
                "",
                message_id="hubtel:hb-reg-1:1",
                session="hb-reg-1",
                service=SERVICE,
                remember=USSD_WINDOW,
            ),
        ),
    ),
    (
        "ussd/hubtel",
        "a later hop (its message is the answer)",
        real("ussd/hubtel", Type="Response", Message="1", Sequence=2),
        received(
            None,
            Message(
                "+233244123456",
                Medium.USSD,
                "1",
                message_id="hubtel:hb-reg-1:2",
                session="hb-reg-1",
                service=SERVICE,
                remember=USSD_WINDOW,
            ),
        ),
    ),
    ("ussd/hubtel", "a release", real("ussd/hubtel", Type="Release", Sequence=3), received()),
    (
        "sms/africastalking",
        "an inbound SMS",
        real("sms/africastalking"),
        received(
            None,
            Message(
                CITIZEN, Medium.SMS, "hello", message_id=f"at-sms:{AT_SMS_ID}", remember=EIGHT_DAYS
            ),
        ),
    ),
    (
        "sms/africastalking/reports",
        "a delivery report",
        real("sms/africastalking/reports"),
        received(reports=[DeliveryReport(f"at-sms:{AT_REPORT_ID}", "Success", CITIZEN)]),
    ),
    (
        "sms/africastalking/reports",
        "a failed delivery",
        real("sms/africastalking/reports", status="Failed", failureReason="UserInBlacklist"),
        received(
            reports=[
                DeliveryReport(f"at-sms:{AT_REPORT_ID}", "Failed", CITIZEN, ("UserInBlacklist",))
            ]
        ),
    ),
    (
        "sms/twilio",
        "an inbound SMS",
        real("sms/twilio"),
        received(
            None,
            Message(CITIZEN, Medium.SMS, "hello", message_id="twilio:SMreg1", remember=EIGHT_DAYS),
        ),
    ),
    (
        "sms/twilio/status",
        "a status callback",
        real("sms/twilio/status"),
        received(reports=[DeliveryReport("twilio:SMreg2", "delivered", CITIZEN)]),
    ),
    (
        "sms/twilio/status",
        "a failed WhatsApp message",
        real(
            "sms/twilio/status", MessageStatus="failed", ErrorCode="63016", To=f"whatsapp:{CITIZEN}"
        ),
        received(reports=[DeliveryReport("twilio:SMreg2", "failed", CITIZEN, ("63016",))]),
    ),
    (
        "whatsapp/twilio",
        "an inbound message",
        real("whatsapp/twilio"),
        received(
            None,
            Message(
                CITIZEN, Medium.WHATSAPP, "hi", message_id="twilio:SMreg3", remember=EIGHT_DAYS
            ),
        ),
    ),
    (
        "whatsapp/twilio",
        "a quick-reply tap",
        real("whatsapp/twilio", Body="Yes", ButtonPayload="1", MessageType="button"),
        received(
            None,
            Message(
                CITIZEN,
                Medium.WHATSAPP,
                "Yes",
                choice="1",
                message_id="twilio:SMreg3",
                remember=EIGHT_DAYS,
            ),
        ),
    ),
    (
        "web",
        "the first message",
        real("web"),
        received(None, Message("web:registry-test-user", Medium.WEB, "", remember=600)),
    ),
    (
        "web",
        "an option chosen",
        real("web", choice="2", id="m-42"),
        received(
            None,
            Message(
                "web:registry-test-user",
                Medium.WEB,
                "",
                choice="2",
                message_id="web:registry-test-user:m-42",
                remember=600,
            ),
        ),
    ),
    (
        "telegram",
        "a command",
        real("telegram"),
        received(
            TelegramChat(TELEGRAM_USER),
            Message(
                f"telegram:{TELEGRAM_USER}",
                Medium.TELEGRAM,
                "/start",
                message_id="tg:736201449",
                remember=EIGHT_DAYS,
            ),
        ),
    ),
    (
        "telegram",
        "a button pressed",
        fresh(PRESS),
        received(
            TelegramChat(TELEGRAM_USER, "4382bfdwdsb323b2d9"),
            Message(
                f"telegram:{TELEGRAM_USER}",
                Medium.TELEGRAM,
                "2",
                choice="2",
                message_id="tg:736201450",
                remember=EIGHT_DAYS,
            ),
        ),
    ),
    ("telegram", "a sticker", telegram_message(text=None, sticker={"file_id": "x"}), received()),
    ("telegram", "an edit", {"update_id": 9, "edited_message": {"text": "x"}}, received()),
    (
        "whatsapp/meta",
        "a text message",
        real("whatsapp/meta"),
        received(
            BusinessNumber(META_NUMBER),
            Message(CITIZEN, Medium.WHATSAPP, "hi", message_id=f"wa:{WAMID}", remember=EIGHT_DAYS),
        ),
    ),
    (
        "whatsapp/meta",
        "a list row chosen",
        meta_message(
            type="interactive",
            text=None,
            interactive={"type": "list_reply", "list_reply": {"id": "14", "title": "Thimphu"}},
        ),
        received(
            BusinessNumber(META_NUMBER),
            Message(
                CITIZEN,
                Medium.WHATSAPP,
                "Thimphu",
                choice="14",
                message_id=f"wa:{WAMID}",
                remember=EIGHT_DAYS,
            ),
        ),
    ),
    (
        "whatsapp/meta",
        "an image (no answer in it)",
        meta_message(type="image", text=None, image={"id": "1", "mime_type": "image/jpeg"}),
        received(
            BusinessNumber(META_NUMBER),
            Message(CITIZEN, Medium.WHATSAPP, "", message_id=f"wa:{WAMID}", remember=EIGHT_DAYS),
        ),
    ),
    (
        "whatsapp/meta",
        "a message older than Meta's redeliveries (a replay)",
        meta_message(timestamp="1000000000"),
        received(BusinessNumber()),
    ),
    (
        "whatsapp/meta",
        "statuses",
        meta_value(
            metadata={"phone_number_id": META_NUMBER},
            statuses=[
                {"id": "wamid.A", "status": "delivered", "recipient_id": "97517123456"},
                {
                    "id": "wamid.B",
                    "status": "failed",
                    "recipient_id": "97517123456",
                    "errors": [{"code": 131047, "title": "Re-engagement message"}, {"code": "x"}],
                },
            ],
        ),
        received(
            BusinessNumber(),
            reports=[
                DeliveryReport("wa:wamid.A", "delivered", CITIZEN),
                DeliveryReport("wa:wamid.B", "failed", CITIZEN, ("131047 Re-engagement message",)),
            ],
        ),
    ),
]


@pytest.mark.parametrize(
    ("name", "document", "expected"),
    [(name, document, expected) for name, _, document, expected in REAL],
    ids=[f"{name}: {what}" for name, what, _, _ in REAL],
)
async def test_a_real_body_gives_the_typed_received(
    name: str, document: Document, expected: Received[Any]
) -> None:
    assert await receive(name, as_provider(name, document)) == expected


def test_every_webhook_has_real_bodies_here() -> None:
    assert {name for name, *_ in REAL} == set(WEBHOOKS)


def test_every_webhook_declares_how_its_replies_go() -> None:
    """The route reads `delivery`, never what methods a webhook happens to have."""
    api = {name for name, webhook in WEBHOOKS.items() if webhook.delivery is Delivery.API}
    assert api == {"sms/africastalking", "telegram", "whatsapp/meta"}
    assert all(webhook.delivery in Delivery for webhook in WEBHOOKS.values())


JSON = "application/json"
INVALID_UTF8 = b"\xff\xfe=\x00"


@dataclass(frozen=True)
class Broken:
    """A body its webhook must refuse: what is wrong with it, the document, the content
    type ("" for the provider's), whether it is signed (or carries the USSD token) as
    the provider signs it, and the status of the refusal."""

    name: str
    what: str
    document: Document
    content_type: str = ""
    signed: bool = True
    status: int = 400


AT_USSD, AT_EVENTS = "ussd/africastalking", "ussd/africastalking/events"
AT_SMS, AT_REPORTS = "sms/africastalking", "sms/africastalking/reports"
TWILIO_SMS, TWILIO_STATUS, TWILIO_WA = "sms/twilio", "sms/twilio/status", "whatsapp/twilio"
HUBTEL, WEB, TELEGRAM, META = "ussd/hubtel", "web", "telegram", "whatsapp/meta"
WABA = "whatsapp_business_account"
NAMELESS_PRESS = {**PRESS, "callback_query": {**PRESS["callback_query"], "id": None}}
BROKEN: list[Broken] = [
    Broken(AT_USSD, "no text", real(AT_USSD, text=None)),
    Broken(AT_USSD, "no session", real(AT_USSD, sessionId="")),
    Broken(AT_USSD, "a web chat's user", real(AT_USSD, phoneNumber="web:abc")),
    Broken(AT_USSD, "JSON", real(AT_USSD), JSON, status=415),
    Broken(AT_USSD, "invalid UTF-8", INVALID_UTF8),
    Broken(AT_USSD, "too large", b"text=" + b"1" * 70_000, status=413),
    Broken(AT_USSD, "no token", real(AT_USSD), signed=False, status=403),
    Broken(AT_EVENTS, "no status", real(AT_EVENTS, status=None)),
    Broken(AT_EVENTS, "no session", real(AT_EVENTS, sessionId=None)),
    Broken(AT_EVENTS, "no phoneNumber", real(AT_EVENTS, phoneNumber=None)),
    Broken(AT_EVENTS, "JSON", real(AT_EVENTS), JSON, status=415),
    Broken(AT_EVENTS, "invalid UTF-8", INVALID_UTF8),
    Broken(AT_EVENTS, "no token", real(AT_EVENTS), signed=False, status=403),
    Broken(HUBTEL, "not JSON", b"{not json"),
    Broken(HUBTEL, "a list", []),
    Broken(HUBTEL, "no Mobile", real(HUBTEL, Mobile=None)),
    Broken(HUBTEL, "letters for Mobile", real(HUBTEL, Mobile="notaphone")),
    Broken(HUBTEL, "no SessionId", real(HUBTEL, SessionId="")),
    Broken(HUBTEL, "a negative Sequence", real(HUBTEL, Sequence=-1)),
    Broken(HUBTEL, "no token", real(HUBTEL), signed=False, status=403),
    Broken(AT_SMS, "no id", real(AT_SMS, id=None)),
    Broken(AT_SMS, "an id with spaces", real(AT_SMS, id="a b")),
    Broken(AT_SMS, "letters for from", real(AT_SMS, **{"from": "PEMA"})),
    Broken(AT_SMS, "no text", real(AT_SMS, text=None)),
    Broken(AT_SMS, "JSON", real(AT_SMS), JSON, status=415),
    Broken(AT_SMS, "no token", real(AT_SMS), signed=False, status=403),
    Broken(AT_REPORTS, "no id", real(AT_REPORTS, id=None)),
    Broken(AT_REPORTS, "a blank status", real(AT_REPORTS, status=" ")),
    Broken(AT_REPORTS, "an id with spaces", real(AT_REPORTS, id="a b")),
    Broken(AT_REPORTS, "JSON", real(AT_REPORTS), JSON, status=415),
    Broken(AT_REPORTS, "invalid UTF-8", INVALID_UTF8),
    Broken(AT_REPORTS, "no token", real(AT_REPORTS), signed=False, status=403),
    Broken(TWILIO_SMS, "no From", real(TWILIO_SMS, From=None)),
    Broken(TWILIO_SMS, "a blank MessageSid", real(TWILIO_SMS, MessageSid=" ")),
    Broken(TWILIO_SMS, "not a SID", real(TWILIO_SMS, MessageSid="SM<script>")),
    Broken(TWILIO_SMS, "no plus in From", real(TWILIO_SMS, From="97517123456")),
    Broken(TWILIO_SMS, "JSON", real(TWILIO_SMS), JSON, status=415),
    Broken(TWILIO_SMS, "unsigned", real(TWILIO_SMS), signed=False, status=403),
    Broken(TWILIO_STATUS, "no MessageStatus", real(TWILIO_STATUS, MessageStatus=None)),
    Broken(TWILIO_STATUS, "a blank MessageStatus", real(TWILIO_STATUS, MessageStatus=" ")),
    Broken(TWILIO_STATUS, "no MessageSid", real(TWILIO_STATUS, MessageSid=None)),
    Broken(TWILIO_STATUS, "not a SID", real(TWILIO_STATUS, MessageSid="x")),
    Broken(TWILIO_STATUS, "JSON", real(TWILIO_STATUS), JSON, status=415),
    Broken(TWILIO_STATUS, "unsigned", real(TWILIO_STATUS), signed=False, status=403),
    Broken(TWILIO_WA, "an SMS number", real(TWILIO_WA, From=CITIZEN)),
    Broken(TWILIO_WA, "letters", real(TWILIO_WA, From="whatsapp:pema")),
    Broken(TWILIO_WA, "no From", real(TWILIO_WA, From=None)),
    Broken(TWILIO_WA, "no MessageSid", real(TWILIO_WA, MessageSid=None)),
    Broken(TWILIO_WA, "JSON", real(TWILIO_WA), JSON, status=415),
    Broken(TWILIO_WA, "unsigned", real(TWILIO_WA), signed=False, status=403),
    Broken(WEB, "no user", {"text": "hi"}),
    Broken(WEB, "a short user", {"user": "short", "text": ""}),
    Broken(WEB, "a field the page never sends", real(WEB, x=1)),
    Broken(WEB, "a text too long", real(WEB, text="x" * 2001)),
    Broken(WEB, "a list", []),
    Broken(WEB, "not JSON", b"\xff"),
    Broken(TELEGRAM, "not JSON", b"not json"),
    Broken(TELEGRAM, "a list", []),
    Broken(TELEGRAM, "no update_id", real(TELEGRAM, update_id=None)),
    Broken(TELEGRAM, "update_id as text", real(TELEGRAM, update_id="12")),
    Broken(TELEGRAM, "a message without its chat", telegram_message(chat=None)),
    Broken(TELEGRAM, "a chat id as text", telegram_message(chat={"id": "x"})),
    Broken(TELEGRAM, "a press without its id", NAMELESS_PRESS),
    Broken(TELEGRAM, "no secret token", real(TELEGRAM), signed=False, status=403),
    Broken(META, "not JSON", b"{not json"),
    Broken(META, "a page's webhook", {"object": "page", "entry": []}),
    Broken(META, "no entry", {"object": WABA}),
    Broken(META, "an entry without changes", {"object": WABA, "entry": [{"id": "1"}]}),
    Broken(META, "not a WhatsApp id", meta_message(**{"from": "pema"})),
    Broken(META, "a text without its body", meta_message(text={})),
    Broken(
        META,
        "a button reply without its id",
        meta_message(type="interactive", interactive={"type": "button_reply"}),
    ),
    Broken(META, "a status without its state", meta_value(statuses=[{"id": "x"}])),
    Broken(META, "unsigned", real(META), signed=False, status=403),
]


@pytest.mark.parametrize("case", BROKEN, ids=[f"{case.name}: {case.what}" for case in BROKEN])
async def test_a_broken_body_is_refused(case: Broken) -> None:
    post = as_provider(case.name, case.document, case.content_type, case.signed)
    assert await receive(case.name, post) == case.status


def test_every_webhook_has_five_broken_bodies_or_more() -> None:
    """Five or more bodies each, signed as its provider signs them: malformed, not merely
    unsigned."""
    counts = {name: sum(c.name == name and c.signed for c in BROKEN) for name in WEBHOOKS}
    assert min(counts.values()) >= 5, counts
    assert all(c.name in WEBHOOKS and 400 <= c.status < 500 for c in BROKEN)
