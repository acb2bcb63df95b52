"""What several adapters share: access to the callbacks providers do not sign, citizens'
numbers, JSON bodies and USSD screens. Nothing here knows one provider."""

from __future__ import annotations

import hmac
import ipaddress
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from typing import Any

import orjson
from fastapi import Request

from dialogs.gsm import USSD_MAX_SEPTETS, septets
from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render import renderer_for
from gateway.providers.base import refuse
from gateway.security.addresses import NotAPhoneNumberError, phone_number
from gateway.settings import Settings, secret

IPNetwork = IPv4Network | IPv6Network


class Access(StrEnum):
    """Who may call an adapter, as the gateway says at start for each."""

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


# ----------------------------------------------------------------------- bodies
async def json_body(request: Request, expected: str) -> Any:
    """The request's JSON; 400 naming what was `expected` when it is not JSON. orjson
    refuses nesting past 1024 levels with an error (the standard library's parser raised
    RecursionError, a 500)."""
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise refuse(400, f"expected {expected} as JSON") from exc


# ----------------------------------------------------------------------- USSD
def ussd_screen(replies: list[Reply]) -> tuple[str, bool]:
    """One USSD screen from the replies: their text, and whether the session ends."""
    rendered = [renderer_for(Medium.USSD).render(reply).text for reply in replies]
    text = "\n".join(rendered)
    if septets(text) > USSD_MAX_SEPTETS and rendered:
        text = rendered[-1]  # each reply fits on its own; keep the newest
    return text, any(reply.end for reply in replies) or not replies
