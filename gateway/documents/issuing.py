"""A submission's document as PDF bytes: made once, kept in the document store.

Made by the worker before it sends a citizen's link, and by `GET /d/{token}` if someone
follows the link first (or the worker was killed while making it): whoever comes first
renders and stores it, later calls read it back.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from functools import partial
from zoneinfo import ZoneInfo

from gateway.documents import DocumentStore, render_certificate
from gateway.settings import Settings
from state.submissions import DocumentRow, SubmissionRow

CONTENT_TYPE = "application/pdf"


def verify_url(settings: Settings, reference: str, check_code: str | None) -> str:
    """The public page that tells whether a document is valid (its QR code points here),
    with the document's check code: the reference alone shows nothing."""
    url = f"{settings.link_base.rstrip('/')}/verify/{reference}"
    return f"{url}?code={check_code}" if check_code else url


def document_key(submission: SubmissionRow, document: DocumentRow) -> str:
    return f"{submission.service}/{submission.reference}/{document.kind}-{document.id}.pdf"


def filename(submission: SubmissionRow, document: DocumentRow) -> str:
    return f"{submission.reference}-{document.kind}.pdf"


async def document_bytes(
    store: DocumentStore,
    settings: Settings,
    submission: SubmissionRow,
    document: DocumentRow,
    renderer: Executor | None = None,
) -> bytes:
    """The stored PDF, rendered (in `renderer`, default a thread) and stored first if it
    is not there yet."""
    key = document_key(submission, document)
    data = await store.get(key)
    if data is not None:
        return data
    if submission.document is None:
        raise ValueError(f"{submission.reference} has no document template")
    draw = partial(
        render_certificate,
        submission.document,
        reference=submission.reference,
        issued_at=document.created_at,
        verify_url=verify_url(settings, submission.reference, submission.check_code),
        kind=document.kind,
        timezone=ZoneInfo(settings.timezone),  # the date printed is the country's
    )
    data = await asyncio.get_running_loop().run_in_executor(renderer, draw)
    await store.put(key, data, CONTENT_TYPE)
    return data
