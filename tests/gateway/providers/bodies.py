"""The providers' real bodies (`fixtures/`, one a channel of `gateway.providers.WEBHOOKS`)
and how each provider sends one: its content type, and its headers, signed as the
provider signs them (Twilio's X-Twilio-Signature over the form as the gateway parses it,
Meta's X-Hub-Signature-256 over the raw bytes, Telegram's secret header; Africa's
Talking and Hubtel sign nothing: their callbacks come from an allowed address).

A fixture is a JSON file: the body (`form` or `json`), the `headers` the provider adds,
the `settings` a gateway needs to take it (Meta's app secret, Telegram's secret token),
`twilio_signed` or `meta_signed`, and what the answer says (`expect`).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, Headers
from starlette.formparsers import FormParser

from gateway.providers import WEBHOOKS
from gateway.providers.meta.whatsapp import SIGNATURE_HEADER as META_HEADER
from gateway.providers.meta.whatsapp import hub_signature
from gateway.providers.twilio.signature import SIGNATURE_HEADER as TWILIO_HEADER
from gateway.providers.twilio.signature import compute_signature

FIXTURES = Path(__file__).parent / "fixtures"
FORM = "application/x-www-form-urlencoded"
# The settings a gateway taking the signed fixtures runs with.
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC_URL = "https://gw.example.gov.bt"


def fixture(name: str) -> dict[str, Any]:
    """Channel `name`'s fixture, as written."""
    path = FIXTURES / (name.replace("/", "__") + ".json")
    assert path.exists(), f"channel {name!r} has no fixture {path.name}"
    sample: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return sample


def fresh(value: Any) -> Any:
    """The body as sent now: Meta's `timestamp` and Telegram's `date` say when a message
    was written, and a message older than the provider's redelivery window is a replay,
    acknowledged and ignored before its other fields are read."""
    now = int(time.time())
    if isinstance(value, dict):
        return {
            key: str(now)
            if key == "timestamp" and isinstance(item, str)
            else now
            if key == "date" and isinstance(item, int)
            else fresh(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [fresh(item) for item in value]
    return value


def is_form(name: str) -> bool:
    return "form" in fixture(name)


def provider_type(name: str) -> str:
    """What the provider sends: a form or JSON, as the channel's fixture is."""
    return FORM if is_form(name) else "application/json"


async def _one_chunk(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body


def parsed_form(body: bytes) -> FormData:
    """The form as the gateway reads it (Starlette's parser): what Twilio signs over.
    Not a form the parser takes: an empty one (the gateway refuses it unread)."""
    parsing = FormParser(Headers(), _one_chunk(body)).parse()
    try:
        # Driven by hand, not by asyncio.run: callers may be inside an event loop. The
        # parser never waits for anything (its body is one chunk already in memory).
        parsing.send(None)
    except StopIteration as parsed:
        form: FormData = parsed.value
        return form
    except Exception:
        return FormData()
    parsing.close()
    raise RuntimeError("the form parser waited for more than the body in memory")


def provider_headers(name: str, signed: bytes) -> dict[str, str]:
    """The headers channel `name`'s provider sends with the body `signed` (without its
    content type), signed for a gateway with `TWILIO_TOKEN`, `PUBLIC_URL` and the
    fixture's settings."""
    sample = fixture(name)
    headers = dict(sample.get("headers", {}))  # Telegram's secret
    if sample.get("twilio_signed"):
        url = PUBLIC_URL + "/channels" + WEBHOOKS[name].path
        form: Any = parsed_form(signed)  # a multi-dict: Twilio signs every value
        headers[TWILIO_HEADER] = compute_signature(TWILIO_TOKEN, url, form)
    if sample.get("meta_signed"):
        headers[META_HEADER] = hub_signature(sample["settings"]["meta_app_secret"], signed)
    return headers
