"""Submit effects and back-office decisions: stored once, then what they owe is sent.

The conversation's submit effect lands here. One database transaction stores the
application with its reference, its document link token (instant services) and the
notifications it owes: the link by SMS when the citizen was on USSD (a USSD screen cannot
show a link usefully) or proved a number on the web chat or Telegram (that number gets
its links), and the back office's webhook. After the commit the notifications are
queued; a relay queues again whatever is still pending a little later, so a process
killed in between loses nothing. A number that opted out is sent nothing: its message is
held until it sends START.

Repeated applications to one service by one citizenship ID or one number are flagged to
officers, and refused past the service's limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
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
from gateway.conversations.messages import Applicant
from gateway.ops.metrics import count_error, count_submission
from gateway.settings import Settings
from state.submissions import (
    NewSubmission,
    Owed,
    Repeats,
    Stored,
    SubmissionRow,
    SubmissionStore,
    TooManyApplicationsError,
    new_token,
    utcnow,
)

logger = logging.getLogger(__name__)

Dispatch = Callable[[Sequence[int]], Awaitable[object]]
OptedOut = Callable[[str], Awaitable[bool]]  # a number that sent STOP


async def nobody_opted_out(address: str) -> bool:
    return False


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
        "applicant_id": row.applicant_id,
        "phone": row.phone,
        "flags": row.flags or [],
        "check_code": row.check_code,  # with the reference, what /verify asks for
        "reason": row.reason,
        "created_at": row.created_at.isoformat() + "Z",
        "decided_at": row.decided_at.isoformat() + "Z" if row.decided_at else None,
    }


# Channels that identify nobody: their citizens' messages go by SMS to the number they
# proved (Telegram's chat is not a number; the web chat cannot be reached afterwards).
NUMBER_BY_SMS = frozenset({"web", "telegram"})


def link_for(settings: Settings, token: str) -> str:
    """The citizen's short link: `https://gw.gov.bt/d/<22 characters>`."""
    return f"{settings.link_base.rstrip('/')}/d/{token}"


class Submissions:
    """The submission store behind the conversation's submit effect and the back office."""

    def __init__(
        self,
        store: SubmissionStore,
        settings: Settings,
        dispatch: Dispatch,
        opted_out: OptedOut = nobody_opted_out,
    ) -> None:
        self.store = store
        self.settings = settings
        self.dispatch = dispatch
        self.opted_out = opted_out
        self._pending: set[asyncio.Task[None]] = set()

    async def submit(self, effect: Submission, applicant: Applicant) -> SubmissionResult:
        """The submit effect: stored once per idempotency key. A database outage is a
        failed submission: the citizen is asked to try again, the answers are kept."""
        document = dict(effect.document) if effect.document is not None else None
        token = new_token() if effect.mode == "instant" and document is not None else None
        phone = effect.phone or applicant.phone
        limits = effect.limits
        new = NewSubmission(
            idempotency_key=effect.idempotency_key,
            service=effect.service,
            version=effect.version,
            mode=effect.mode,
            reference_prefix=effect.reference_prefix,
            citizen=applicant.citizen,
            channel=applicant.medium,
            lang=applicant.lang,
            answers=dict(effect.answers),
            document=document,
            applicant_id=effect.applicant_id,
            phone=phone,
            flags=effect.flags,
            repeats=None
            if limits is None
            else Repeats(limits.per_id, limits.per_phone, utcnow() - timedelta(days=limits.days)),
        )
        try:
            owed = await self._owed_on_submit(new, token, applicant.opted_out)
            stored = await self.store.submit(new, owed, token=token)
        except TooManyApplicationsError as exc:
            count_submission(effect.service, "refused")
            logger.warning("application to %s refused: %s", effect.service, exc)
            return SubmissionResult(ok=False, refused="limit")
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
            held=bool(stored.held) or any(item.held and item.kind == "message" for item in owed),
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

    async def decide(
        self, reference: str, *, approve: bool, reason: str | None, actor: str | None = None
    ) -> Stored | None:
        """An officer's decision; the citizen is told on the channel they used."""
        row = await self.store.by_reference(reference)
        if row is None:
            return None
        token = new_token() if approve and row.document is not None else None
        owed = await self._owed_on_decision(row, approve, reason, token)
        stored = await self.store.decide(
            reference, approve=approve, reason=reason, owed=owed, token=token, actor=actor
        )
        if stored is not None:
            if stored.created:  # decided already: the first decision was counted
                count_submission(stored.submission.service, stored.submission.status)
            await self._queue(stored)
        return stored

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (a while) for the notifications being queued: at shutdown, before the
        queue's connection closes under them (the relay queues whatever is left)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)

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
        if stored.created:
            await self.queue(stored.notifications, stored.held)

    async def queue(self, notifications: Sequence[int], held: Sequence[int] = ()) -> None:
        """Hand notifications to the job queue (those held wait for START); on failure
        they stay pending for the relay."""
        due = [i for i in notifications if i not in held]
        if not due:
            return
        try:
            await self.dispatch(due)
        except Exception:  # stored as pending: the relay queues them later
            logger.warning("notifications %s left to the relay", due)

    # ------------------------------------------------------------------ what is owed
    async def _owed_on_submit(
        self, new: NewSubmission, token: str | None, opted_out: bool
    ) -> list[Owed]:
        owed = self._webhook()
        # The final reply shows the link, except on USSD; a number proved on the web chat
        # or Telegram gets it by SMS too (the chat may be closed by then).
        if token is not None and (new.channel == "ussd" or new.channel in NUMBER_BY_SMS):
            owed[:0] = await self.message(new, "document_ready", {}, token, opted_out)
        return owed

    async def _owed_on_decision(
        self, row: SubmissionRow, approve: bool, reason: str | None, token: str | None
    ) -> list[Owed]:
        if approve:
            key, values = ("approved_document" if token else "approved"), {}
        else:
            key, values = "rejected", {"reason": reason or ""}
        return await self.message(row, key, values, token) + self._webhook()

    async def message(
        self,
        applied: NewSubmission | SubmissionRow,
        text: str,
        values: dict[str, str],
        token: str | None,
        opted_out: bool | None = None,
    ) -> list[Owed]:
        """A message to the citizen: through the sender of the channel they used (SMS for
        USSD), or by SMS to the number a web or Telegram citizen proved; none where
        nothing can be pushed. Held while that number opts out (`opted_out`: known for
        the citizen's own number from their message, else asked). Its text is written
        when it is sent, from the stored submission (the reference does not exist yet)."""
        channel, address = applied.channel, applied.citizen
        if channel in NUMBER_BY_SMS and applied.phone:
            channel, address = "sms", applied.phone
        sender = self.settings.senders.get(channel)
        if not sender:
            return []
        payload = {"text": text, "values": values, "token": token}
        if not address.startswith("+"):
            held = False
        elif address == applied.citizen and opted_out is not None:
            held = opted_out
        else:
            held = await self.opted_out(address)
        return [Owed("message", sender, address, payload, held=held)]

    def _webhook(self) -> list[Owed]:
        url = self.settings.backoffice_webhook_url
        return [Owed("webhook", "webhook", url, {})] if url else []
