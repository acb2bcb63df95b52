"""Every channel adapter answers a malformed provider body with a 4xx and a reason (or the
acknowledgement its provider expects), never a 5xx and never an exception.

Each adapter of `gateway.providers.WEBHOOKS` is sent its provider's real body (the
fixtures of `tests/gateway/providers/fixtures`, and a few other real shapes: Meta's status
callbacks and button replies, Telegram's button presses, Hubtel's later hops), broken:

- every field removed, and replaced by each of a fixed set of nasty values (other JSON
  types, integers past 64 bits, lists nested 1000 and 5000 deep, very long strings, lone
  surrogates escaped in JSON, control characters, NUL; for forms: their text, invalid
  UTF-8 raw and percent-encoded, repeated keys);
- then, by hypothesis, several such mutations at once, with junk drawn at random and
  sometimes a content type that is neither form nor JSON.

All of those must be answered politely: a 2xx where the provider's contract is to
acknowledge what it does not understand, else a 4xx with a body. Stricter, these must
be a 4xx: a field the adapter documents as required, missing or of another JSON type;
and the citizen's number replaced by junk (letters, other channels' ids such as
`web:abc` or `telegram:1`, numbers too short or too long), which must never become a
citizen.

Bodies are signed as the provider signs them (Twilio's X-Twilio-Signature over the form
as the gateway parses it, Meta's X-Hub-Signature-256 over the raw bytes, Telegram's secret
header; Africa's Talking and Hubtel come from an allowed address), so that the malformed
body reaches the adapter's parser rather than its signature check. Finally, a body over
`max_body_bytes` (Meta's path: 3 MB) is refused with 413, announced by Content-Length or
streamed chunked without one, and a body just at the limit is not.

One gateway serves the module, on a Redis server of its own (`EmbeddedRedis`) and SQLite
under a temporary folder. The last test prints how many requests were sent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.providers import WEBHOOKS
from gateway.settings import Settings
from tests.gateway.fuzzing import DETERMINISTIC, Sent, fuzzed_app, summary
from tests.gateway.providers.bodies import (
    FORM,
    PUBLIC_URL,
    TWILIO_TOKEN,
    fixture,
    fresh,
    is_form,
    provider_headers,
    provider_type,
)

pytestmark = [
    pytest.mark.integration,  # a redis-server of the module's own (EmbeddedRedis)
    pytest.mark.timeout(300),  # a hang fails here, not at the suite's 10 minutes
]

EXAMPLES = 50  # hypothesis examples per channel

MUTATED = settings(
    DETERMINISTIC,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Key = str | int
FieldPath = tuple[Key, ...]
Document = Any  # a JSON body, or a form as a list of (name, value) pairs


# ----------------------------------------------------------------------- real bodies
def _meta(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


METADATA = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}
# Other real shapes of the providers' bodies: each adapter reads more than its fixture.
MORE_SHAPES: dict[str, list[Any]] = {
    "whatsapp/meta": [
        _meta(
            {
                "messaging_product": "whatsapp",
                "metadata": METADATA,
                "statuses": [
                    {
                        "id": "wamid.HBgLOTc1MTcxMjM0NTYVAgARGBI1RjQ0QjJGNkE0QjJCQzQ2QjMA",
                        "status": "failed",
                        "timestamp": "1767225600",
                        "recipient_id": "97517123456",
                        "errors": [
                            {
                                "code": 131047,
                                "title": "Re-engagement message",
                                "message": "Re-engagement message",
                                "error_data": {"details": "More than 24 hours have passed"},
                            }
                        ],
                    },
                    {
                        "id": "wamid.HBgLOTc1MTcxMjM0NTYVAgARGBI2QkQ3MDI3QjE4OTJBQzQ4RjgA",
                        "status": "delivered",
                        "timestamp": "1767225600",
                        "recipient_id": "97517123456",
                        "conversation": {"id": "c0ffee", "origin": {"type": "service"}},
                        "pricing": {
                            "billable": True,
                            "pricing_model": "CBP",
                            "category": "service",
                        },
                    },
                ],
            }
        ),
        _meta(
            {
                "messaging_product": "whatsapp",
                "metadata": METADATA,
                "contacts": [{"profile": {"name": "Pema Wangmo"}, "wa_id": "97517123456"}],
                "messages": [
                    {
                        "context": {"from": "15550783881", "id": "wamid.HBgLOTc1MTcxMjM0NTYVAgA"},
                        "from": "97517123456",
                        "id": "wamid.HBgLOTc1MTcxMjM0NTYVAgASGBQzQUY5NkQ0RjY1QjJCMkI4RkYzQgA=",
                        "timestamp": "1767225600",
                        "type": "interactive",
                        "interactive": {
                            "type": "button_reply",
                            "button_reply": {"id": "yes", "title": "Yes"},
                        },
                    },
                    {
                        "from": "97517123456",
                        "id": "wamid.HBgLOTc1MTcxMjM0NTYVAgASGBQzQUY5NkQ0RjY1QjJCMkI4RkYzQwA=",
                        "timestamp": "1767225600",
                        "type": "button",
                        "button": {"payload": "start", "text": "Start"},
                    },
                ],
            }
        ),
    ],
    "telegram": [
        {
            "update_id": 736201450,
            "callback_query": {
                "id": "4382bfdwdsb323b2d9",
                "from": {"id": 580114233, "is_bot": False, "first_name": "Pema"},
                "message": {
                    "message_id": 1188,
                    "from": {"id": 7000000001, "is_bot": True, "first_name": "Gov"},
                    "chat": {"id": 580114233, "type": "private"},
                    "date": 1767225600,
                    "text": "Choose a service",
                },
                "chat_instance": "-3214213441",
                "data": "1",
            },
        },
        {
            "update_id": 736201451,
            "edited_message": {
                "message_id": 1187,
                "chat": {"id": 580114233, "type": "private"},
                "date": 1767225600,
                "edit_date": 1767225660,
                "text": "hello",
            },
        },
    ],
    "ussd/hubtel": [
        {
            "Type": "Response",
            "Message": "1",
            "ServiceCode": "*714*11#",
            "Operator": "Vodafone",
            "ClientState": "step-2",
            "Mobile": "+233244123456",
            "SessionId": "hb-reg-2",
            "Sequence": 2,
        },
        {"Type": "Release", "Mobile": "233244123456", "SessionId": "hb-reg-2", "Sequence": 3},
    ],
    "web": [{"user": "registry-test-user", "text": "", "choice": "1", "id": "m-42"}],
    "whatsapp/twilio": [
        {
            **fixture("whatsapp/twilio")["form"],
            "MessageType": "button",
            "ButtonText": "Yes",
            "ButtonPayload": "yes",
            "OriginalRepliedMessageSid": "SMa1b2",
        }
    ],
    "sms/twilio/status": [{**fixture("sms/twilio/status")["form"], "ErrorCode": "30003"}],
}


def bodies(name: str) -> list[Document]:
    """The provider's real bodies for this channel: forms as (name, value) pairs."""
    sample = fixture(name)
    found = [sample["form"] if "form" in sample else sample["json"], *MORE_SHAPES.get(name, [])]
    found = [fresh(body) for body in found]
    return [list(body.items()) for body in found] if is_form(name) else found


