"""The audit log, for administrators (`gateway.api.admin`): `GET /api/v1/audit` (filtered,
newest first, a page at a time) and `GET /api/v1/audit/export` (every matching entry,
oldest first, streamed as CSV or JSON lines, for an archive or a SIEM).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from gateway.api.auth import require
from gateway.api.deps import RuntimeDep
from state.access import Role
from state.audit import Action, AuditEntry, AuditFilter, AuditLog

MAX_OFFSET = 10**9
COLUMNS = ("id", "at", "actor", "action", "target", "detail", "address")
# A cell a spreadsheet would run as a formula (OWASP's CSV injection): an actor or a
# target can be what a stranger typed into the sign-in form.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}

router = APIRouter(dependencies=[require(Role.ADMINISTRATOR)])


class AuditRecord(BaseModel):
    """One entry of the audit log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime  # UTC, written without an offset
    actor: str  # an email, `key:NAME`, `bootstrap`, or `cli:USER`
    action: Action
    target: str | None
    detail: dict[str, Any] | None
    address: str | None  # the client's address, when it came over HTTP


async def audit_log(runtime: RuntimeDep) -> AuditLog:
    return runtime.audit


AuditLogDep = Annotated[AuditLog, Depends(audit_log)]


def _utc(value: datetime | None) -> datetime | None:
    """Stored times are naive UTC: an offset given in the query is converted to it."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as exc:
        raise HTTPException(422, "that time is out of range in UTC") from exc


async def audit_filter(
    action: Action | None = None,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    since: Annotated[datetime | None, Query(description="At or after (UTC).")] = None,
    until: Annotated[datetime | None, Query(description="Before (UTC).")] = None,
) -> AuditFilter:
    return AuditFilter(action=action, actor=actor or None, since=_utc(since), until=_utc(until))


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/audit")
async def entries(
    audit: AuditLogDep,
    where: FilterDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[AuditRecord]:
    """Entries of the audit log, newest first, filtered by action, actor and time."""
    found = await audit.entries(where, limit=limit, offset=offset)
    return [AuditRecord.model_validate(entry) for entry in found]


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every matching entry, oldest first, as an attachment.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/jsonl": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export(
    audit: AuditLogDep,
    where: FilterDep,
    format: Literal["csv", "jsonl"] = "csv",
) -> StreamingResponse:
    """Every matching entry, oldest first, streamed: CSV (a header line, `detail` as
    JSON, cells a spreadsheet would run as formulas prefixed with `'`) or JSON lines."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    lines = csv_lines(audit.export(where)) if format == "csv" else json_lines(audit.export(where))
    return StreamingResponse(
        lines,
        media_type=_MEDIA[format],
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"',
            "Cache-Control": "no-store",  # who did what: no proxy or browser cache keeps it
        },
    )


async def csv_lines(found: AsyncIterator[AuditEntry]) -> AsyncIterator[bytes]:
    """The entries as CSV, a header line first (the console's export uses it too)."""
    yield _csv_line(COLUMNS)
    async for entry in found:
        record = AuditRecord.model_validate(entry)
        yield _csv_line(
            (
                str(record.id),
                record.at.isoformat(),
                record.actor,
                record.action.value,
                record.target or "",
                json.dumps(record.detail, ensure_ascii=False) if record.detail else "",
                record.address or "",
            )
        )


def _csv_line(cells: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow([f"'{c}" if c.startswith(_FORMULA) else c for c in cells])
    return out.getvalue().encode()


async def json_lines(found: AsyncIterator[AuditEntry]) -> AsyncIterator[bytes]:
    """The entries as JSON lines, one object a line."""
    async for entry in found:
        yield AuditRecord.model_validate(entry).model_dump_json().encode() + b"\n"
