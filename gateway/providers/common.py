"""What the providers share: refusals, access to the callbacks providers do not sign,
citizens' numbers, reading a body into a pydantic model, USSD screens and the texts of
messages sent. Nothing here knows one provider, and no provider imports from another.

Every provider body, form or JSON, is read the same way: into a frozen pydantic model that
ignores the fields it does not read (providers add fields without notice). A body the
model refuses is a 400 that names the field as the provider does and says what is wrong
with it, in JSON's words.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import HTTPException, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from dialogs.gsm import USSD_MAX_SEPTETS, septets
from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render import Rendered, renderer_for
from gateway.delivery.outgoing import Outgoing
from gateway.security.addresses import NotAPhoneNumberError, phone_number
from gateway.settings import Settings, secret

IPNetwork = IPv4Network | IPv6Network
T = TypeVar("T")
Model = TypeVar("Model", bound=BaseModel)


def refuse(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=detail)


class Access(StrEnum):
    """Who may call a webhook, as the gateway says at start for each."""

    AUTHENTICATED = "authenticated"  # a signature, a token or an allow-list is checked
    OPEN = "open (development)"  # no secret, let in by GATEWAY_DEVELOPMENT
    CLOSED = "closed"  # no secret configured: every request is refused
    PUBLIC = "public"  # open to anyone by design (the web chat), limited per client


# ----------------------------------------------------------------------- unsigned callbacks
def unsigned_access(settings: Settings) -> Access:
    """Africa's Talking and Hubtel sign nothing: a token or an allow-list, else closed."""
    if secret(settings.ussd_token) or settings.ussd_allowed_ips:
        return Access.AUTHENTICATED
    return Access.OPEN if settings.development else Access.CLOSED


