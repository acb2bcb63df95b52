"""The figures page, for analysts and administrators: every service's funnel (the drop-off
analytics), applications per day, decision times (median, 90th percentile) and the
returned-for-correction rate, over a window the reader picks (the last 30 days unless
they say otherwise)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dialogs.text import localise
from gateway.analytics.desk import overview
from gateway.analytics.funnel import funnel
from gateway.console.applications import DAY, menu_of
from gateway.console.auth import Signed, needs
from gateway.console.pages import language, render
from gateway.console.views import day, period, waited
from gateway.runtime import Runtime
from state.access import Role

logger = logging.getLogger(__name__)
Reader = Annotated[Signed, needs(Role.ANALYST, Role.ADMINISTRATOR)]
DEFAULT_DAYS = 30
DRAIN_BATCHES = 20  # as the analytics API: the conversations of a minute ago count


def figures_router() -> APIRouter:
    router = APIRouter(prefix="/console/figures", include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def figures(
        request: Request,
        person: Reader,
        from_: Annotated[str, Query(alias="from", max_length=10, pattern=DAY)] = "",
        to: Annotated[str, Query(max_length=10, pattern=DAY)] = "",
    ) -> Response:
        runtime = Runtime.of(request.app)
        today = datetime.utcnow().date()
        first = day(from_) or today - timedelta(days=DEFAULT_DAYS - 1)
        last = day(to) or today
        since, until = period(first, last)
        try:
            await runtime.events.drain(max_batches=DRAIN_BATCHES)
        except Exception:  # Redis down: what is archived is still worth seeing
            logger.warning("figures: could not drain the event stream", exc_info=True)
        catalog = runtime.desk.catalog
        lang = language(request)
        services = catalog.menu() if catalog else []
        funnels = [
            await funnel(runtime.events.database, s.id, service=s, since=since, until=until)
            for s in services
        ]
        desk = await overview(runtime.submission_store.database, since=since, until=until)
        return render(
            request,
            "figures.html",
            {
                "person": person,
                "menu": menu_of(person),
                "first": first.isoformat(),
                "last": last.isoformat(),
                "funnels": funnels,
                "titles": {s.id: localise(s.definition.title, lang) for s in services},
                "desk": desk,
                "duration": lambda seconds: "—" if seconds is None else waited(seconds),
                "share": lambda value: "—" if value is None else f"{value:.0%}",
            },
        )

    return router
