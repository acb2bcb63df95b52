"""Walks the registries: every webhook has a real provider body that it accepts, every
sender says its medium, and each provider's package stands alone."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import pytest

import gateway.providers as registry
from dialogs.media import Medium
from dialogs.messages import Reply
from gateway.delivery.outbox import job_id
from gateway.delivery.outgoing import Outgoing, SendContext, Sender
from gateway.delivery.worker import CONTEXT_KEY, deliver
from gateway.providers import SENDERS, WEBHOOKS, sender_ready
from gateway.settings import Settings
from tests.gateway.providers.apps import gateway
from tests.gateway.providers.bodies import (
    FIXTURES,
    PUBLIC_URL,
    TWILIO_TOKEN,
    fixture,
    fresh,
    provider_headers,
    provider_type,
)
from tests.redis_databases import RedisDatabase

PROVIDERS = Path(registry.__file__).parent
SHARED = {"gateway.providers", "gateway.providers.base", "gateway.providers.common"}


def test_every_fixture_names_a_registered_channel() -> None:
    names = {p.stem.replace("__", "/") for p in FIXTURES.glob("*.json")}
    assert names == set(WEBHOOKS)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_each_channel_accepts_its_providers_real_body(
    redis_database: RedisDatabase, name: str
) -> None:
    channel = WEBHOOKS[name]
    sample = fixture(name)
    path = "/channels" + channel.path
    if "form" in sample:
        body = urlencode(fresh(sample["form"])).encode()
    else:
        body = json.dumps(fresh(sample["json"])).encode()
    headers = {**provider_headers(name, body), "content-type": provider_type(name)}
    settings = {
        "twilio_auth_token": TWILIO_TOKEN,
        "public_url": PUBLIC_URL,
        **sample.get("settings", {}),
    }
    with gateway(redis_database.number, **settings) as (client, _):
        response = client.post(path, content=body, headers=headers)
    assert response.status_code in (200, 204), response.text
    assert sample["expect"] in response.text


def test_every_sender_says_its_medium() -> None:
    assert {name: sender.medium for name, sender in SENDERS.items()} == {
        "sms/africastalking": Medium.SMS,
        "sms/twilio": Medium.SMS,
        "whatsapp/twilio": Medium.WHATSAPP,
        "whatsapp/meta": Medium.WHATSAPP,
        "telegram": Medium.TELEGRAM,
    }
    assert all(sender.name == name for name, sender in SENDERS.items())
    assert not sender_ready("sms/africastalking", Settings(at_api_key=None))
    assert sender_ready("sms/africastalking", Settings(at_api_key="atsk_" + "0" * 40))
    assert not sender_ready("carrier-pigeon", Settings())


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("provider", sorted(p.name for p in PROVIDERS.iterdir() if p.is_dir()))
def test_a_provider_imports_nothing_of_another(provider: str) -> None:
    """What providers share is in `gateway.providers.common` (or the contract in
    `base`): a provider's package never reaches into a sibling's."""
    own = f"gateway.providers.{provider}"
    for path in sorted((PROVIDERS / provider).glob("*.py")):
        others = {
            name
            for name in imported(path)
            if name.startswith("gateway.providers")
            and name not in SHARED
            and not name.startswith(own)
        }
        assert others == set(), path.name


# ---- Outgoings queued by the previous release -----------------------------------------


@dataclasses.dataclass
class FakeSender:
    sent: list[Outgoing] = dataclasses.field(default_factory=list)

    async def send(self, outgoing: Outgoing, context: SendContext) -> None:
        self.sent.append(outgoing)


REPLY = Outgoing.encode(Reply("Type of business"))
QUEUED = Outgoing(
    sender="telegram",
    address="580114233",
    replies=[REPLY],
    context={"callback_query_id": "77"},
    key="tg:9",
)


async def delivered(payload: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[Outgoing]:
    """What the worker's `deliver` job hands the sender for a queued `payload`."""
    fake = FakeSender()
    monkeypatch.setitem(SENDERS, "telegram", Sender("telegram", Medium.TELEGRAM, fake.send, bool))
    async with httpx.AsyncClient() as http:
        context = SimpleNamespace(send=SendContext(Settings(), http))
        done = await deliver({CONTEXT_KEY: context, "job_try": 1}, payload)
    assert done == {"sent": True, "tries": 1, "error": ""}
    return fake.sent


async def test_an_outgoing_queued_by_the_previous_release_is_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The release before named the sender `channel`: its jobs still in Redis are sent."""
    old = {
        "channel": "telegram",
        "address": "580114233",
        "replies": [REPLY],
        "context": {"callback_query_id": "77"},
        "key": "tg:9",
    }
    assert await delivered(old, monkeypatch) == [QUEUED]


async def test_an_outgoing_is_queued_under_its_sender_and_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = dataclasses.asdict(QUEUED)  # as the outbox queues it
    assert payload["sender"] == "telegram"
    assert "channel" not in payload
    assert await delivered(payload, monkeypatch) == [QUEUED]


def test_the_job_id_of_an_outgoing_is_the_previous_releases() -> None:
    """A webhook redelivered across the upgrade finds the job queued before it."""
    digest = hashlib.sha256(b"telegram\ntg:9").hexdigest()
    assert job_id(QUEUED) == f"send:{digest[:40]}"
    assert Outgoing(channel="telegram", address="580114233", replies=[REPLY]).sender == "telegram"
