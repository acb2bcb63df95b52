"""Public document pages: `GET /d/{token}` (the PDF) and `GET /verify/{reference}`.

A link works until it expires or is revoked (then 410 with a page saying so); an unknown
token is a 404. The verification page, where a document's QR code points, needs the
reference AND the document's check code (printed on it, carried by its QR code): then it
says whether the document is valid, with the holder's name partly masked. A reference
alone, or a wrong code, shows a form asking for the code and tells nothing, not even
whether the reference exists: references are sequential and must not be walked.
Both are rate-limited per client address (`gateway.security.limiter`): tokens are 128
bits and codes 50, but nobody gets to try.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.api.deps import DocumentStoreDep, RateLimitDep, SubmissionStoreDep
from gateway.api.errors import html_answer
from gateway.documents.issuing import CONTENT_TYPE, document_bytes, filename
from gateway.security.limiter import RateLimit
from gateway.settings import Settings
from state.submissions import normal_check_code, utcnow

logger = logging.getLogger(__name__)

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "templates"),
    autoescape=select_autoescape(["html"]),
)
TOKEN = PathParam(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
REFERENCE = PathParam(min_length=6, max_length=32, pattern=r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{6}$")
VALID = frozenset({"issued", "approved"})
CODE = Query(max_length=20, description="The check code printed on the document.")


def _style_hash() -> str:
    """The CSP hash of the page template's one inline style: no other style runs."""
    source = (Path(__file__).parents[1] / "templates" / "page.html").read_text("utf-8")
    style = re.search(r"<style>(.*?)</style>", source, re.DOTALL)
    digest = hashlib.sha256(style.group(1).encode() if style else b"").digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


PAGE_CSP = (
    f"default-src 'none'; style-src {_style_hash()}; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def mask_name(name: str) -> str:
    """'Pema Wangmo' -> 'P*** W*****': enough to recognise, not to harvest."""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in name.split())


def page(status: int, heading: str, message: str, tone: str = "", **extra: Any) -> HTMLResponse:
    html = _pages.get_template("page.html").render(
        lang="en",
        heading=heading,
        message=message,
        tone=tone,
        facts=extra.get("facts", []),
        ask_code=extra.get("ask_code"),
    )
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP}
    headers.update(extra.get("headers", {}))
    return HTMLResponse(html, status_code=status, headers=headers)


async def limited(request: Request, limiter: RateLimit, scope: str) -> HTMLResponse | None:
    """None when the client may see the page; else the page asking it to wait."""
    wait = await limiter.allows(scope, request.client.host if request.client else "unknown")
    if not wait:
        return None
    message = "Please wait a minute and try again."
    return page(429, "Too many requests", message, "bad", headers={"Retry-After": str(wait)})


def documents_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["documents"])

    @router.get(
        "/d/{token}",
        response_class=Response,
        name="document",
        responses={
            200: {"description": "The document.", "content": {CONTENT_TYPE: {}}},
            404: html_answer(404, "A page saying the link is not valid."),
            410: html_answer(410, "A page saying the document was revoked or the link expired."),
            429: html_answer(429, "A page asking to wait: too many requests from this client."),
        },
    )
    async def document(
        request: Request,
        limiter: RateLimitDep,
        submissions: SubmissionStoreDep,
        store: DocumentStoreDep,
        token: str = TOKEN,
    ) -> Response:
        """A citizen's document (PDF) behind its short link."""
        if refused := await limited(request, limiter, "d"):
            return refused
        found = await submissions.document(token)
        if found is None:
            return page(404, "Document not found", "This link is not valid.", "bad")
        row, submission = found
        if row.revoked_at is not None:
            said = f" Reason: {row.revoked_reason}" if row.revoked_reason else ""
            return page(410, "Document revoked", f"This document has been revoked.{said}", "bad")
        if row.expires_at <= utcnow():
            message = f"This link has expired. Document {submission.reference} is not affected."
            return page(410, "Link expired", message, "bad")
        data = await document_bytes(store, settings, submission, row)
        return Response(
            data,
            media_type=CONTENT_TYPE,
            headers={
                "Content-Disposition": f'inline; filename="{filename(submission, row)}"',
                "Cache-Control": "private, no-store",
                "X-Robots-Tag": "noindex",
            },
        )

    @router.get(
        "/verify/{reference}",
        response_class=HTMLResponse,
        name="verify",
        responses={
            404: html_answer(404, "A page saying no document matches: a wrong check code."),
            429: html_answer(429, "A page asking to wait: too many requests from this client."),
        },
    )
    async def verify(
        request: Request,
        limiter: RateLimitDep,
        submissions: SubmissionStoreDep,
        reference: str = REFERENCE,
        code: Annotated[str, CODE] = "",
    ) -> HTMLResponse:
        """Public check of a document: its reference and its check code (from the QR
        code); without a right code, a form asking for it, and nothing else."""
        if refused := await limited(request, limiter, "verify"):
            return refused
        submission = await submissions.by_reference(reference) if code else None
        expected = (submission.check_code or "") if submission else ""
        given = normal_check_code(code)
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            # The same answer for an unknown reference and a wrong code.
            message = (
                "Enter the check code printed on the document, or scan its QR code."
                if not code
                else "No document matches this reference and check code."
            )
            return page(
                200 if not code else 404,
                "Check a document",
                message,
                "" if not code else "bad",
                ask_code=reference,
            )
        documents = await submissions.documents_of(submission.id) if submission else []
        if submission is None or not documents:
            return page(404, "Check a document", "No document matches this reference.", "bad")
        template = submission.document or {}
        facts = [
            ("Document", str(template.get("title", ""))),
            ("Issued by", str(template.get("issuer", ""))),
            ("Holder", mask_name(str(template.get("holder", "")))),
            ("Reference", submission.reference),
            ("Issued on", documents[-1].created_at.date().isoformat()),
        ]
        live = [d for d in documents if d.revoked_at is None]
        if submission.status in VALID and live:
            return page(200, "Valid document", "This document is valid.", "ok", facts=facts)
        revoked = [d for d in documents if d.revoked_at is not None]
        if revoked and revoked[-1].revoked_at is not None:
            facts.append(("Revoked on", revoked[-1].revoked_at.date().isoformat()))
            if revoked[-1].revoked_reason:
                facts.append(("Reason", revoked[-1].revoked_reason))
        return page(
            200, "Revoked document", "This document is no longer valid.", "bad", facts=facts
        )

    return router
