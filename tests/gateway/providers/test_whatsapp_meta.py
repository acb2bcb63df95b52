"""WhatsApp through Meta's Cloud API: verification, signed webhooks, the Cloud API sender.

The webhook tests post Meta's real body shapes, signed as Meta signs them (HMAC-SHA256 of
the raw body under the app secret), to the app on a real Redis (a database the test
leased). The replies the app hands to its outbox are recorded by a fake outbox and
compared with what the conversation answered (never with the shipped services' wording);
the sender is tested against a fake Graph API served over HTTP on a free loopback port.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2 as httpx
import pytest
import redis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from dialogs.media import MORE_KEY, Medium
from dialogs.messages import Reply, ReplyOption
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing, SendContext, SendError
from gateway.providers import SENDERS, WEBHOOKS
from gateway.providers.base import Received
from gateway.providers.meta.sender import payloads, send_whatsapp_meta
from gateway.providers.meta.whatsapp import (
    BusinessNumber,
    MetaWhatsApp,
    hub_signature,
    signature_valid,
    verification_router,
)
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.gateway.providers.apps import Effects, app_keys, gateway, recorded_replies
from tests.redis_databases import RedisDatabase

PATH = "/channels/whatsapp/meta"
# When the citizens wrote: now (a message older than Meta's 7 days of redelivery is a
# replay, acknowledged and ignored).
NOW = int(time.time())
APP_SECRET = "6c3b1f0e9d8a7c6b5a4f3e2d1c0b9a88"  # an app secret is 32 hex digits
VERIFY_TOKEN = "gov-gateway-verify-7f3a"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBA" + "x" * 40
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
WA_ID = "97517123456"
CITIZEN = "+" + WA_ID
CERTIFICATE = "https://gw.bt/d/x"  # what apps.Effects issues


def wamid() -> str:
    return "wamid.HBgL" + uuid.uuid4().hex.upper()


def webhook(value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    """A webhook as Meta posts it, around one change's `value`."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": field}]}],
    }


def inbound(*messages: dict[str, Any]) -> dict[str, Any]:
    return webhook(
        {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550783881",
                "phone_number_id": PHONE_NUMBER_ID,
            },
            "contacts": [{"profile": {"name": "Pema Wangmo"}, "wa_id": WA_ID}],
            "messages": list(messages),
        }
    )


def text_message(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "from": WA_ID,
        "id": message_id or wamid(),
        "timestamp": str(NOW + 0),
        "type": "text",
        "text": {"body": body},
    }


def button_message(key: str, title: str, message_id: str | None = None) -> dict[str, Any]:
    """A tap on a reply button of a message the gateway sent."""
    return {
        "context": {"from": "15550783881", "id": wamid()},
        "from": WA_ID,
        "id": message_id or wamid(),
        "timestamp": str(NOW + 1),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": key, "title": title}},
    }


def list_message(key: str, title: str, message_id: str | None = None) -> dict[str, Any]:
    """A row chosen in a list message the gateway sent."""
    return {
        "context": {"from": "15550783881", "id": wamid()},
        "from": WA_ID,
        "id": message_id or wamid(),
        "timestamp": str(NOW + 2),
        "type": "interactive",
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": key, "title": title, "description": ""},
        },
    }


def statuses(*states: str) -> dict[str, Any]:
    """Delivery updates for a message the gateway sent."""
    sent = wamid()
    items: list[dict[str, Any]] = []
    for state in states:
        item: dict[str, Any] = {
            "id": sent,
            "status": state,
            "timestamp": str(NOW + 3),
            "recipient_id": WA_ID,
        }
        if state == "failed":
            item["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
        else:
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
        items.append(item)
    return webhook(
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": items,
        }
    )


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# --- signatures ------------------------------------------------------------------------


