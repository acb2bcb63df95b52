"""Public document pages: `GET /d/{token}` (the PDF) and `GET /verify/{reference}`.

A link works until it expires or is revoked (then 410 with a page saying so); an unknown
token is a 404. The verification page, where a document's QR code points, says whether
a document with that reference is valid, showing the holder's name partly masked.
Both are rate-limited per client address: tokens are 128 bits, but nobody gets to try.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from redis.exceptions import RedisError

from gateway.documents import DocumentStore
from gateway.issuing import CONTENT_TYPE, document_bytes, filename
from gateway.settings import Settings
from state.submissions import SubmissionStore, utcnow

logger = logging.getLogger(__name__)

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
TOKEN = PathParam(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
REFERENCE = PathParam(min_length=6, max_length=32, pattern=r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{6}$")
VALID = frozenset({"issued", "approved"})


def mask_name(name: str) -> str:
    """'Pema Wangmo' -> 'P*** W*****': enough to recognise, not to harvest."""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in name.split())


def page(status: int, heading: str, message: str, tone: str = "", **extra: Any) -> HTMLResponse:
    html = _pages.get_template("page.html").render(
        lang="en", heading=heading, message=message, tone=tone, facts=extra.get("facts", [])
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


class RateLimit:
    """At most `limit` requests a minute per client address and route, counted in Redis
    (shared by every worker). A Redis outage lets requests through: pages stay up."""

    def __init__(self, redis: Any, limit: int) -> None:
        self.redis = redis
        self.limit = limit

    async def allows(self, scope: str, client: str) -> bool:
        key = f"gw:rate:{scope}:{client}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 60, nx=True)
                count, _ = await pipe.execute()
        except (RedisError, OSError):
            logger.warning("rate limit unavailable; request allowed")
            return True
        return int(count) <= self.limit


def documents_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["documents"])

    def limited(request: Request, scope: str) -> Any:
        limiter: RateLimit = request.app.state.rate_limit
        return limiter.allows(scope, request.client.host if request.client else "unknown")

    @router.get("/d/{token}", response_class=Response, name="document")
    async def document(request: Request, token: str = TOKEN) -> Response:
        """A citizen's document (PDF) behind its short link."""
        if not await limited(request, "d"):
            return page(429, "Too many requests", "Please wait a minute and try again.", "bad")
        submissions: SubmissionStore = request.app.state.submission_store
        found = await submissions.document(token)
        if found is None:
            return page(404, "Document not found", "This link is not valid.", "bad")
        row, submission = found
        if row.revoked_at is not None:
            return page(410, "Document revoked", "This document has been revoked.", "bad")
        if row.expires_at <= utcnow():
            message = f"This link has expired. Document {submission.reference} is not affected."
            return page(410, "Link expired", message, "bad")
        store: DocumentStore = request.app.state.documents
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

    @router.get("/verify/{reference}", response_class=HTMLResponse, name="verify")
    async def verify(request: Request, reference: str = REFERENCE) -> HTMLResponse:
        """Public check of a document: valid, revoked or unknown."""
        if not await limited(request, "verify"):
            return page(429, "Too many requests", "Please wait a minute and try again.", "bad")
        submissions: SubmissionStore = request.app.state.submission_store
        submission = await submissions.by_reference(reference)
        documents = await submissions.documents_of(submission.id) if submission else []
        if submission is None or not documents:
            return page(404, "Unknown reference", f"No document was issued as {reference}.", "bad")
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
        return page(
            200, "Revoked document", "This document is no longer valid.", "bad", facts=facts
        )

    return router