# ----------------------------------------------------------------------- encoding
@dataclass(frozen=True)
class Deep:
    """A list nested `depth` deep, written out as JSON without recursion."""

    depth: int


def to_json(document: Document) -> bytes:
    """JSON as a provider could send it: lone surrogates escaped (`\\ud800`), and `Deep`
    lists as raw brackets (neither the json module nor orjson writes 5000 levels)."""
    deep: dict[str, int] = {}

    def marker(value: object) -> str:
        if not isinstance(value, Deep):
            raise TypeError(value)
        name = f"@@deep{len(deep)}@@"
        deep[name] = value.depth
        return name

    text = json.dumps(document, ensure_ascii=True, default=marker)  # NaN, Infinity too
    for name, depth in deep.items():
        text = text.replace(f'"{name}"', "[" * depth + "]" * depth, 1)
    return text.encode()


def to_form(pairs: list[tuple[str, str | bytes]]) -> bytes:
    """A urlencoded form; a `bytes` value goes raw (invalid UTF-8 on the wire), a lone
    surrogate in a text is percent-encoded as its (invalid) UTF-8 bytes."""
    parts = []
    for name, value in pairs:
        raw = (
            value
            if isinstance(value, bytes)
            else quote_plus(value, errors="surrogatepass").encode()
        )
        parts.append(quote_plus(name, errors="surrogatepass").encode() + b"=" + raw)
    return b"&".join(parts)


