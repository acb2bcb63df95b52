"""Twilio's webhook signature, checked before anything of a request is read.

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

from collections.abc import Mapping

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

# The twilio package ships no type information (no py.typed marker).
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from gateway.providers.common import Access, refuse
from gateway.settings import Settings, secret

FORM = "application/x-www-form-urlencoded"
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
    token: str, url: str, params: FormData | Mapping[str, str], signature: str
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


async def signed_form(request: Request, settings: Settings) -> dict[str, str]:
    """The webhook's form parameters (a repeated one: its last value), once the signature
    over all of them is known to be Twilio's.

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
    return {key: str(value) for key, value in form.items()}