def check_access(request: Request, settings: Settings) -> None:
    """403 unless the caller presents the USSD token (when one is set) and comes from an
    allowed address (when a list is set); with neither configured, 403 unless
    GATEWAY_DEVELOPMENT. The address is the client's as `trusted_proxies` tell it."""
    token = secret(settings.ussd_token)
    if token is None and not settings.ussd_allowed_ips:
        if settings.development:
            return
        raise refuse(403, "closed: set GATEWAY_USSD_TOKEN or GATEWAY_USSD_ALLOWED_IPS")
    if token is not None:  # the query string is parsed only when there is a token to find
        given = request.query_params.get("token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise refuse(403, "wrong or missing token")
    if settings.ussd_allowed_ips:
        host = request.client.host if request.client else ""
        if not allowed(host, tuple(settings.ussd_allowed_ips)):
            raise refuse(403, "caller address not allowed")


@lru_cache(maxsize=1024)
def allowed(host: str, allow_list: tuple[str, ...]) -> bool:
    """Whether `host` is in the allow-list (a few aggregator addresses call every hop:
    the answer is kept rather than parsed again)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks(allow_list))


@lru_cache(maxsize=8)
def networks(allowed: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The allow-list parsed once (it is read on every USSD hop). An entry that is not an
    address or network allows nothing, rather than failing every callback."""
    parsed = []
    for entry in allowed:
        try:
            parsed.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(parsed)


# ----------------------------------------------------------------------- citizens
def citizen_number(raw: str, field: str) -> str:
    """An operator's number for the citizen, in E.164; 400 naming `field` otherwise (a
    callback can never name a web chat's or Telegram's citizen, nor a local number)."""
    try:
        return phone_number(raw).e164
    except NotAPhoneNumberError as exc:
        raise refuse(400, f"{field} is not a phone number in E.164 (+975...)") from exc


# ----------------------------------------------------------------------- body models
class Body(BaseModel):
    """A provider's body, or a part of one: the fields a webhook reads, the others
    ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _none_when_invalid(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None


Lenient = Annotated[T | None, WrapValidator(_none_when_invalid)]
"""A field only worth reading when it is what the provider documents (a timestamp, a
delivery report's details): None otherwise, rather than refusing the whole body."""


def _filled(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("blank", "blank")
    return value


Filled = Annotated[str, AfterValidator(_filled)]
"""A required text, stripped; a blank one counts as missing."""


def matching(pattern: str, fault: str) -> AfterValidator:
    """A text constraint whose refusal says `fault` (e.g. "not a Twilio message SID")."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise PydanticCustomError("pattern", fault)
        return value

    return AfterValidator(check)


# ----------------------------------------------------------------------- reading bodies
MAX_FORM_BYTES = 64 * 1024  # providers send a few hundred bytes
MISSING = frozenset({"missing", "blank"})
JSON_KINDS = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
}


async def form_fields(request: Request) -> dict[str, str]:
    """The urlencoded body as strings (a repeated field: its last value); 415 when it is
    not a form, 413 when too large, 400 when it cannot be read."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise refuse(415, "expected application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise refuse(413, "the form body is too large")
    try:
        # The standard library's parser: several times cheaper than a multipart parser
        # for the small urlencoded bodies aggregators send on every USSD hop.
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise refuse(400, "the form body could not be read") from exc
    return dict(pairs)


def parse_form(model: type[Model], fields: Mapping[str, str]) -> Model:
    """A form's fields as `model`; 400 naming the fields missing, or the first wrong."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = _errors(exc)
        missing = [str(e["loc"][0]) for e in errors if e["type"] in MISSING and e["loc"]]
        if missing:
            raise refuse(400, "missing form fields: " + ", ".join(missing)) from exc
        first = errors[0]
        raise refuse(400, f"{_path(first['loc']) or 'the form'}: {_phrase(first)}") from exc


async def read_form(request: Request, model: type[Model]) -> Model:
    """The request's form as `model` (see `form_fields` and `parse_form`)."""
    return parse_form(model, await form_fields(request))


def json_body(body: bytes, expected: str) -> Any:
    """`body` as JSON; 400 naming what was `expected` when it is not JSON. orjson refuses
    nesting past 1024 levels with an error (the standard library's parser raised
    RecursionError, a 500)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise refuse(400, f"the body is not JSON: expected {expected}") from exc


def parse_json(model: type[Model], data: object, expected: str) -> Model:
    """JSON data as `model`; 400 saying what was `expected` and the first fault found."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refuse(400, f"expected {expected}: {problem(exc)}") from exc


async def read_json(request: Request, model: type[Model], expected: str) -> Model:
    """The request's JSON body as `model` (see `json_body` and `parse_json`)."""
    return parse_json(model, json_body(await request.body(), expected), expected)


def problem(exc: ValidationError) -> str:
    """The first fault of a JSON body: the field as the provider names it and where it
    is (`"text.body" in entry[0].changes[0].value.messages[0]`), then what is wrong."""
    error = _errors(exc)[0]
    return f"{_where(error['loc'])}: {_phrase(error)}"


def _errors(exc: ValidationError) -> list[ErrorDetails]:
    # Without the input: a refused value may be a list nested a thousand deep.
    return exc.errors(include_url=False, include_context=False, include_input=False)


def _phrase(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind in MISSING:
        return "missing"
    if kind in JSON_KINDS:
        return "should be " + JSON_KINDS[kind]
    message = error["msg"]
    for prefix in ("Value error, ", "Input ", "String "):
        message = message.removeprefix(prefix)
    return message


def _path(loc: tuple[int | str, ...]) -> str:
    """`entry[0].changes`: a location as JSON paths are written."""
    path = ""
    for key in loc:
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            path += f".{key}" if path else key
    return path


def _where(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "the body"
    start = len(loc)  # the field's name: the keys after the last list position
    while start and not isinstance(loc[start - 1], int):
        start -= 1
    if start == len(loc):  # a list's item: named after the list
        while start and isinstance(loc[start - 1], int):
            start -= 1
        start = max(start - 1, 0)
    name, parent = _path(loc[start:]), _path(loc[:start])
    return f'"{name}" in {parent}' if parent else f'"{name}"'


# ----------------------------------------------------------------------- USSD
def ussd_screen(replies: list[Reply]) -> tuple[str, bool]:
    """One USSD screen from the replies: their text, and whether the session ends."""
    rendered = [renderer_for(Medium.USSD).render(reply).text for reply in replies]
    text = "\n".join(rendered)
    if septets(text) > USSD_MAX_SEPTETS and rendered:
        text = rendered[-1]  # each reply fits on its own; keep the newest
    return text, any(reply.end for reply in replies) or not replies


# ----------------------------------------------------------------------- texts sent
def chunks(text: str, limit: int) -> Iterator[str]:
    """`text` in pieces of at most `limit` characters (a provider's body limit), cut at
    line ends where possible so a menu line is never split."""
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    if text:
        yield text


def with_link(rendered: Rendered) -> str:
    """A rendered reply as plain text: its link written after the text, where a medium
    cannot attach it (an SMS, a WhatsApp text message)."""
    text, link = rendered.text, rendered.link
    if link and link not in text:
        return f"{text}\n{link}" if text else link
    return text


def plain_texts(outgoing: Outgoing, medium: Medium, limit: int) -> Iterator[str]:
    """The text messages of `outgoing` rendered for `medium`, links written in, each at
    most `limit` characters (the provider's body limit)."""
    renderer = renderer_for(medium)
    for reply in outgoing.decoded():
        yield from chunks(with_link(renderer.render(reply)), limit)