def test_the_signature_matches_the_documented_vector() -> None:
    signature = hub_signature("secret", b"test")
    # WEBHOOKS.md gives the start `0329a06b` and the end as `0c0914`; HMAC-SHA256 of
    # "test" under "secret" ends `8c0914` (the doc drops a digit: checked with openssl).
    assert signature == ("sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914")
    assert signature_valid("secret", b"test", signature)
    assert signature_valid("secret", b"test", signature.upper().replace("SHA256=", "sha256="))
    assert not signature_valid("secret", b"test ", signature)
    assert not signature_valid("Secret", b"test", signature)
    assert not signature_valid("secret", b"test", signature.removeprefix("sha256="))
    assert not signature_valid("secret", b"test", "sha1=" + signature[7:])


def test_the_adapter_and_its_sender_are_registered() -> None:
    assert isinstance(WEBHOOKS["whatsapp/meta"], MetaWhatsApp)
    assert SENDERS["whatsapp/meta"].send is send_whatsapp_meta


# --- verification ----------------------------------------------------------------------


def verification_client(token: str | None = VERIFY_TOKEN) -> TestClient:
    app = FastAPI()
    app.include_router(verification_router(Settings(meta_verify_token=token)))
    return TestClient(app)


def test_the_verification_answers_the_raw_challenge() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    with verification_client() as client:
        response = client.get(PATH, params=query)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
def test_a_wrong_verification_is_refused(query: dict[str, str]) -> None:
    with verification_client() as client:
        response = client.get(PATH, params=query)
    assert response.status_code == 403
    assert "1" not in response.text


def test_no_verify_token_configured_refuses_every_verification() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    with verification_client(None) as client:
        assert client.get(PATH, params=query).status_code == 403


# --- the webhook -----------------------------------------------------------------------


@dataclass
class FakeOutbox:
    """Records what the app queues; like the real outbox, one send per key."""

    sent: list[Outgoing] = field(default_factory=list)

    async def send(self, outgoing: Outgoing) -> None:
        self.sent.append(outgoing)

    def unique(self) -> list[Outgoing]:
        seen: dict[str, Outgoing] = {}
        for outgoing in self.sent:
            seen.setdefault(outgoing.key, outgoing)
        return list(seen.values())


@dataclass
class Meta:
    """The running app, with Meta's side of the conversation."""

    client: TestClient
    effects: Effects
    outbox: FakeOutbox
    redis: redis.Redis
    said: list[list[Reply]]  # what the conversations answered, one list per message

    def post(self, body: dict[str, Any] | bytes, signature: str | None = None) -> httpx.Response:
        content = body if isinstance(body, bytes) else raw(body)
        headers = {"content-type": "application/json"}
        headers["X-Hub-Signature-256"] = (
            hub_signature(APP_SECRET, content) if signature is None else signature
        )
        return self.client.post(PATH, content=content, headers=headers)

    def send(self, message: dict[str, Any]) -> Outgoing:
        """Posts one inbound message; the Outgoing the app queued for it."""
        before = len(self.outbox.sent)
        response = self.post(inbound(message))
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        assert len(self.outbox.sent) == before + 1
        return self.outbox.sent[-1]

    def stored_keys(self) -> int:
        return len(app_keys(self.redis))


@pytest.fixture
def meta(redis_database: RedisDatabase) -> Iterator[Meta]:
    options = {
        "meta_app_secret": APP_SECRET,
        "meta_verify_token": VERIFY_TOKEN,
        "meta_access_token": ACCESS_TOKEN,
        "meta_phone_number_id": PHONE_NUMBER_ID,
    }
    connection = redis_database.client()
    try:
        with gateway(redis_database.number, **options) as (client, effects):
            outbox = FakeOutbox()
            Runtime.of(client.app).outbox = outbox  # type: ignore[assignment]
            said = recorded_replies(client.app)
            yield Meta(client, effects, outbox, connection, said)
    finally:
        connection.close()


def kinds(outgoing: Outgoing) -> list[str]:
    """What the sender posts for `outgoing`: interactive type, "text" or "document"."""
    return [
        p["interactive"]["type"] if p["type"] == "interactive" else p["type"]
        for p in payloads(outgoing)
    ]


