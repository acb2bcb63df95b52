"""Submit effects and back-office decisions: stored once, then what they owe is sent.

The conversation's submit effect lands here. One database transaction stores the
application with its reference, its document link token (instant services) and the
notifications it owes: the link by SMS when the citizen was on USSD (a USSD screen cannot
show a link usefully; every other channel gets it in the final reply), and the back
office's webhook. After the commit the notifications are queued; a relay queues again
whatever is still pending a little later, so a process killed in between loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.expressions import Template, compile_template
from dialogs.messages import (
    Application,
    Reply,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
)
from dialogs.text import localise
from gateway.conversations import Applicant
from gateway.metrics import count_error, count_submission
from gateway.settings import Settings
from state.submissions import NewSubmission, Owed, Stored, SubmissionRow, SubmissionStore, new_token

logger = logging.getLogger(__name__)

Dispatch = Callable[[Sequence[int]], Awaitable[object]]


@lru_cache(maxsize=64)
def _template(source: str) -> Template:
    return compile_template(source)


def builtin(key: str, lang: str, **values: Any) -> str:
    """A built-in text in `lang`, filled with `values`."""
    return _template(localise(BUILTIN_TEXTS[key], lang)).render(values)


def message_for(row: SubmissionRow, payload: dict[str, Any], settings: Settings) -> Reply:
    """The citizen's message of a notification, written from the stored submission."""
    title = str((row.document or {}).get("title", ""))
    values = {"reference": row.reference, "title": title, **payload.get("values", {})}
    token = payload.get("token")
    link = link_for(settings, token) if token else None
    return Reply(builtin(payload["text"], row.lang, **values), link=link)


def submission_data(row: SubmissionRow) -> dict[str, Any]:
    """A submission as the back office sees it (admin API and webhook), times in UTC."""
    return {
        "reference": row.reference,
        "service": row.service,
        "version": row.version,
        "mode": row.mode,
        "status": row.status,
        "citizen": row.citizen,
        "channel": row.channel,
        "lang": row.lang,
        "answers": row.answers,
        "reason": row.reason,
        "created_at": row.created_at.isoformat() + "Z",
        "decided_at": row.decided_at.isoformat() + "Z" if row.decided_at else None,
    }


def link_for(settings: Settings, token: str) -> str:
    """The citizen's short link: `https://gw.gov.bt/d/<22 characters>`."""
    return f"{settings.link_base.rstrip('/')}/d/{token}"


class Submissions:
    """The submission store behind the conversation's submit effect and the back office."""

    def __init__(self, store: SubmissionStore, settings: Settings, dispatch: Dispatch) -> None:
        self.store = store
        self.settings = settings
        self.dispatch = dispatch
        self._pending: set[asyncio.Task[None]] = set()

    async def submit(self, effect: Submission, applicant: Applicant) -> SubmissionResult:
        """The submit effect: stored once per idempotency key. A database outage is a
        failed submission: the citizen is asked to try again, the answers are kept."""
        document = dict(effect.document) if effect.document is not None else None
        token = new_token() if effect.mode == "instant" and document is not None else None
        new = NewSubmission(
            idempotency_key=effect.idempotency_key,
            service=effect.service,
            version=effect.version,
            mode=effect.mode,
            reference_prefix=effect.reference_prefix,
            citizen=applicant.citizen,
            channel=applicant.channel,
            lang=applicant.lang,
            answers=dict(effect.answers),
            document=document,
        )
        try:
            stored = await self.store.submit(new, self._owed_on_submit(new, token), token=token)
        except (SQLAlchemyError, OSError) as exc:
            count_error("database_unavailable")
            count_submission(effect.service, "failed")
            logger.warning("submission not stored (%s): %s", type(exc).__name__, exc)
            return SubmissionResult(ok=False)
        if stored.created:  # a retried final answer finds the first one: counted once
            count_submission(stored.submission.service, stored.submission.status)
        self._queue_soon(stored)
        return SubmissionResult(
            ok=True,
            reference=stored.submission.reference,
            status=stored.submission.status,
            link=link_for(self.settings, stored.token) if stored.token else None,
        )

    async def status(self, request: StatusRequest, applicant: Applicant) -> StatusResult:
        """The citizen's recent applications, newest first (the STATUS keyword, the menu)."""
        try:
            rows = await self.store.listing(citizen=applicant.citizen, limit=request.limit)
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("status not available (%s): %s", type(exc).__name__, exc)
            return StatusResult(ok=False)
        return StatusResult(
            ok=True,
            applications=tuple(Application(r.reference, r.service, r.status) for r in rows),
        )

    async def decide(self, reference: str, *, approve: bool, reason: str | None) -> Stored | None:
        """An officer's decision; the citizen is told on the channel they used."""
        row = await self.store.by_reference(reference)
        if row is None:
            return None
        token = new_token() if approve and row.document is not None else None
        owed = self._owed_on_decision(row, approve, reason, token)
        stored = await self.store.decide(
            reference, approve=approve, reason=reason, owed=owed, token=token
        )
        if stored is not None:
            if stored.created:  # decided already: the first decision was counted
                count_submission(stored.submission.service, stored.submission.status)
            await self._queue(stored)
        return stored

    @property
    def queueing(self) -> int:
        """How many submissions' notifications are being queued right now."""
        return len(self._pending)

    def _queue_soon(self, stored: Stored) -> None:
        """Queue the notifications after the reply: the citizen's answer never waits for
        the queue (under load an arq enqueue took 250 ms), and if this process dies first
        the relay queues them."""
        task = asyncio.create_task(self._queue(stored))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _queue(self, stored: Stored) -> None:
        if not stored.created or not stored.notifications:
            return
        try:
            await self.dispatch(stored.notifications)
        except Exception:  # stored as pending: the relay queues them later
            logger.warning("notifications %s left to the relay", stored.notifications)

    # ------------------------------------------------------------------ what is owed
    def _owed_on_submit(self, new: NewSubmission, token: str | None) -> list[Owed]:
        owed = self._webhook()
        if token is not None and new.channel == "ussd":
            owed[:0] = self._message(new.citizen, new.channel, "document_ready", {}, token)
        return owed

    def _owed_on_decision(
        self, row: SubmissionRow, approve: bool, reason: str | None, token: str | None
    ) -> list[Owed]:
        if approve:
            key, values = ("approved_document" if token else "approved"), {}
        else:
            key, values = "rejected", {"reason": reason or ""}
        return self._message(row.citizen, row.channel, key, values, token) + self._webhook()

    def _message(
        self, citizen: str, channel: str, text: str, values: dict[str, str], token: str | None
    ) -> list[Owed]:
        """A message to the citizen through the sender of the channel they used (SMS for
        USSD); none where nothing can be pushed (the web chat). Its text is written when
        it is sent, from the stored submission (the reference does not exist yet here)."""
        sender = self.settings.senders.get(channel)
        if not sender:
            return []
        payload = {"text": text, "values": values, "token": token}
        return [Owed("message", sender, citizen, payload)]

    def _webhook(self) -> list[Owed]:
        url = self.settings.backoffice_webhook_url
        return [Owed("webhook", "webhook", url, {})] if url else []