def encoded(name: str, document: Document) -> bytes:
    return to_form(document) if is_form(name) else to_json(document)


# ----------------------------------------------------------------------- the running gateway
@dataclass
class Gateway:
    """The running app, and Africa's Talking, Hubtel, Twilio, Meta and Telegram in front
    of it: `post` sends a body to a channel as its provider would, signed."""

    client: TestClient
    settings: Settings
    sent: Sent = field(default_factory=Sent)

    def post(
        self,
        name: str,
        body: bytes | Iterator[bytes],
        content_type: str | None = None,
        *,
        sign_as: bytes | None = None,
    ) -> httpx.Response:
        """POST `body` to channel `name` as its provider (the content type it sends
        unless told otherwise), signed over `sign_as` (default: `body`)."""
        path = "/channels" + WEBHOOKS[name].path
        signed = sign_as if sign_as is not None else body
        assert isinstance(signed, bytes)
        headers = provider_headers(name, signed)
        headers["content-type"] = content_type if content_type is not None else provider_type(name)
        shown = body[:300] if isinstance(body, bytes) else "(streamed)"
        return self.sent.send(
            name,
            lambda: self.client.post(path, content=body, headers=headers),
            lambda: f"POST {path} content-type {headers['content-type']!r}: {shown!r}",
        )


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    secrets: dict[str, Any] = {}
    for name in WEBHOOKS:  # Telegram's secret token, Meta's app secret
        secrets |= fixture(name).get("settings", {})
    options = {"twilio_auth_token": TWILIO_TOKEN, "public_url": PUBLIC_URL, **secrets}
    with fuzzed_app(tmp_path_factory.mktemp("malformed"), **options) as (client, app_settings):
        yield Gateway(client, app_settings)


def answered_politely(response: httpx.Response, what: str) -> None:
    """Not a server error; a refusal says why."""
    shown = f"{what} -> {response.status_code}: {response.text[:300]}"
    assert 200 <= response.status_code < 500, shown
    if response.status_code >= 400:
        assert response.content, f"a {response.status_code} without a reason: {shown}"


# ----------------------------------------------------------------------- nasty values
# Values no provider sends where a field is expected, one of each kind.
NASTY_JSON: tuple[Any, ...] = (
    None,
    True,  # an int to Python, not to the provider
    -1.5,
    2**64,
    [],
    {},
    "",
    "x" * 10_000,
    "\x00\x01\x1b[31m\u202e\ufeff",
    "\ud800",  # a lone surrogate, escaped
    Deep(1000),  # within orjson's 1024 levels, past Python's recursion limit
    Deep(5000),
)
NASTY_FORM: tuple[str | bytes, ...] = (
    "",
    "null",
    "[]",
    "x" * 10_000,
    "\x00\x01\x1b[31m\u202e\ufeff",
    "\ud800",  # percent-encoded as invalid UTF-8
    b"\xff\xfe\xc3(",  # invalid UTF-8, raw
    "[" * 1000 + "]" * 1000,
    "9" * 5000,
    "web:abc",
)


