"""What the Twilio adapters share: the signature check, form parsing and TwiML replies.

Twilio signs every webhook: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, the URL
Twilio called + each POST parameter's name and value, sorted by name)). That URL is the
PUBLIC one (`GATEWAY_PUBLIC_URL` + the path and query string), never the URL a proxy in
front of the gateway shows us. Every parameter received is signed over, including the
ones Twilio adds without notice.

Unsigned Twilio webhooks are never accepted: when `GATEWAY_TWILIO_AUTH_TOKEN` is unset,
every Twilio request is refused with 403. Requests carrying
`X-Twilio-Webhooks-Signature-Settings` (signed with a Webhooks SharedKey instead of the auth
token) are refused too until a shared-key secret is configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import Request, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

# The twilio package ships no type information (no py.typed marker).
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped]

from dialogs.media import Medium
from dialogs.messages import Reply
from dialogs.render import renderer_for
from gateway.delivery.outgoing import chunks as split_text
from gateway.providers.base import refuse
from gateway.providers.common import Access
from gateway.security.addresses import NotAPhoneNumberError, phone_number
from gateway.settings import Settings, secret

MAX_BODY = 1600  # Twilio refuses longer message bodies (SMS and WhatsApp)
FORM = "application/x-www-form-urlencoded"
# Twilio signs no time: a captured request replayed later is recognised by its
# MessageSid, remembered this long (Twilio's own retries come within minutes).
REMEMBER_SECONDS = 8 * 24 * 3600
SID = re.compile(r"^[A-Za-z0-9]{2,64}$")  # SM + 32 hex digits today
SIGNATURE_HEADER = "X-Twilio-Signature"
# Present when a Webhooks Rule has Twilio sign with a SharedKey instead of the auth token.
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def access(settings: Settings) -> Access:
    return Access.AUTHENTICATED if secret(settings.twilio_auth_token) else Access.CLOSED


def public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio called: the configured public base, the path, the query string."""
    url = settings.public_url.rstrip("/") + request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{url}?{query}" if query else url


def signature_valid(
    token: str, url: str, params: FormData | dict[str, str], signature: str
) -> bool:
    """Whether `signature` is Twilio's for this URL and these parameters (every value of
    a repeated parameter counts). The twilio library also tries the URL with and without
    the default port, as Twilio signs either way."""
    valid: bool = RequestValidator(token).validate(url, params, signature)
    return valid


def compute_signature(token: str, url: str, params: dict[str, str]) -> str:
    """The signature Twilio sends for `url` and `params` (for tests and tools)."""
    computed: str = RequestValidator(token).compute_signature(url, params)
    return computed


async def signed_form(request: Request, settings: Settings) -> FormData:
    """The webhook's form parameters, once its signature is known to be Twilio's.

    403 when no auth token is configured, the signature is missing or wrong; 415/400 when
    the body is not a form. Nothing else about the request is looked at before this.
    """
    token = secret(settings.twilio_auth_token)
    if not token:
        raise refuse(403, "Twilio webhooks are refused: no auth token is configured")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise refuse(403, f"missing {SIGNATURE_HEADER}")
    if request.headers.get(SIGNATURE_SETTINGS_HEADER):
        raise refuse(403, "signed with a Webhooks shared key, which is not configured")
    if FORM not in request.headers.get("content-type", ""):
        raise refuse(415, f"expected {FORM}")
    try:
        form = await request.form()
    except HTTPException:
        raise  # 413: the body passed the size limit while it was read
    except Exception as exc:  # python-multipart raises several types on junk
        raise refuse(400, "the form body could not be read") from exc
    if any(not isinstance(value, str) for _, value in form.multi_items()):
        raise refuse(400, "the form body holds files")
    if not signature_valid(token, public_url(request, settings), form, signature):
        raise refuse(403, f"wrong {SIGNATURE_HEADER}")
    return form


def fields(form: FormData, required: tuple[str, ...]) -> dict[str, str]:
    """The (signed) parameters as strings; 400 naming the required ones missing or empty."""
    values = {key: str(value) for key, value in form.items()}
    missing = [name for name in required if not values.get(name, "").strip()]
    if missing:
        raise refuse(400, "missing form fields: " + ", ".join(missing))
    return values


def message_sid(values: dict[str, str]) -> str:
    sid = values["MessageSid"].strip()
    if not SID.match(sid):
        raise refuse(400, "MessageSid is not a Twilio message SID")
    return sid


def phone(address: str, prefix: str = "") -> str:
    """The E.164 number of a Twilio address (`+975...`, or `whatsapp:+975...`); 400 else."""
    if not address.startswith(prefix):
        raise refuse(400, f"expected a {prefix}+E.164 address")
    number = address[len(prefix) :].strip()
    if not number.startswith("+"):
        raise refuse(400, "the address is not an E.164 phone number")
    try:
        return phone_number(number).e164
    except NotAPhoneNumberError as exc:
        raise refuse(400, "the address is not an E.164 phone number") from exc


def chunks(text: str, limit: int = MAX_BODY) -> Iterator[str]:
    """`text` in pieces this provider accepts (see gateway.delivery.outgoing.chunks)."""
    return split_text(text, limit)


def twiml(replies: list[Reply], medium: Medium) -> Response:
    """TwiML with one <Message> per reply, rendered for `medium`; `<Response/>` when none."""
    response = MessagingResponse()
    renderer = renderer_for(medium)
    for reply in replies:
        rendered = renderer.render(reply)
        text = rendered.text
        if rendered.link and rendered.link not in text:
            text = f"{text}\n{rendered.link}"  # a text message shows the link as text
        for part in chunks(text):
            response.message(part)
    return Response(str(response.to_xml()), media_type="text/xml")