# Answers as a citizen gives them in WhatsApp: list rows and buttons tapped, text typed.
REGISTRATION: list[dict[str, Any]] = [
    text_message("Hi"),
    list_message("2", "Register a business"),
    text_message("11501001234"),
    text_message("Druk Bakery"),
    button_message("2", "Small"),
    list_message("6", "Bakery"),
    list_message("98", "More"),
    list_message("14", "Thimphu"),
    text_message("17123456"),
    button_message("1", "Confirm"),
    button_message("1", "Yes"),
]


def offered(reply: Reply) -> list[tuple[str, str]]:
    """A reply's options: each key and its whole label."""
    return [(option.key, option.label) for option in reply.options]


def drawn(interactive: dict[str, Any]) -> list[tuple[str, str]]:
    """What Meta shows of an interactive message's options: each id and its whole title
    (a list row's title cut to 24 characters goes whole under it, as its description)."""
    if interactive["type"] == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]]
    rows = [row for section in interactive["action"]["sections"] for row in section["rows"]]
    return [(row["id"], row.get("description", row["title"])) for row in rows]


def test_a_business_registration_over_whatsapp_cloud_api(meta: Meta) -> None:
    queued = [meta.send(message) for message in REGISTRATION]
    for outgoing, message in zip(queued, REGISTRATION, strict=True):
        assert outgoing.sender == "whatsapp/meta"
        assert outgoing.address == CITIZEN
        assert outgoing.key == f"wa:{message['id']}"
        assert outgoing.context == {"phone_number_id": PHONE_NUMBER_ID}
    # What the conversation answered each message is what was queued for the Cloud API.
    screens = [outgoing.decoded() for outgoing in queued]
    assert screens == meta.said
    assert all(len(replies) == 1 for replies in screens)
    # 5 services and pages of 9 choices + "More": lists; 3 types, 2 and 2 choices:
    # buttons; questions without choices: text. (The dialogs page long menus, so a
    # registration never needs numbered text on WhatsApp: see the sender tests.)
    assert [kinds(outgoing) for outgoing in queued] == [
        ["list"],
        ["text"],
        ["text"],
        ["button"],
        ["list"],
        ["list"],
        ["list"],
        ["text"],
        ["button"],
        ["button"],
        ["text", "document"],
    ]
    menu = next(payloads(queued[0]))["interactive"]
    assert drawn(menu) == offered(screens[0][0])
    buttons = next(payloads(queued[3]))["interactive"]
    assert drawn(buttons) == offered(screens[3][0])
    activities = next(payloads(queued[4]))["interactive"]["action"]["sections"][0]["rows"]
    assert len(activities) == 10
    assert activities[5]["id"] == "6"  # the row tapped next: bakery
    assert activities[9]["id"] == MORE_KEY
    page_two = next(payloads(queued[6]))["interactive"]["action"]["sections"][0]["rows"]
    assert "14" in [row["id"] for row in page_two]  # the row tapped next: Thimphu
    assert screens[10][0].end
    assert screens[10][0].link == CERTIFICATE
    assert len(meta.effects.lookups) == 1
    assert len(meta.effects.submissions) == 1
    answers = meta.effects.submissions[0].answers
    assert answers["business_type"] == "small"  # the button's id, not its title
    assert answers["activity"] == "bakery"
    assert answers["location"] == "thimphu"


def test_a_duplicate_delivery_queues_the_same_reply_and_has_one_effect(meta: Meta) -> None:
    for message in REGISTRATION:
        first = meta.send(message)
        again = meta.send(message)  # Meta redelivers with the same message id
        assert again == first
    assert len(meta.outbox.unique()) == len(REGISTRATION)
    assert len(meta.effects.lookups) == 1
    assert len(meta.effects.submissions) == 1


def test_a_webhook_batching_two_citizens_answers_both(meta: Meta) -> None:
    other = {**text_message("Hi", "wamid.other"), "from": "97577654321"}
    response = meta.post(inbound(text_message("Hi", "wamid.mine"), other))
    assert response.status_code == 200
    assert [(o.address, o.key) for o in meta.outbox.sent] == [
        (CITIZEN, "wa:wamid.mine"),
        ("+97577654321", "wa:wamid.other"),
    ]
    menus = [o.decoded() for o in meta.outbox.sent]
    assert menus == meta.said
    assert menus[0] == menus[1]  # both greeted with the menu
    # Each goes on with its own conversation: the first citizen picks a service.
    chosen = meta.send(list_message("2", "Register a business")).decoded()
    assert chosen == meta.said[-1]
    assert chosen != menus[0]


