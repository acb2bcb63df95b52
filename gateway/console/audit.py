"""The audit log's page, for administrators: who did what, when and from where, newest
first, filtered by action, person and period, with the export (CSV or JSON lines) the
API gives too. Nobody can change or remove an entry (`state.audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from gateway.api.audit import csv_lines, json_lines
from gateway.console.applications import DAY, WORD, menu_of
from gateway.console.auth import Signed, needs
from gateway.console.pages import render
from gateway.console.views import day, period
from gateway.runtime import Runtime
from state.access import Role
from state.audit import Action, AuditFilter

Administrator = Annotated[Signed, needs(Role.ADMINISTRATOR)]
PAGE_SIZE = 50
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # an email or a key's name: nothing a database refuses


def _filter(action: str, actor: str, from_: str, to: str) -> AuditFilter:
    since, until = period(day(from_), day(to))
    return AuditFilter(
        action=Action(action) if action in Action._value2member_map_ else None,
        actor=actor.strip().lower() or None,
        since=since,
        until=until,
    )


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/console/audit", include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def audit(
        request: Request,
        person: Administrator,
        action: Annotated[str, Query(max_length=32, pattern=WORD)] = "",
        actor: Annotated[str, Query(max_length=254, pattern=PRINTABLE)] = "",
        from_: Annotated[str, Query(alias="from", max_length=10, pattern=DAY)] = "",
        to: Annotated[str, Query(max_length=10, pattern=DAY)] = "",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        log = Runtime.of(request.app).audit
        where = _filter(action, actor, from_, to)
        found = await log.entries(where, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        query = {k: v for k, v in request.query_params.items() if k != "page"}
        return render(
            request,
            "audit.html",
            {
                "person": person,
                "menu": menu_of(person),
                "entries": found[:PAGE_SIZE],
                "actions": [a.value for a in Action],
                "wanted": {"action": action, "actor": actor, "from": from_, "to": to},
                "previous": f"?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
                "following": f"?{urlencode({**query, 'page': page + 1})}"
                if len(found) > PAGE_SIZE
                else None,
                "export": urlencode({k: v for k, v in query.items() if k != "lang"}),
            },
        )

    @router.get("/export")
    async def export(
        request: Request,
        person: Administrator,
        format: Literal["csv", "jsonl"] = "csv",
        action: Annotated[str, Query(max_length=32, pattern=WORD)] = "",
        actor: Annotated[str, Query(max_length=254, pattern=PRINTABLE)] = "",
        from_: Annotated[str, Query(alias="from", max_length=10, pattern=DAY)] = "",
        to: Annotated[str, Query(max_length=10, pattern=DAY)] = "",
    ) -> Response:
        found = Runtime.of(request.app).audit.export(_filter(action, actor, from_, to))
        body = csv_lines(found) if format == "csv" else json_lines(found)
        media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
        name = f"audit-{datetime.utcnow():%Y%m%d-%H%M%S}.{format}"
        return StreamingResponse(
            body,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return router
