"""What the desk's pages show of an application: plain values for the templates, built
from the stored rows and the service definition (labels in the officer's language,
answers as the citizen saw them), and the citizen's number masked where a list shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dialogs.compiler import CompiledService
from dialogs.steps.base import InputStep, StepContext
from dialogs.text import localise
from state.database import MessageRow
from state.submissions import DocumentRow, NotificationRow, SubmissionRow, utcnow
from state.timeline import SubmissionEventRow

# The status in words, as officers say it (a pending application is "submitted").
STATUS_WORDS = {
    "pending": "submitted",
    "returned": "returned",
    "approved": "approved",
    "rejected": "rejected",
    "issued": "issued",
}
EVENT_WORDS = {
    "viewed": "viewed by {actor}",
    "assigned": "assigned to {to} by {actor}",
    "returned": "returned for correction by {actor}: {note}",
    "corrected": "corrected by the citizen",
    "approved": "approved by {actor}",
    "rejected": "rejected by {actor}: {reason}",
    "revoked": "document revoked by {actor}: {reason}",
}


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def day(value: str | None) -> date | None:
    """A form's date field (YYYY-MM-DD), or None when empty or not a day."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def period(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC times from the start of `first` to the end of `last` (None: open)."""
    since = datetime.combine(first, time()) if first else None
    until = datetime.combine(last, time()) + timedelta(days=1) if last else None
    return since, until


def waited(seconds: float) -> str:
    """A duration as officers read it: 45 min, 5 h 10 min, 3 d 4 h."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def mask(citizen: str) -> str:
    """+97517•••456: enough to tell applicants apart, not to call them."""
    if citizen.startswith("+") and len(citizen) > 8:
        return citizen[:6] + "•••" + citizen[-3:]
    return "•••" + citizen[-4:] if len(citizen) > 4 else "•••"


def waiting_of(row: SubmissionRow) -> str:
    end = row.decided_at or utcnow()
    return waited((end - row.created_at).total_seconds())


@dataclass(frozen=True, slots=True)
class QueueLine:
    reference: str
    service: str
    citizen: str
    channel: str
    submitted: str
    status: str
    waiting: str
    overdue: bool
    assignee: str | None


def queue_line(row: SubmissionRow, assignee: str | None, overdue: bool, title: str) -> QueueLine:
    return QueueLine(
        reference=row.reference,
        service=title,
        citizen=mask(row.citizen),
        channel=row.channel,
        submitted=when(row.created_at),
        status=STATUS_WORDS.get(row.status, row.status),
        waiting=waiting_of(row),
        overdue=overdue,
        assignee=assignee,
    )


@dataclass(frozen=True, slots=True)
class ApplicationView:
    reference: str
    status: str
    status_key: str
    overdue: bool
    service: str
    citizen: str
    channel: str
    submitted: str
    assignee: str | None
    reason: str | None
    flags: list[str]
    correction: str
    answers: list[tuple[str, str]]
    lookups: list[tuple[str, list[tuple[str, str]]]]
    correctable: list[tuple[str, str]]
    documents: list[str]
    timeline: list[tuple[str, str]]
    messages: list[tuple[str, str, str]]


def label_of(service: CompiledService | None, name: str, lang: str) -> str:
    step = service.steps.get(name) if service else None
    label = getattr(step, "label", None) or getattr(step, "prompt", None)
    return localise(label, lang) if label else name.replace("_", " ").capitalize()


def application_view(
    row: SubmissionRow,
    *,
    service: CompiledService | None,
    lang: str,
    overdue: bool,
    assignee: str | None,
    documents: list[DocumentRow],
    events: list[SubmissionEventRow],
    notifications: list[NotificationRow],
    messages: list[MessageRow],
) -> ApplicationView:
    answers: list[tuple[str, str]] = []
    lookups: list[tuple[str, list[tuple[str, str]]]] = []
    correctable: list[tuple[str, str]] = []
    for name, value in row.answers.items():
        label = label_of(service, name, lang)
        if isinstance(value, dict):  # a registry lookup's data
            lookups.append((label, [(str(k), _plain(v)) for k, v in value.items()]))
            continue
        step = service.steps.get(name) if service else None
        if isinstance(step, InputStep):
            answers.append((label, _shown(step, value, row, service, lang)))
            correctable.append((name, label))
        else:
            answers.append((label, _plain(value)))
    correction = row.correction or {}
    return ApplicationView(
        reference=row.reference,
        status=STATUS_WORDS.get(row.status, row.status),
        status_key=row.status,
        overdue=overdue,
        service=localise(service.definition.title, lang) if service else row.service,
        citizen=row.citizen,
        channel=row.channel,
        submitted=when(row.created_at),
        assignee=assignee,
        reason=row.reason,
        flags=list(row.flags or []),
        correction=", ".join(label_of(service, name, lang) for name in correction.get("steps", []))
        + (f" — {correction['note']}" if correction.get("note") else ""),
        answers=answers,
        lookups=lookups,
        correctable=correctable,
        documents=[_document(d) for d in documents],
        timeline=_timeline(row, events, notifications),
        messages=[(when(m.at), m.direction, m.text) for m in messages],
    )


def _shown(
    step: InputStep,
    value: Any,
    row: SubmissionRow,
    service: CompiledService | None,
    lang: str,
) -> str:
    """The answer in the words the citizen chose it by (a choice's label, a date as
    written), in the officer's language when the service has it."""
    context = StepContext(
        lang=lang,
        today=row.created_at.date(),
        phone_region=service.definition.phone_region if service else "BT",
        answers=row.answers,
        text=lambda text: localise(text, lang),
    )
    try:
        return step.display(value, context)
    except (TypeError, ValueError, KeyError):  # a value an older version stored otherwise
        return _plain(value)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _document(row: DocumentRow) -> str:
    state = f"revoked {when(row.revoked_at)}" if row.revoked_at else "valid"
    if row.revoked_reason:
        state += f" ({row.revoked_reason})"
    return f"{row.kind}, issued {when(row.created_at)}, {state}"


def _timeline(
    row: SubmissionRow, events: list[SubmissionEventRow], notifications: list[NotificationRow]
) -> list[tuple[str, str]]:
    """Submitted, what officers and the citizen did, and each message owed and sent."""
    lines: list[tuple[datetime, str]] = [(row.created_at, "submitted")]
    for event in events:
        detail = {str(k): v for k, v in (event.detail or {}).items()}
        template = EVENT_WORDS.get(event.kind, event.kind)
        values = {"actor": event.actor or "the citizen", "to": "nobody", "note": "", "reason": ""}
        values.update({k: str(v) for k, v in detail.items() if k in ("to", "note", "reason")})
        lines.append((event.at, template.format(**{**values, "to": values["to"] or "nobody"})))
    for note in notifications:
        what = "message to the citizen" if note.kind == "message" else "back office webhook"
        lines.append((note.created_at, f"{what} ({note.event}) queued"))
        if note.sent_at is not None:
            lines.append((note.sent_at, f"{what} ({note.event}) delivered to {note.channel}"))
        elif note.status == "failed":
            lines.append((note.updated_at, f"{what} ({note.event}) failed"))
    lines.sort(key=lambda line: line[0])
    return [(when(at), text) for at, text in lines]