def test_statuses_are_acknowledged_and_nothing_is_run(meta: Meta) -> None:
    for body in (statuses("sent"), statuses("delivered", "read"), statuses("failed")):
        response = meta.post(body)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
    assert meta.outbox.sent == []
    assert meta.stored_keys() == 0


def test_other_webhook_fields_are_acknowledged(meta: Meta) -> None:
    body = webhook(
        {"event": "APPROVED", "message_template_id": 1}, "message_template_status_update"
    )
    assert meta.post(body).status_code == 200
    assert meta.outbox.sent == []
    assert meta.stored_keys() == 0


def test_a_message_with_nothing_to_read_shows_the_screen_again(meta: Meta) -> None:
    meta.send(text_message("Hi"))
    meta.send(list_message("2", "Register a business"))
    image = {
        "from": WA_ID,
        "id": wamid(),
        "timestamp": str(NOW + 4),
        "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1234567890"},
    }
    asked = meta.said[-1][-1]  # the service's first question
    replies = meta.send(image).decoded()
    assert replies == meta.said[-1]
    assert replies[-1].text.endswith(asked.text)  # asked again (a hint may come first)
    assert replies[-1].options == asked.options
    assert meta.effects.lookups == []


def _refused(meta: Meta, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert meta.stored_keys() == 0
    assert meta.outbox.sent == []
    assert meta.effects.lookups == []


def test_a_wrong_or_missing_signature_is_refused(meta: Meta) -> None:
    body = raw(inbound(text_message("Hi")))
    tampered = body.replace(b'"Hi"', b'"Ho"')
    good = hub_signature(APP_SECRET, body)
    for signature in (
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        good.removeprefix("sha256="),
        hub_signature("another-apps-secret", body),
        good + "0",
    ):
        _refused(meta, meta.post(body, signature=signature), 403)
    _refused(meta, meta.post(tampered, signature=good), 403)
    unsigned = meta.client.post(PATH, content=body, headers={"content-type": "application/json"})
    _refused(meta, unsigned, 403)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "whatsapp_business_account"),
        (raw({"object": "page", "entry": []}), "whatsapp_business_account"),
        (raw({"object": "whatsapp_business_account"}), '"entry"'),
        (raw({"object": "whatsapp_business_account", "entry": [{"id": "1"}]}), '"changes"'),
        (raw(inbound({**text_message("Hi"), "from": "pema"})), "WhatsApp id"),
        (raw(inbound({**text_message("Hi"), "id": ""})), '"id"'),
        (raw(inbound({**text_message("Hi"), "text": {}})), "text.body"),
        (
            raw(inbound({**button_message("1", "Yes"), "interactive": {"type": "button_reply"}})),
            "button_reply.id",
        ),
        (raw(inbound("not a message")), "object"),  # type: ignore[arg-type]
        (raw(webhook({"messages": {"id": 1}})), "lists"),
        (raw(webhook({"statuses": [{"id": "x"}]})), '"status"'),
    ],
)
def test_a_signed_but_malformed_body_is_a_400(meta: Meta, body: bytes, detail: str) -> None:
    response = meta.post(body)
    _refused(meta, response, 400)
    assert detail in response.json()["detail"]


# --- the adapter without the app -------------------------------------------------------


async def receive(body: bytes, settings: Settings | None = None) -> Received[BusinessNumber]:
    """What the adapter makes of `body` posted signed, without the app."""
    headers = [
        (b"content-type", b"application/json"),
        (b"x-hub-signature-256", hub_signature(APP_SECRET, body).encode()),
    ]
    scope = {"type": "http", "method": "POST", "path": PATH, "headers": headers}
    sent = False

    async def receive_body() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    settings = settings or Settings(meta_app_secret=APP_SECRET)
    received: Received[BusinessNumber] = await MetaWhatsApp().receive(
        Request(scope, receive_body), settings
    )
    return received


