"""Drop-off analytics for civil servants: the funnel of a service as JSON and as a page.

- `GET /api/v1/analytics/{service}`: the figures (`gateway/analytics/funnel.py`), for a
  key with the analyst role, or the administrator role (who answers for the gateway as a
  whole and may read what it does; `gateway.api.auth`, as every API route);
- `GET /analytics/{service}`: a static page (`gateway/static/analytics.*`, no framework)
  that asks for a key once, keeps it for the browser tab (sessionStorage), and draws
  the funnel from the JSON. The page itself holds no figures, so it needs no token.

The API drains the event stream before it counts, so a civil servant sees the
conversations of a minute ago, not those of the last archiver pass.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from gateway.analytics.funnel import Funnel, funnel, recorded
from gateway.api.auth import require
from gateway.api.deps import CatalogDep, EventArchiveDep
from gateway.api.errors import ADMIN_ERRORS, error
from gateway.api.static import static_asset
from gateway.settings import Settings
from state.access import Role

logger = logging.getLogger(__name__)
DRAIN_BATCHES = 20  # at most 10,000 entries read before answering; the archiver does the rest
UNKNOWN = error(404, "No such service, and no figures recorded for one of this id.")


def _utc(value: datetime | None) -> datetime | None:
    """Stored times are naive UTC: an offset given in the query is converted to it (422
    when that leaves the calendar: 0001-01-01 at +05:00 is in the year 0)."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as exc:
        raise HTTPException(status_code=422, detail="that time is out of range in UTC") from exc


def analytics_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["analytics"])

    @router.get(
        "/api/v1/analytics/{service}",
        dependencies=[require(Role.ANALYST, Role.ADMINISTRATOR)],
        responses={**ADMIN_ERRORS, 404: UNKNOWN},
    )
    async def analytics(
        catalog: CatalogDep,
        archive: EventArchiveDep,
        service: str,
        since: Annotated[
            datetime | None, Query(description="Attempts started at or after (UTC).")
        ] = None,
        until: Annotated[datetime | None, Query(description="... and before (UTC).")] = None,
        channel: Annotated[
            str | None, Query(max_length=40, description="Only this channel (ussd, sms...).")
        ] = None,
    ) -> Funnel:
        """The funnel of a service: attempts started and completed, and for each step
        how many reached it, dropped there, answered wrongly, and the median time spent,
        per channel."""
        compiled = catalog.latest(service)  # a withdrawn service: its last version's steps
        try:
            await archive.drain(max_batches=DRAIN_BATCHES)
        except Exception:  # Redis down: the figures archived so far are still worth seeing
            logger.warning("analytics: could not drain the event stream", exc_info=True)
        if compiled is None and not await recorded(archive.database, service):
            raise HTTPException(status_code=404, detail=f"unknown service {service!r}")
        return await funnel(
            archive.database,
            service,
            service=compiled,
            since=_utc(since),
            until=_utc(until),
            channel=channel or None,
        )

    # The assets first: `/analytics/analytics.js` is not a service.
    for name in ("analytics.js", "analytics.css"):
        router.add_api_route(
            f"/analytics/{name}", static_asset(name), methods=["GET"], include_in_schema=False
        )
    page = static_asset("analytics.html")

    @router.get(
        "/analytics/{service}",
        response_class=Response,
        responses={200: {"content": {"text/html": {}}}, 404: error(404, "No such service.")},
        summary="Drop-off page of a service",
    )
    def analytics_page(request: Request, catalog: CatalogDep, service: str) -> Response:
        """The page civil servants open; it asks for the admin token and draws the funnel."""
        # From the catalog alone: this route is public, so it neither touches the database
        # nor tells which ids have records. A service no longer loaded at all (withdrawn,
        # its last conversations over) keeps its figures in the API and `gateway report`.
        if catalog.latest(service) is None:
            raise HTTPException(status_code=404, detail=f"unknown service {service!r}")
        return page(request)

    return router
