"""Sends replies through Meta's WhatsApp Cloud API (`whatsapp/meta`).

Each reply becomes `POST {meta_api_url}/{phone_number_id}/messages` with
`Authorization: Bearer {meta_access_token}`:
- reply buttons (<= 3 options) or a list (<= 10 rows), as `gateway.providers.meta.interactive`
  draws them, otherwise the WhatsApp renderer's numbered text (`text{body}`, cut into
  pieces of <= 4096);
- when the reply has a link (a certificate), the link is also written in the text (it still
  works should Meta fail to fetch the file) and a `document{link, filename, caption}`
  message follows.

429 and 5xx answers, Meta's throttling error codes and network failures are worth a retry
(`SendError(retry=True)`); other 4xx answers are not (bad number, expired token...).
The replies of one `Outgoing` are sent in order; a retry starts again from the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx

from dialogs.media import Medium
from dialogs.render import renderer_for
from gateway.delivery.outgoing import (
    Outgoing,
    SendContext,
    Sender,
    SendError,
    retry_after,
    send_in_order,
)
from gateway.providers.common import chunks as split_text
from gateway.providers.common import with_link
from gateway.providers.meta.interactive import interactive
from gateway.settings import Settings, secret

MAX_TEXT = 4096
MAX_CAPTION = 1024
# Graph API error codes that mean "too many, slow down" even when the HTTP status is 400.
THROTTLED = frozenset({4, 80007, 130429, 131048, 131056})


def chunks(text: str, limit: int = MAX_TEXT) -> Iterator[str]:
    """`text` in pieces this provider accepts (see gateway.providers.common.chunks)."""
    return split_text(text, limit)


def filename(link: str) -> str:
    """The document's name as WhatsApp shows it: the link's last path segment."""
    name = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1] or "document"
    return name if "." in name else f"{name}.pdf"  # the gateway issues PDF certificates


def payloads(outgoing: Outgoing) -> Iterator[dict[str, Any]]:
    """The Cloud API message bodies for an `Outgoing`, in sending order."""
    to = outgoing.address.removeprefix("+")  # the wa_id: the number without "+"
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    renderer = renderer_for(Medium.WHATSAPP)
    for reply in outgoing.decoded():
        rendered = renderer.render(reply)
        drawn = interactive(reply)
        if drawn is not None:
            yield {**base, "type": "interactive", "interactive": drawn}
        else:
            for part in chunks(with_link(rendered)):
                yield {**base, "type": "text", "text": {"body": part}}
        if rendered.link:
            caption = rendered.text.split("\n", 1)[0][:MAX_CAPTION]
            document = {"link": rendered.link, "filename": filename(rendered.link)}
            if caption:
                document["caption"] = caption
            yield {**base, "type": "document", "document": document}


async def send_whatsapp_meta(outgoing: Outgoing, context: SendContext) -> None:
    """Posts every message of `outgoing`; `SendError` on the first failure."""
    settings = context.settings
    token = secret(settings.meta_access_token)
    if not token:
        raise SendError("GATEWAY_META_ACCESS_TOKEN is not set", retry=False)
    number = settings.meta_phone_number_id or str(outgoing.context.get("phone_number_id", ""))
    if not number:
        raise SendError("GATEWAY_META_PHONE_NUMBER_ID is not set", retry=False)
    url = f"{settings.meta_api_url.rstrip('/')}/{number}/messages"
    headers = {"Authorization": f"Bearer {token}"}

    async def send(payload: dict[str, Any]) -> None:
        try:
            response = await context.http.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"WhatsApp Cloud API unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            return
        code, detail = _error(response)
        retry = response.status_code == 429 or response.status_code >= 500 or code in THROTTLED
        raise SendError(
            f"WhatsApp Cloud API answered {response.status_code} (code {code}): {detail}",
            retry=retry,
            after=retry_after(response.headers),
        )

    await send_in_order(payloads(outgoing), context, send)


def _error(response: httpx.Response) -> tuple[int | None, str]:
    """Meta's error code and message from an error answer (`{"error": {...}}`)."""
    try:
        error = response.json().get("error", {})
        code = error.get("code")
        return (code if isinstance(code, int) else None), str(error.get("message", ""))[:200]
    except (ValueError, AttributeError):
        return None, response.text[:200]


def ready(settings: Settings) -> bool:
    return bool(secret(settings.meta_access_token) and settings.meta_phone_number_id)


WHATSAPP = Sender("whatsapp/meta", Medium.WHATSAPP, send_whatsapp_meta, ready)