async def test_text_buttons_and_list_rows_become_messages() -> None:
    text = await receive(raw(inbound(text_message("Druk Bakery", "wamid.A"))))
    remember = 8 * 24 * 3600  # longer than Meta's 7 days of redeliveries
    assert text.message == Message(
        citizen=CITIZEN,
        medium=Medium.WHATSAPP,
        text="Druk Bakery",
        message_id="wa:wamid.A",
        remember=remember,
    )
    button = await receive(raw(inbound(button_message("2", "Small", "wamid.B"))))
    assert button.message == Message(
        citizen=CITIZEN,
        medium=Medium.WHATSAPP,
        text="Small",
        choice="2",
        message_id="wa:wamid.B",
        remember=remember,
    )
    row = await receive(raw(inbound(list_message("14", "Thimphu", "wamid.C"))))
    assert row.message is not None
    assert (row.message.choice, row.message.text) == ("14", "Thimphu")
    template = {
        "from": WA_ID,
        "id": "wamid.D",
        "type": "button",
        "button": {"payload": "renew", "text": "Renew now"},
    }
    quick = await receive(raw(inbound(template)))
    assert quick.message is not None
    assert (quick.message.choice, quick.message.text) == ("renew", "Renew now")


async def test_statuses_are_handed_over_as_delivery_reports() -> None:
    received = await receive(raw(statuses("delivered", "failed")))
    assert received.message is None
    delivered, failed = received.reports
    assert (delivered.status, failed.status) == ("delivered", "failed")
    assert delivered.recipient == CITIZEN
    assert delivered.provider_id == failed.provider_id
    assert delivered.provider_id.startswith("wa:wamid.")
    assert failed.errors == ("131047 Re-engagement message",)


async def test_a_batch_of_messages_keeps_every_message_in_order() -> None:
    body = inbound(text_message("one", "wamid.1"), text_message("two", "wamid.2"))
    received = await receive(raw(body))
    assert received.message is not None
    assert received.message.text == "one"
    assert [(m.text, m.message_id) for m in received.messages[1:]] == [("two", "wa:wamid.2")]
    assert received.context == BusinessNumber(PHONE_NUMBER_ID)


async def test_no_app_secret_configured_refuses_every_webhook() -> None:
    with pytest.raises(Exception, match="no app secret") as refused:
        await receive(raw(inbound(text_message("Hi"))), Settings())
    assert getattr(refused.value, "status_code", None) == 403


def test_outgoing_names_the_sender_the_number_and_the_message() -> None:
    message = Message(citizen=CITIZEN, medium=Medium.WHATSAPP, text="hi", message_id="wa:wamid.Z")
    reply = Reply("Type of business", (ReplyOption("1", "Cottage"),))
    outgoing = MetaWhatsApp().outgoing(message, BusinessNumber(PHONE_NUMBER_ID), [reply])
    assert outgoing == Outgoing(
        sender="whatsapp/meta",
        address=CITIZEN,
        replies=[Outgoing.encode(reply)],
        context={"phone_number_id": PHONE_NUMBER_ID},
        key="wa:wamid.Z",
    )
    assert outgoing.decoded() == [reply]
    unknown = MetaWhatsApp().outgoing(message, BusinessNumber(), [reply])
    assert unknown.context == {}  # the sender writes from GATEWAY_META_PHONE_NUMBER_ID