def field_paths(value: Any, prefix: FieldPath = ()) -> list[FieldPath]:
    """Every field and item of a JSON document, parents before children."""
    items: list[tuple[Key, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    found: list[FieldPath] = []
    for key, item in items:
        found.append((*prefix, key))
        found += field_paths(item, (*prefix, key))
    return found


REMOVE = object()


def edited(document: Any, path: FieldPath, value: Any = REMOVE) -> Any:
    """A copy of `document` with the field at `path` removed or set to `value`."""
    if not path:
        return value
    changed = copy.deepcopy(document)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if value is REMOVE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


def form_edits(
    pairs: list[tuple[str, str]], seen: set[Any]
) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """Each field of a form removed, repeated with another value, and set to each nasty
    value; and an empty form. Fields in `seen` (swept in another body) are passed over."""
    yield "no fields", []
    for index, (name, _) in enumerate(pairs):
        if name in seen:
            continue
        seen.add(name)
        yield f"{name} removed", pairs[:index] + pairs[index + 1 :]
        yield f"{name} repeated", [*pairs, (name, "other")]
        for value in NASTY_FORM:
            yield f"{name}={value!r:.40}", [*pairs[:index], (name, value), *pairs[index + 1 :]]


def json_edits(document: Any, seen: set[Any]) -> Iterator[tuple[str, Any]]:
    """The whole body and each of its fields set to each nasty value; each field removed.
    A list's first item stands for the others, and paths in `seen` (swept in another
    body of the channel) are passed over."""
    for path in [(), *field_paths(document)]:
        if path in seen or any(isinstance(key, int) and key > 0 for key in path):
            continue
        seen.add(path)
        if path:
            yield f"{path} removed", edited(document, path)
        for value in NASTY_JSON:
            yield f"{path}={value!r:.40}", edited(document, path, value)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_every_field_broken_every_way_is_refused_politely(gateway: Gateway, name: str) -> None:
    """Deterministic sweep: each field of each real body removed, repeated (forms), and
    replaced by each nasty value, one at a time. Failures are gathered per channel."""
    failures = []
    seen: set[Any] = set()
    for body in bodies(name):
        edits = form_edits(body, seen) if is_form(name) else json_edits(body, seen)
        for what, document in edits:
            try:
                answered_politely(gateway.post(name, encoded(name, document)), what)
            except Exception as exc:
                failures.append(f"{what}: {summary(exc)}")
    assert not failures, f"{len(failures)} broken bodies of {name}:\n" + "\n".join(failures)


# What each adapter cannot do without (as its module says), by body (0: the fixture, then
# `MORE_SHAPES`) and field: missing, or of another JSON type, it is a 4xx, never an
# acknowledgement of nothing.
MESSAGE: FieldPath = ("entry", 0, "changes", 0, "value", "messages", 0)
STATUS: FieldPath = ("entry", 0, "changes", 0, "value", "statuses", 0)
REQUIRED: dict[str, list[tuple[int, FieldPath]]] = {
    "ussd/africastalking": [(0, (f,)) for f in ("sessionId", "phoneNumber", "serviceCode", "text")],
    "ussd/africastalking/events": [(0, (f,)) for f in ("sessionId", "phoneNumber", "status")],
    "sms/africastalking": [(0, (f,)) for f in ("from", "text", "id")],
    "sms/africastalking/reports": [(0, (f,)) for f in ("id", "status")],
    "sms/twilio": [(0, ("From",)), (0, ("MessageSid",))],
    "sms/twilio/status": [(0, ("MessageSid",)), (0, ("MessageStatus",))],
    "whatsapp/twilio": [(0, ("From",)), (0, ("MessageSid",))],
    "ussd/hubtel": [(0, ("Type",)), (0, ("Mobile",)), (0, ("SessionId",))],
    "web": [(0, ("user",))],
    "telegram": [
        (0, ("update_id",)),
        (0, ("message", "chat")),
        (0, ("message", "chat", "id")),
        (1, ("callback_query", "id")),
        (1, ("callback_query", "from")),
        (1, ("callback_query", "from", "id")),
    ],
    "whatsapp/meta": [
        (0, ("object",)),
        (0, ("entry",)),
        (0, ("entry", 0, "changes")),
        (0, ("entry", 0, "changes", 0, "value")),
        (0, (*MESSAGE, "from")),
        (0, (*MESSAGE, "id")),
        (0, (*MESSAGE, "text", "body")),
        (1, (*STATUS, "id")),
        (1, (*STATUS, "status")),
        (2, (*MESSAGE, "interactive")),
        (2, (*MESSAGE, "interactive", "button_reply", "id")),
    ],
}
NOT_OF_ITS_TYPE: tuple[Any, ...] = (None, True, [], {})


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_a_required_field_missing_or_mistyped_is_a_4xx(gateway: Gateway, name: str) -> None:
    assert set(REQUIRED) == set(WEBHOOKS)
    for index, path in REQUIRED[name]:
        body = bodies(name)[index]
        if is_form(name):
            broken = [[(key, value) for key, value in body if key != path[0]]]
        else:
            kind = type(at(body, path))  # an empty list is still a list: not counted
            others = [v for v in NOT_OF_ITS_TYPE if type(v) is not kind]
            broken = [edited(body, path), *(edited(body, path, v) for v in others)]
        for document in broken:
            response = gateway.post(name, encoded(name, document))
            shown = f"{name} {path} in {to_json(document)[:300]!r} -> {response.status_code}"
            assert 400 <= response.status_code < 500, f"{shown}: {response.text[:200]}"
            assert response.content, shown


# ----------------------------------------------------------------------- random mutations
JUNK_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=["Cc", "Cs", "Cf", "Zl", "Zp"]), max_size=10),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\r\n", "%00", "%", "+", "&", "="]),
    st.integers(1_000, 70_000).map(lambda n: "é" * n),
)
JUNK_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, float("inf"), -0.0]),
        st.floats(),
        JUNK_TEXT,
        st.integers(1, 5000).map(Deep),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JUNK_TEXT, inner, max_size=4),
    max_leaves=12,
)
JUNK_FORM_VALUE = st.one_of(
    JUNK_TEXT,
    st.binary(max_size=20).filter(lambda b: b"&" not in b and b"=" not in b),
)
# Fields the adapters read somewhere: added where they do not belong, with junk.
KNOWN_KEYS = sorted(
    {
        key
        for name in WEBHOOKS
        if not is_form(name)
        for body in bodies(name)
        for path in field_paths(body)
        for key in path
        if isinstance(key, str)
    }
)
OTHER_CONTENT_TYPES = st.sampled_from(
    [
        "",
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/json; charset=utf-16",
        f"{FORM}; charset=latin-1",
        "application/json",
        FORM,
    ]
)


