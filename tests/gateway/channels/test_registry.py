"""Walks the channel registry: every adapter has a real provider body that it accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.channels import CHANNELS
from gateway.channels.twilio_common import compute_signature
from gateway.channels.whatsapp_meta import hub_signature
from tests.gateway.channels.apps import gateway

FIXTURES = Path(__file__).parent / "fixtures"
DB = 6
TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC_URL = "https://gw.example.gov.bt"


def fixture(name: str) -> dict[str, Any]:
    path = FIXTURES / (name.replace("/", "__") + ".json")
    assert path.exists(), f"channel {name!r} has no fixture {path.name}"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_every_fixture_names_a_registered_channel() -> None:
    names = {p.stem.replace("__", "/") for p in FIXTURES.glob("*.json")}
    assert names == set(CHANNELS)


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_each_channel_accepts_its_providers_real_body(name: str) -> None:
    channel = CHANNELS[name]
    sample = fixture(name)
    path = "/channels" + channel.path
    headers = dict(sample.get("headers", {}))  # e.g. a provider's secret header
    if sample.get("twilio_signed"):
        headers["X-Twilio-Signature"] = compute_signature(TOKEN, PUBLIC_URL + path, sample["form"])
    settings = {"twilio_auth_token": TOKEN, "public_url": PUBLIC_URL, **sample.get("settings", {})}
    with gateway(DB, **settings) as (client, _):
        if "form" in sample:
            response = client.post(path, data=sample["form"], headers=headers)
        elif sample.get("meta_signed"):
            body = json.dumps(sample["json"]).encode()
            headers["X-Hub-Signature-256"] = hub_signature(settings["meta_app_secret"], body)
            headers["content-type"] = "application/json"
            response = client.post(path, content=body, headers=headers)
        else:
            response = client.post(path, json=sample["json"], headers=headers)
    assert response.status_code in (200, 204), response.text
    assert sample["expect"] in response.text