# --- the sender, against a fake Graph API ----------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class GraphServer(ThreadingHTTPServer):
    """A fake Graph API: records every request, answers from `answers` (then 200)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GraphHandler)
        self.requests: list[Recorded] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v21.0"


class GraphHandler(BaseHTTPRequestHandler):
    server: GraphServer

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length))
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.requests.append(Recorded(self.path, headers, body))
        if self.server.answers:
            status, answer = self.server.answers.pop(0)
        else:
            answer = {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": wamid()}],
            }
            status = 200
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    server = GraphServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def send_context(http: httpx.AsyncClient, url: str, **settings: Any) -> SendContext:
    options: dict[str, Any] = {
        "meta_access_token": ACCESS_TOKEN,
        "meta_phone_number_id": PHONE_NUMBER_ID,
        "meta_api_url": url,
        **settings,
    }
    return SendContext(Settings(**options), http)


def outgoing_of(*replies: Reply) -> Outgoing:
    return Outgoing(
        sender="whatsapp/meta",
        address=CITIZEN,
        replies=[Outgoing.encode(reply) for reply in replies],
        key="wa:wamid.K",
    )


def options(count: int) -> tuple[ReplyOption, ...]:
    return tuple(ReplyOption(str(n), f"Option {n}") for n in range(1, count + 1))


async def test_the_sender_posts_the_cloud_api_shapes(
    graph: GraphServer, http: httpx.AsyncClient
) -> None:
    outgoing = outgoing_of(
        Reply("Type of business", options(3)),
        Reply("Government services. Choose one:", options(10)),
        Reply("Dzongkhag", options(11)),
        Reply("x" * 5000),
        Reply("Registered! Number BR-2026-000123.", link="https://gw.bt/d/Tk9QRQ", end=True),
    )
    await send_whatsapp_meta(outgoing, send_context(http, graph.url))
    assert {r.path for r in graph.requests} == {f"/v21.0/{PHONE_NUMBER_ID}/messages"}
    assert {r.headers["authorization"] for r in graph.requests} == {f"Bearer {ACCESS_TOKEN}"}
    assert {r.headers["content-type"] for r in graph.requests} == {"application/json"}
    bodies = [r.body for r in graph.requests]
    for body in bodies:
        assert body["messaging_product"] == "whatsapp"
        assert body["to"] == WA_ID
    buttons, listed, numbered, long1, long2, text, document = bodies
    assert buttons["type"] == "interactive"
    assert buttons["interactive"] == {
        "type": "button",
        "body": {"text": "Type of business"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": str(n), "title": f"Option {n}"}}
                for n in (1, 2, 3)
            ]
        },
    }
    assert listed["interactive"]["type"] == "list"
    assert listed["interactive"]["body"] == {"text": "Government services. Choose one:"}
    assert len(listed["interactive"]["action"]["button"]) <= 20
    (section,) = listed["interactive"]["action"]["sections"]
    assert [row["id"] for row in section["rows"]] == [str(n) for n in range(1, 11)]
    assert numbered == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "Dzongkhag\n" + "\n".join(f"{n}. Option {n}" for n in range(1, 12))},
    }
    assert (long1["type"], long2["type"]) == ("text", "text")
    assert len(long1["text"]["body"]) == 4096
    assert long1["text"]["body"] + long2["text"]["body"] == "x" * 5000
    assert text["text"]["body"] == ("Registered! Number BR-2026-000123.\nhttps://gw.bt/d/Tk9QRQ")
    assert document["type"] == "document"
    assert document["document"] == {
        "link": "https://gw.bt/d/Tk9QRQ",
        "filename": "Tk9QRQ.pdf",
        "caption": "Registered! Number BR-2026-000123.",
    }


def test_numbered_text_when_buttons_or_a_list_cannot_hold_the_reply() -> None:
    too_many = Reply("Dzongkhag", options(11))
    too_long = Reply("y" * 1025, options(2))
    long_titles = Reply("Pick", tuple(ReplyOption(str(n), "z" * 21 + str(n)) for n in (1, 2)))
    sent = list(payloads(outgoing_of(too_many, too_long, long_titles)))
    assert [p["type"] for p in sent] == ["text", "text", "interactive"]
    assert sent[0]["text"]["body"].endswith("\n11. Option 11")
    assert sent[1]["text"]["body"].endswith("\n1. Option 1\n2. Option 2")
    assert sent[2]["interactive"]["type"] == "list"  # titles too long for buttons


async def test_the_registrations_replies_go_out_through_the_fake_graph_api(
    graph: GraphServer, http: httpx.AsyncClient
) -> None:
    """The replies a registration queued, sent by the worker's sender (no webhook here)."""
    replies = [
        Reply("Type of business", options(3)),
        Reply("Registered! Number BR-2026-000123.", link=CERTIFICATE, end=True),
    ]
    await send_whatsapp_meta(outgoing_of(*replies), send_context(http, graph.url))
    assert [r.body["type"] for r in graph.requests] == ["interactive", "text", "document"]
    assert graph.requests[2].body["document"]["filename"] == "x.pdf"