def at(document: Any, path: FieldPath) -> Any:
    for key in path:
        document = document[key]
    return document


@st.composite
def mutated_json(draw: st.DrawFn, document: Any) -> Any:
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from([(), *field_paths(document)]))
        action = draw(st.sampled_from(["remove", "replace", "add"]))
        if action == "remove" and path:
            document = edited(document, path)
        elif action == "add" and isinstance(at(document, path), dict):
            # A field the provider never sends, or one it sends elsewhere.
            key = draw(st.one_of(JUNK_TEXT, st.sampled_from(KNOWN_KEYS)))
            document = edited(document, (*path, key), draw(JUNK_JSON))
        else:
            document = edited(document, path, draw(JUNK_JSON))
    return document


@st.composite
def mutated_form(draw: st.DrawFn, pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, max(len(pairs) - 1, 0)))
        action = draw(st.sampled_from(["remove", "replace", "repeat", "add"]))
        if action == "remove" and pairs:
            pairs = pairs[:index] + pairs[index + 1 :]
        elif action == "replace" and pairs:
            pairs = [*pairs[:index], (pairs[index][0], draw(JUNK_FORM_VALUE)), *pairs[index + 1 :]]
        elif action == "repeat" and pairs:
            pairs = [*pairs, (pairs[index][0], draw(JUNK_FORM_VALUE))]
        else:
            pairs = [*pairs, (draw(JUNK_TEXT), draw(JUNK_FORM_VALUE))]
    return pairs


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_randomly_mutated_bodies_are_refused_politely(gateway: Gateway, name: str) -> None:
    """Several mutations at once, junk at random, sometimes another content type."""
    real = bodies(name)
    mutate = mutated_form if is_form(name) else mutated_json
    mutated = st.sampled_from(real).flatmap(mutate)
    content_types = st.one_of(st.none(), st.none(), st.none(), OTHER_CONTENT_TYPES)

    @MUTATED
    @given(document=mutated, content_type=content_types)
    def run(document: Any, content_type: str | None) -> None:
        body = encoded(name, document)
        answered_politely(gateway.post(name, body, content_type), f"{body[:200]!r}")

    run()


# ----------------------------------------------------------------------- citizens' numbers
# Where each channel whose citizen is a phone number says who it is.
CITIZEN_FIELDS: dict[str, FieldPath] = {
    "ussd/africastalking": ("phoneNumber",),
    "sms/africastalking": ("from",),
    "sms/twilio": ("From",),
    "whatsapp/twilio": ("From",),
    "ussd/hubtel": ("Mobile",),
    "whatsapp/meta": ("entry", 0, "changes", 0, "value", "messages", 0, "from"),
}
NOT_NUMBERS = (
    "",
    " ",
    "abc",
    "notaphone",
    "web:abc",
    "web:97517123456",
    "telegram:1",
    "telegram:580114233",
    "+1",
    "12",
    "+97",
    "+" + "1" * 25,
    "9" * 30,
    "+975171234567890",
    "tel:+97517123456",
    "1e10",
    "-1",
    "null",
    "\u202e+97517123456",
)


