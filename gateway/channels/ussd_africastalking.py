"""USSD through Africa's Talking: form callbacks, `CON ...` / `END ...` text replies.

`text` holds every answer of the session joined by "*"; the conversation service keeps
the previous text to find the newest answer. Africa's Talking signs nothing, so the
endpoint takes a secret `?token=` (`GATEWAY_USSD_TOKEN`) and an optional IP allow-list.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from typing import ClassVar

from fastapi import Request, Response

from dialogs.gsm import USSD_MAX_SEPTETS, septets
from dialogs.messages import Reply
from dialogs.render import renderer_for
from gateway.channels.base import Received, form_fields, refuse
from gateway.conversations import Message
from gateway.settings import Settings, secret

IPNetwork = IPv4Network | IPv6Network
FIELDS = ("sessionId", "phoneNumber", "serviceCode", "text")


def check_access(request: Request, settings: Settings) -> None:
    """403 unless the caller presents the USSD token and comes from an allowed address."""
    token = secret(settings.ussd_token)
    if token is not None:  # the query string is parsed only when there is a token to find
        given = request.query_params.get("token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise refuse(403, "wrong or missing token")
    if settings.ussd_allowed_ips:
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError as exc:
            raise refuse(403, "caller address not allowed") from exc
        if not any(address in network for network in networks(tuple(settings.ussd_allowed_ips))):
            raise refuse(403, "caller address not allowed")


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


def ussd_screen(replies: list[Reply]) -> tuple[str, bool]:
    """One USSD screen from the replies: their text, and whether the session ends."""
    rendered = [renderer_for("ussd").render(reply).text for reply in replies]
    text = "\n".join(rendered)
    if septets(text) > USSD_MAX_SEPTETS and rendered:
        text = rendered[-1]  # each reply fits on its own; keep the newest
    return text, any(reply.end for reply in replies) or not replies


class AfricasTalkingUssd:
    name: ClassVar[str] = "ussd/africastalking"
    path: ClassVar[str] = "/ussd/africastalking"

    async def receive(self, request: Request, settings: Settings) -> Received:
        check_access(request, settings)
        fields = await form_fields(request, FIELDS)
        session, text = fields["sessionId"], fields["text"]
        if not fields["phoneNumber"] or not session:
            raise refuse(400, "phoneNumber and sessionId must not be empty")
        code = fields["serviceCode"]
        message = Message(
            citizen=fields["phoneNumber"],
            channel="ussd",
            text=text[:2000],
            message_id=f"at:{session}:{len(text)}:{text[-200:]}",
            session=session,
            service=settings.ussd_codes.get(code),
            accumulated=True,
        )
        return Received(message)

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        text, end = ussd_screen(replies)
        return Response(("END " if end else "CON ") + text, media_type="text/plain")


class AfricasTalkingUssdEvents:
    """The end-of-session notification: acknowledged (nothing to answer)."""

    name: ClassVar[str] = "ussd/africastalking/events"
    path: ClassVar[str] = "/ussd/africastalking/events"

    async def receive(self, request: Request, settings: Settings) -> Received:
        check_access(request, settings)
        fields = await form_fields(request, ("sessionId", "phoneNumber", "status"))
        return Received(None, {"status": fields["status"], "session": fields["sessionId"]})

    def respond(self, received: Received, replies: list[Reply]) -> Response:
        return Response("OK", media_type="text/plain")