@pytest.mark.parametrize(
    ("status", "answer", "retry"),
    [
        (429, {"error": {"message": "Too many calls", "code": 4}}, True),
        (500, {"error": {"message": "Unknown error", "code": 1}}, True),
        (503, {"error": {"message": "Service unavailable", "code": 2}}, True),
        (400, {"error": {"message": "Rate limit hit", "code": 130429}}, True),
        (400, {"error": {"message": "Pair rate limit", "code": 131056}}, True),
        (400, {"error": {"message": "Invalid parameter", "code": 100}}, False),
        (401, {"error": {"message": "Error validating access token", "code": 190}}, False),
        (404, {"error": {"message": "Unsupported post request", "code": 100}}, False),
    ],
)
async def test_failures_are_classified_for_retry(
    graph: GraphServer,
    http: httpx.AsyncClient,
    status: int,
    answer: dict[str, Any],
    retry: bool,
) -> None:
    graph.answers.append((status, answer))
    outgoing = outgoing_of(Reply("one"), Reply("two"))
    with pytest.raises(SendError) as failed:
        await send_whatsapp_meta(outgoing, send_context(http, graph.url))
    assert failed.value.retry is retry
    assert str(status) in str(failed.value)
    assert ACCESS_TOKEN not in str(failed.value)
    assert len(graph.requests) == 1  # the first failure stops the rest


async def test_an_unreachable_api_is_retried(http: httpx.AsyncClient) -> None:
    server = GraphServer()  # bound, then closed: nothing listens on its port
    url = server.url
    server.server_close()
    with pytest.raises(SendError) as failed:
        await send_whatsapp_meta(outgoing_of(Reply("hi")), send_context(http, url))
    assert failed.value.retry is True


async def test_missing_credentials_are_not_retried(
    graph: GraphServer, http: httpx.AsyncClient
) -> None:
    for settings in ({"meta_access_token": None}, {"meta_phone_number_id": ""}):
        with pytest.raises(SendError) as failed:
            await send_whatsapp_meta(
                outgoing_of(Reply("hi")), send_context(http, graph.url, **settings)
            )
        assert failed.value.retry is False
    assert graph.requests == []


async def test_the_number_written_to_is_used_when_none_is_configured(
    graph: GraphServer, http: httpx.AsyncClient
) -> None:
    outgoing = Outgoing(
        "whatsapp/meta", CITIZEN, [Outgoing.encode(Reply("hi"))], {"phone_number_id": "999"}
    )
    await send_whatsapp_meta(outgoing, send_context(http, graph.url, meta_phone_number_id=""))
    assert graph.requests[0].path == "/v21.0/999/messages"


def test_a_status_for_a_message_not_in_the_log_is_recorded_at_its_number(
    redis_database: RedisDatabase,
) -> None:
    """Meta reports delivery to `recipient_id` (digits): the log row carries the number
    in E.164, not a bare "+" (the adapter and the route once read different keys)."""
    admin = "admin-meta-statuses-token"
    options = {"meta_app_secret": APP_SECRET, "admin_token": admin}
    with gateway(redis_database.number, **options) as (client, _):
        body = raw(statuses("delivered"))
        headers = {
            "content-type": "application/json",
            "X-Hub-Signature-256": hub_signature(APP_SECRET, body),
        }
        assert client.post(PATH, content=body, headers=headers).status_code == 200
        rows = client.get(
            "/api/v1/messages",
            params={"address": CITIZEN},
            headers={"Authorization": f"Bearer {admin}"},
        ).json()
    assert [(r["address"], r["status"], r["direction"]) for r in rows] == [
        (CITIZEN, "delivered", "out")
    ]