def with_citizen(name: str, number: str) -> Document:
    body = bodies(name)[0]
    path = CITIZEN_FIELDS[name]
    if is_form(name):
        return [(key, number if key == path[0] else value) for key, value in body]
    return edited(body, path, number)


@pytest.mark.parametrize("name", sorted(CITIZEN_FIELDS))
def test_a_citizen_number_that_is_not_one_is_refused(gateway: Gateway, name: str) -> None:
    """Letters, other channels' ids, numbers too short or too long: a 4xx, never a
    citizen (a callback must not reach a web chat's or Telegram's conversation)."""
    prefixes = ("", "whatsapp:") if name == "whatsapp/twilio" else ("",)
    for prefix in prefixes:
        for junk in NOT_NUMBERS:
            response = gateway.post(name, encoded(name, with_citizen(name, prefix + junk)))
            shown = f"{name} with citizen {prefix + junk!r} -> {response.status_code}"
            assert 400 <= response.status_code < 500, f"{shown}: {response.text[:200]}"
            assert response.content, shown
    # ... while the real number goes through (the junk above was the only fault).
    real = gateway.post(name, encoded(name, bodies(name)[0]))
    assert real.status_code < 300, real.text


# ----------------------------------------------------------------------- size limit
def limit_of(gateway: Gateway, name: str) -> int:
    """The largest body the webhook says it reads (Meta batches up to 3 MB; the others
    `max_body_bytes`)."""
    return WEBHOOKS[name].body_limit(gateway.settings)


def sized(name: str, size: int) -> bytes:
    """The channel's real body padded with an extra field to exactly `size` bytes."""
    body = bodies(name)[0]
    bare = encoded(name, [*body, ("pad", "")] if is_form(name) else {**body, "pad": ""})
    padding = "x" * (size - len(bare))
    padded = encoded(name, [*body, ("pad", padding)] if is_form(name) else {**body, "pad": padding})
    assert len(padded) == size
    return padded


def chunked(body: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """The body streamed in pieces: httpx sends no Content-Length for a generator."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


# A body streamed without Content-Length is refused unread: as too large (413) once it
# passes the limit, or at once because the webhooks demand a Content-Length (411: no
# provider streams, and a length-less body cannot be refused before it is read).
STREAMED_REFUSALS = (411, 413)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_a_body_over_the_limit_is_413_with_or_without_content_length(
    gateway: Gateway, name: str
) -> None:
    limit = limit_of(gateway, name)
    over = sized(name, limit + 1)
    announced = gateway.post(name, over)
    assert announced.status_code == 413, announced.text
    streamed = gateway.post(name, chunked(over), sign_as=over)
    assert streamed.status_code in STREAMED_REFUSALS, streamed.text
    assert announced.content
    assert streamed.content  # a reason


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_a_body_at_the_limit_is_not_refused_for_its_size(gateway: Gateway, name: str) -> None:
    """At the limit exactly the body is not refused as too large (it may be refused for
    what it says: a 64 KiB text is no USSD answer; streamed, for having no length)."""
    at = sized(name, limit_of(gateway, name))
    announced = gateway.post(name, at)
    assert announced.status_code != 413, announced.text
    answered_politely(announced, f"{name}: {len(at)} bytes")
    streamed = gateway.post(name, chunked(at), sign_as=at)
    assert streamed.status_code != 413, streamed.text
    answered_politely(streamed, f"{name}: {len(at)} bytes, streamed")


def test_meta_takes_bodies_over_the_general_limit(gateway: Gateway) -> None:
    """Meta batches webhooks up to 3 MB: twice the general limit is read, and answered."""
    assert limit_of(gateway, "whatsapp/meta") >= 3 * 1024 * 1024
    body = sized("whatsapp/meta", 2 * gateway.settings.max_body_bytes)
    response = gateway.post("whatsapp/meta", body)
    assert response.status_code == 200, response.text


def test_report_requests_sent(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    """Last in the module (pytest keeps the file's order): how much was tried."""
    gateway.sent.report("Malformed channel bodies", capsys)
