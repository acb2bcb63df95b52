"""Sending what a submission owes: the citizen's message, the back office's webhook.

A notification row is sent by the worker's `notify` job. The citizen's message is written
from the stored submission (its reference, its document link) and goes through the
channel's sender; a document is rendered and stored before its link goes out. The back
office's webhook is a signed JSON POST:

    X-Gateway-Event: submitted | approved | rejected
    X-Gateway-Delivery: <notification id>      (the same id on every retry: deduplicate)
    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

The timestamp is signed with the body so a captured call cannot be replayed later.

Before a citizen's message goes, its number is checked: one that opted out (in Redis or
the database) gets nothing, and the message is held until it sends START; the parts are
counted against the outbound budgets, and a message over a budget waits for a later try.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import Executor
from dataclasses import dataclass

import httpx2 as httpx

from dialogs.gsm import sms_size
from dialogs.messages import reply_data
from dialogs.render import renderer_for
from gateway.delivery.outgoing import Outgoing, SendContext, SendError
from gateway.documents import DocumentStore
from gateway.documents.issuing import document_bytes, verify_url
from gateway.providers import SENDERS
from gateway.security.budget import OutboundBudget
from gateway.settings import Settings, secret
from gateway.submissions.service import link_for, message_for, submission_data
from state.consent import ConsentStore
from state.store import SessionStore
from state.submissions import PLACEHOLDER, NotificationRow, SubmissionRow, SubmissionStore

SIGNATURE_HEADER = "X-Gateway-Signature"
RETRYABLE = frozenset({408, 425, 429})
BUDGET_WAIT_SECONDS = 300.0  # a message over a budget is tried again this much later


class OptedOutError(Exception):
    """The number opted out: the message waits until it sends START."""


@dataclass(frozen=True, slots=True)
class Recipients:
    """Whether a number may be sent a message now: its opt-out (kept in the session
    store's Redis and in the database: either is enough) and the outbound budgets."""

    consents: ConsentStore
    store: SessionStore | None = None
    budget: OutboundBudget | None = None

    async def opted_out(self, address: str) -> bool:
        if self.store is not None and await self.store.opted_out(address):
            return True
        return await self.consents.opted_out(address)


@dataclass(frozen=True, slots=True)
class NotifyContext:
    """What the `notify` job needs, made once per worker."""

    send: SendContext
    submissions: SubmissionStore
    documents: DocumentStore
    renderer: Executor | None = None  # where PDFs are drawn (a process pool in the worker)
    recipients: Recipients | None = None


def webhook_signature(key: str, timestamp: str, body: bytes) -> str:
    """The `X-Gateway-Signature` of a webhook call (for back offices and tests)."""
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def webhook_body(
    notification: NotificationRow, row: SubmissionRow, settings: Settings, token: str | None
) -> bytes:
    submission = submission_data(row)
    submission["document_url"] = link_for(settings, token) if token else None
    submission["verify_url"] = verify_url(settings, row.reference, row.check_code)
    event = {"event": notification.event, "delivery": notification.id, "submission": submission}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


async def send_notification(notification: NotificationRow, context: NotifyContext) -> None:
    """Send one notification; `SendError` says whether trying again can help."""
    row = await context.submissions.by_id(notification.submission_id)
    if row is None:
        raise SendError(f"submission {notification.submission_id} is gone", retry=False)
    if row.reference.startswith(PLACEHOLDER):  # stored by a process that died at once
        row.reference = await context.submissions.number(row.id)
    if notification.kind == "webhook":
        token = await context.submissions.token_for(row.id)
        await _post_webhook(notification, row, context.send, token)
    else:
        await _message(notification, row, context)


async def _message(
    notification: NotificationRow, row: SubmissionRow, context: NotifyContext
) -> None:
    sender = SENDERS.get(notification.channel)  # the row's `channel` names the sender
    if sender is None:
        raise SendError(f"no sender named {notification.channel!r}", retry=False)
    reply = message_for(row, notification.payload, context.send.settings)
    recipients = context.recipients
    if recipients is not None and notification.address.startswith("+"):
        if await recipients.opted_out(notification.address):
            await context.submissions.hold(notification.id)
            raise OptedOutError(notification.address)
        parts = sms_size(renderer_for(sender.medium).render(reply).text).segments
        budget = recipients.budget
        if budget is not None and not await budget.spend(notification.address, parts):
            raise SendError("outbound budget spent", retry=True, after=BUDGET_WAIT_SECONDS)
    outgoing = Outgoing(
        sender=sender.name,
        address=notification.address,
        replies=[reply_data(reply)],
        key=f"notification:{notification.id}",
    )
    await sender.send(outgoing, context.send)


async def prepare_document(notification: NotificationRow, context: NotifyContext) -> None:
    """Render and store the document a message links to, after the link went out: the
    citizen never waits for a PDF to be drawn, and the first click finds it ready (until
    then `GET /d/{token}` draws it itself)."""
    if not notification.payload.get("token"):
        return
    row = await context.submissions.by_id(notification.submission_id)
    document = await context.submissions.live_document(notification.submission_id)
    if row is not None and document is not None:
        await document_bytes(
            context.documents, context.send.settings, row, document, context.renderer
        )


async def _post_webhook(
    notification: NotificationRow, row: SubmissionRow, context: SendContext, token: str | None
) -> None:
    settings = context.settings
    body = webhook_body(notification, row, settings, token)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Gateway-Event": notification.event,
        "X-Gateway-Delivery": str(notification.id),
        "X-Gateway-Timestamp": timestamp,
    }
    key = secret(settings.backoffice_webhook_secret)
    if key:
        headers[SIGNATURE_HEADER] = webhook_signature(key, timestamp, body)
    try:
        response = await context.http.post(notification.address, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise SendError(f"back office unreachable: {type(exc).__name__}") from None
    status = response.status_code
    if 200 <= status < 300:
        return
    retry = status >= 500 or status in RETRYABLE
    raise SendError(f"back office answered HTTP {status}", retry=retry)
