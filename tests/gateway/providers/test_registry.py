"""Walks the channel registry: every adapter has a real provider body that it accepts."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from gateway.providers import WEBHOOKS
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

DB = 6


def test_every_fixture_names_a_registered_channel() -> None:
    names = {p.stem.replace("__", "/") for p in FIXTURES.glob("*.json")}
    assert names == set(WEBHOOKS)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_each_channel_accepts_its_providers_real_body(name: str) -> None:
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
    with gateway(DB, **settings) as (client, _):
        response = client.post(path, content=body, headers=headers)
    assert response.status_code in (200, 204), response.text
    assert sample["expect"] in response.text
