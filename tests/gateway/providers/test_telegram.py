"""Telegram: updates posted as the Bot API posts them, replies sent through a fake Bot API.

The gateway runs with its worker in process on a real Redis (a database the test leased,
`redis_database`); `FakeTelegram` (a real HTTP server on a loopback port) records the
`sendMessage` and `answerCallbackQuery` calls. What was sent is compared with what the
conversation answered (`recorded_replies`), as Telegram shows it, never with the shipped
services' wording.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialogs.media import Medium
from dialogs.messages import Reply, ReplyOption
from dialogs.render import renderer_for
from gateway.app import create_app
from gateway.conversations.messages import Message
from gateway.delivery.outgoing import Outgoing
from gateway.providers import WEBHOOKS
from gateway.providers.telegram.keyboard import inline_keyboard
from gateway.providers.telegram.webhook import Telegram, TelegramChat
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.dialogs.helpers import SERVICES_DIR
from tests.gateway.delivery.test_outbox import BOT_TOKEN, FakeTelegram, fake_telegram
from tests.gateway.providers.apps import Effects, app_keys, prove_number, recorded_replies
from tests.redis_databases import RedisDatabase

__all__ = ["fake_telegram"]  # the fixture, shared with the outbox tests

SECRET = "gw-Xq3_vT9kLm2Pz8RbN4"
NOW = int(time.time())  # an update older than 8 days is a replay, ignored
PATH = "/channels/telegram"
USER = 580114233
CITIZEN = f"telegram:{USER}"
_ids = itertools.count(736201450)


def user() -> dict[str, Any]:
    return {
        "id": USER,
        "is_bot": False,
        "first_name": "Pema",
        "last_name": "Wangmo",
        "username": "pemawangmo",
        "language_code": "en",
    }


def chat() -> dict[str, Any]:
    return {
        "id": USER,
        "first_name": "Pema",
        "last_name": "Wangmo",
        "username": "pemawangmo",
        "type": "private",
    }


def text_update(text: str, update_id: int | None = None) -> dict[str, Any]:
    """A private text message, as Telegram posts it."""
    update_id = update_id or next(_ids)
    message: dict[str, Any] = {
        "message_id": update_id % 100000,
        "from": user(),
        "chat": chat(),
        "date": NOW,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
    return {"update_id": update_id, "message": message}


def callback_update(data: str, update_id: int | None = None) -> dict[str, Any]:
    """A press on an inline keyboard button of a message the bot sent."""
    update_id = update_id or next(_ids)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"25148032194{update_id}",
            "from": user(),
            "message": {
                "message_id": 42,
                "from": {
                    "id": 7354189421,
                    "is_bot": True,
                    "first_name": "Gov",
                    "username": "gov_bot",
                },
                "chat": chat(),
                "date": NOW,
                "text": "Type of business",
                "reply_markup": {"inline_keyboard": [[{"text": "1", "callback_data": "1"}]]},
            },
            "chat_instance": "-3571961920188441522",
            "data": data,
        },
    }


@dataclass
class Gateway:
    app: FastAPI
    client: TestClient
    effects: Effects
    telegram: FakeTelegram
    redis: redis.Redis
    said: list[list[Reply]]  # what the conversations answered, one list per message

    def post(self, update: Any, secret: str | None = SECRET) -> Any:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.client.post(
            PATH,
            content=json.dumps(update),
            headers={
                "content-type": "application/json",
                **headers,
            },
        )

    def stored(self) -> list[bytes]:
        """The keys in the app's Redis database, but the worker's health check."""
        return app_keys(self.redis)

    def screen(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """Post `update`; the sendMessage bodies it caused (waits for the worker to send
        every reply the conversation gave)."""
        before = len(self.telegram.sent())
        handled = len(self.said)
        response = self.post(update)
        assert response.status_code == 200, response.text
        assert response.json() == {}
        assert len(self.said) == handled + 1  # the update was one message
        self.telegram.wait_for("sendMessage", before + len(self.said[-1]))
        return self.telegram.sent()[before:]


@pytest.fixture
def gw(fake_telegram: FakeTelegram, redis_database: RedisDatabase) -> Iterator[Gateway]:
    connection = redis_database.client()
    settings = Settings(
        services_dir=SERVICES_DIR,
        redis_url=redis_database.url,
        telegram_secret_token=SECRET,
        telegram_bot_token=BOT_TOKEN,
        telegram_api_url=fake_telegram.url,
        worker_in_process=True,
        worker_poll_seconds=0.01,
        send_retry_seconds=0.05,
    )
    app = create_app(settings)
    effects = Effects()
    try:
        with TestClient(app) as client:
            Runtime.of(app).conversations.lookup = effects.lookup
            Runtime.of(app).conversations.submit = effects.submit
            said = recorded_replies(app)
            yield Gateway(app, client, effects, fake_telegram, connection, said)
    finally:
        connection.close()


def keys(body: dict[str, Any]) -> list[str]:
    markup = body.get("reply_markup", {"inline_keyboard": []})
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


def shown(replies: list[Reply]) -> list[dict[str, Any]]:
    """The sendMessage bodies of `replies` in the chat: each the Telegram renderer's text,
    its options as the inline keyboard under it."""
    bodies = []
    for reply in replies:
        body: dict[str, Any] = {
            "chat_id": USER,
            "text": renderer_for(Medium.TELEGRAM).render(reply).text,
        }
        keyboard = inline_keyboard(reply)
        if keyboard is not None:
            body["reply_markup"] = keyboard
        bodies.append(body)
    return bodies


def test_the_adapter_is_registered() -> None:
    assert isinstance(WEBHOOKS["telegram"], Telegram)


def test_replies_become_an_outgoing_for_the_chat() -> None:
    message = Message(CITIZEN, Medium.TELEGRAM, "2", choice="2", message_id="tg:9")
    chat = TelegramChat(USER, callback_query_id="77")
    reply = Reply("Type of business", (ReplyOption("1", "Cottage"),))
    outgoing = Telegram().outgoing(message, chat, [reply])
    assert outgoing == Outgoing(
        sender="telegram",
        address=str(USER),
        replies=[
            {
                "text": "Type of business",
                "options": [{"key": "1", "label": "Cottage", "nav": False}],
                "link": None,
                "end": False,
            }
        ],
        context={"callback_query_id": "77"},
        key="tg:9",
    )
    assert outgoing.decoded() == [reply]
    typed = Telegram().outgoing(message, TelegramChat(USER), [reply])
    assert typed.context == {}  # no button pressed: no callback query to answer


def test_a_business_registration_over_telegram(gw: Gateway) -> None:
    # The number proved earlier: tests/gateway/security/test_verification.py
    prove_number(gw.client, f"telegram:{USER}")
    menu = gw.screen(text_update("/start"))
    assert menu[-1]["chat_id"] == USER
    assert "2" in keys(menu[-1])  # the services are buttons

    screens = [menu]
    steps: list[tuple[str, str]] = [
        ("press", "2"),
        ("type", "11501001234"),
        ("type", "Druk Bakery"),
        ("press", "2"),
        ("type", "bakery"),
        ("type", "Thimphu"),
        ("type", "17123456"),
        ("press", "1"),
        ("press", "1"),
    ]
    for kind, value in steps:
        if kind == "press":
            assert value in keys(screens[-1][-1]), screens[-1]
            screens.append(gw.screen(callback_update(value)))
        else:
            screens.append(gw.screen(text_update(value)))
    # Each reply the conversation gave is a message in the chat, its options as buttons.
    assert screens == [shown(replies) for replies in gw.said]
    assert keys(screens[3][-1])[:3] == ["1", "2", "3"]
    second = gw.said[3][-1].options[1]
    assert screens[3][-1]["reply_markup"]["inline_keyboard"][1] == [
        {"text": f"2. {second.label}", "callback_data": "2"}
    ]
    assert gw.said[-1][-1].end
    assert screens[-1][-1]["text"].endswith("\nhttps://gw.bt/d/x")  # what apps.Effects issued
    assert len(gw.effects.lookups) == 1
    assert len(gw.effects.submissions) == 1
    answers = gw.effects.submissions[0].answers
    assert answers["business_type"] == "small"
    assert answers["location"] == "thimphu"
    # every button press was answered, once
    presses = sum(kind == "press" for kind, _ in steps)
    answered = gw.telegram.wait_for("answerCallbackQuery", presses)
    assert len(answered) == presses
    assert all(body["callback_query_id"].startswith("25148032194") for body in answered)
    assert {call.token for call in gw.telegram.calls} == {BOT_TOKEN}


def test_a_duplicate_update_has_one_effect_and_is_sent_once(gw: Gateway) -> None:
    prove_number(gw.client, f"telegram:{USER}")
    gw.screen(text_update("/start"))
    gw.screen(callback_update("2"))
    update = text_update("11501001234")
    handled = len(gw.said)
    first = gw.post(update)
    again = gw.post(update)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() == {}
    asked = shown(gw.said[handled])  # the next question, once
    sent = gw.telegram.wait_for("sendMessage", sum(map(len, gw.said[: handled + 1])))
    assert sent[-len(asked) :] == asked
    # a later update flushes the worker: the duplicate was never sent
    gw.screen(text_update("Druk Bakery"))
    assert sum(body == asked[-1] for body in gw.telegram.sent()) == 1
    assert len(gw.effects.lookups) == 1


def _refused(gw: Gateway, status: int, expected: int) -> None:
    assert status == expected
    assert gw.stored() == []  # nothing stored, nothing queued
    assert gw.effects.lookups == []
    assert gw.telegram.calls == []


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_a_missing_or_wrong_secret_is_403_and_nothing_is_processed(
    gw: Gateway, secret: str | None
) -> None:
    response = gw.post(text_update("/start"), secret=secret)
    _refused(gw, response.status_code, 403)


def test_without_a_configured_secret_everything_is_refused(
    fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    app = create_app(Settings(services_dir=SERVICES_DIR, redis_url=redis_database.url))
    with TestClient(app) as client:
        response = client.post(
            PATH, json=text_update("/start"), headers={"X-Telegram-Bot-Api-Secret-Token": ""}
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"message": {"text": "hi"}}),
        json.dumps({"update_id": "12", "message": {}}),
        json.dumps({"update_id": 12, "message": {"text": "hi", "from": user()}}),
        json.dumps({"update_id": 12, "message": {"text": "hi", "chat": {"id": "x"}}}),
        json.dumps({"update_id": 12, "callback_query": {"from": user(), "data": "1"}}),
    ],
)
def test_a_malformed_update_is_400(gw: Gateway, body: str) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
    response = gw.client.post(PATH, content=body, headers=headers)
    _refused(gw, response.status_code, 400)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 9, "edited_message": text_update("hello")["message"]},
        {"update_id": 9, "my_chat_member": {"chat": chat(), "from": user(), "date": 1}},
        {
            "update_id": 9,
            "message": {"message_id": 3, "from": user(), "chat": chat(), "date": 1, "sticker": {}},
        },
    ],
)
def test_other_updates_are_acknowledged_and_ignored(gw: Gateway, update: dict[str, Any]) -> None:
    response = gw.post(update)
    assert response.status_code == 200
    assert response.json() == {}
    assert gw.stored() == []
    assert gw.telegram.calls == []
