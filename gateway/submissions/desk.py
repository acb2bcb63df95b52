"""The applications desk: what officers do to applications, for the console's pages and
the API alike, so both check the same rights and leave the same traces.

Who may act is a `Principal`: an officer sees and decides the applications of the
services they hold the role on, and another service's application is answered as absent
(the same as a wrong reference). Each act lands on the application's timeline in the
same transaction as the change itself; a return for correction also leaves the citizen a
pointer (`SessionStore.set_correction`) that their next conversation begins with.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.messages import Correction, Submission, SubmissionResult
from dialogs.steps.submit import ReviewDef, SubmitStep
from gateway.conversations.messages import Applicant
from gateway.submissions.service import Submissions
from state.access import Principal, Role
from state.desk import DeskStore, Queue, QueueFilter
from state.store import SessionStore
from state.submissions import SubmissionRow, utcnow
from state.timeline import EventKind

logger = logging.getLogger(__name__)

MAX_NOTE = 500
Outcome = Literal["done", "not_found", "conflict", "invalid"]


@dataclass(frozen=True, slots=True)
class Acted:
    """What an officer's act came to: done, no such application (or not theirs to see),
    a conflict (another officer acted first: `submission` says what it is now), or an
    invalid request (`message` says why)."""

    outcome: Outcome
    submission: SubmissionRow | None = None
    message: str = ""


class Desk:
    def __init__(
        self,
        store: DeskStore,
        submissions: Submissions,
        sessions: SessionStore,
        catalog: Callable[[], Catalog | None] = lambda: None,
    ) -> None:
        self.store = store
        self.submissions = submissions
        self.sessions = sessions
        self._catalog = catalog  # the running services, asked each time (a reload)

    @property
    def catalog(self) -> Catalog | None:
        return self._catalog()

    # ------------------------------------------------------------------ seeing
    async def visible(self, principal: Principal, reference: str) -> SubmissionRow | None:
        """The application, if the principal may see it."""
        row = await self.submissions.store.by_reference(reference)
        if row is None or not principal.may(Role.OFFICER, row.service):
            return None
        return row

    async def queue(self, principal: Principal, wanted: QueueFilter) -> Queue:
        services = principal.services(Role.OFFICER)
        if services is not None and wanted.services is not None:
            services = services & wanted.services
        elif services is None:
            services = wanted.services
        return await self.store.queue(replace(wanted, services=services))

    async def viewed(self, principal: Principal, row: SubmissionRow) -> None:
        """An officer opened the application: on its timeline once per officer."""
        seen = await self.store.timeline(row.id)
        if not any(e.kind == EventKind.VIEWED and e.actor == principal.label for e in seen):
            await self.store.record(row.id, EventKind.VIEWED, principal.label)

    def review(self, row: SubmissionRow) -> ReviewDef:
        """The service's review settings (target time, reasons), from the version the
        application was made on, else the latest."""
        service = service_of(self.catalog, row)
        submits = (
            [s for s in service.steps.values() if isinstance(s, SubmitStep)] if service else []
        )
        # A reviewed submit step's first; an instant one also sends officers the unconfirmed.
        submits.sort(key=lambda step: step.mode != "review")
        return submits[0].review if submits else ReviewDef()

    def overdue(self, row: SubmissionRow) -> bool:
        """Still waiting for an officer past the service's target time."""
        if row.status not in ("pending", "returned"):
            return False
        return utcnow() - row.created_at > timedelta(days=self.review(row).days)

    # ------------------------------------------------------------------ acting
    async def decide(
        self, principal: Principal, reference: str, *, approve: bool, reason: str | None
    ) -> Acted:
        row = await self.visible(principal, reference)
        if row is None:
            return Acted("not_found")
        reason = said(reason or "") or None
        if not approve and reason is None:
            return Acted("invalid", row, "A rejection needs a reason.")
        stored = await self.submissions.decide(
            reference, approve=approve, reason=reason, actor=principal.label
        )
        if stored is None:
            return Acted("not_found")
        if not stored.created:
            return Acted("conflict", stored.submission, _conflict(stored.submission))
        await self._point(stored.submission.citizen)
        return Acted("done", stored.submission)

    async def return_for_correction(
        self,
        principal: Principal,
        reference: str,
        *,
        steps: list[str],
        note: str,
        officer_id: int | None = None,
    ) -> Acted:
        row = await self.visible(principal, reference)
        if row is None:
            return Acted("not_found")
        named = [name for name in dict.fromkeys(steps) if name in row.answers]
        note = said(note)
        if not named:
            return Acted("invalid", row, "Choose at least one answer to correct.")
        if not note:
            return Acted("invalid", row, "Say what is to be corrected.")
        owed = await self.submissions.message(row, "returned", {"note": note}, None)
        returned = await self.store.return_for_correction(
            reference,
            steps=named,
            note=note,
            officer_id=officer_id,
            actor=principal.label,
            owed=owed,
        )
        if returned is None:
            return Acted("not_found")
        if not returned.returned:
            return Acted("conflict", returned.submission, _conflict(returned.submission))
        await self._point(row.citizen)
        await self.submissions.queue(returned.notifications, returned.held)
        return Acted("done", returned.submission)

    async def assign(
        self, principal: Principal, reference: str, account_id: int | None, email: str | None
    ) -> Acted:
        if await self.visible(principal, reference) is None:
            return Acted("not_found")
        row = await self.store.assign(reference, account_id, email, principal.label)
        return Acted("done", row) if row is not None else Acted("not_found")

    async def revoke(self, principal: Principal, reference: str, reason: str) -> Acted:
        row = await self.visible(principal, reference)
        if row is None:
            return Acted("not_found")
        reason = said(reason)
        if not reason:
            return Acted("invalid", row, "Say why the document is revoked.")
        revoked = await self.submissions.store.revoke(reference, reason, principal.label)
        if not revoked:
            return Acted("conflict", row, "No valid document to revoke.")
        return Acted("done", row)

    # ------------------------------------------------------------------ the citizen
    async def submit(self, effect: Submission, applicant: Applicant) -> SubmissionResult:
        """The conversation's submit effect: a new application, or the corrected answers
        of a returned one (`effect.amends`), which goes back to its officer."""
        if effect.amends is None:
            return await self.submissions.submit(effect, applicant)
        try:
            row = await self.store.amend(
                effect.amends,
                applicant.citizen,
                dict(effect.answers),
                dict(effect.document) if effect.document is not None else None,
            )
        except Exception as exc:  # the database is down: tried again, answers kept
            logger.warning("correction not stored (%s): %s", type(exc).__name__, exc)
            return SubmissionResult(ok=False)
        if row is None:  # decided meanwhile, or not this citizen's: a new application
            return await self.submissions.submit(replace(effect, amends=None), applicant)
        return SubmissionResult(ok=True, reference=row.reference, status=row.status)

    async def correction(self, citizen: str) -> str | None:
        """The pointer to the citizen's next returned application, as JSON (None: none)."""
        row = await self.store.returned_to(citizen)
        if row is None:
            return None
        correction = row.correction or {}
        return Correction(
            reference=row.reference,
            service=row.service,
            version=row.version,
            answers=row.answers,
            steps=tuple(correction.get("steps", ())),
            note=str(correction.get("note", "")),
        ).to_json()

    async def _point(self, citizen: str) -> None:
        """Point the citizen's next conversation at their returned application, if any.
        Redis down: the database keeps the return; the pointer is written again by the
        next act on the citizen's applications."""
        try:
            await self.sessions.set_correction(citizen, await self.correction(citizen))
        except Exception as exc:
            logger.warning("correction pointer not written (%s): %s", type(exc).__name__, exc)


def said(text: str) -> str:
    """An officer's note or reason as it is kept and sent: control characters (a NUL
    PostgreSQL refuses, escapes that would garble an SMS) dropped, at most MAX_NOTE."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return kept.strip()[:MAX_NOTE]


def _conflict(row: SubmissionRow) -> str:
    return f"Application {row.reference} is {row.status} already: another officer acted first."


def service_of(catalog: Catalog | None, row: SubmissionRow) -> CompiledService | None:
    """The version the application was made on, else the latest one running."""
    if catalog is None:
        return None
    return catalog.get(row.service, row.version) or catalog.latest(row.service)
