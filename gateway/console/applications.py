"""The applications desk's pages: the queue, one application, and what an officer does
to it (approve, reject, return for correction, assign, revoke its document).

Every act goes through `gateway.submissions.desk.Desk`, as the API's do: an officer
limited to some services is answered 404 for any other's application, whether by page
or by API. After an act the officer is sent back to the application (303), with what
happened said at the top of the page; when another officer acted first, that is said
instead.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialogs.text import localise
from gateway.console.auth import Signed, form_of, needs
from gateway.console.pages import N_, language, render
from gateway.console.signin import client_of
from gateway.console.views import STATUS_WORDS, application_view, day, period, queue_line
from gateway.runtime import Runtime
from gateway.submissions.desk import Acted, service_of
from state.access import Role
from state.desk import QueueFilter

PAGE_SIZE = 25
# What the filters may hold: nothing a database would refuse (a NUL) reaches a query.
WORD = r"^[a-z0-9_-]*$"
REFERENCE = r"^[A-Za-z0-9~-]*$"
DAY = r"^(\d{4}-\d{2}-\d{2})?$"
NOTICES = {
    "approved": N_("Approved. The citizen is being told."),
    "rejected": N_("Rejected. The citizen is being told why."),
    "returned": N_("Returned for correction. The citizen is being told what to correct."),
    "assigned": N_("Assignment saved."),
    "revoked": N_("The document is revoked."),
}
Officer = Annotated[Signed, needs(Role.OFFICER)]
ReferenceIn = Annotated[str, Path(max_length=32, pattern=REFERENCE)]


def applications_router() -> APIRouter:
    router = APIRouter(prefix="/console/applications", include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def queue(
        request: Request,
        person: Officer,
        status: Annotated[str, Query(max_length=20, pattern=WORD)] = "",
        service: Annotated[str, Query(max_length=80, pattern=WORD)] = "",
        reference: Annotated[str, Query(max_length=32, pattern=REFERENCE)] = "",
        order: Annotated[str, Query(max_length=10, pattern=WORD)] = "newest",
        assigned: Annotated[str, Query(max_length=10, pattern=WORD)] = "",
        from_: Annotated[str, Query(alias="from", max_length=10, pattern=DAY)] = "",
        to: Annotated[str, Query(max_length=10, pattern=DAY)] = "",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        runtime = Runtime.of(request.app)
        desk, lang = runtime.desk, language(request)
        first, last = day(from_), day(to)
        since, until = period(first, last)
        wanted = QueueFilter(
            services=None,
            service=service or None,
            status=status if status in STATUS_WORDS else None,
            reference=reference or None,
            since=since,
            until=until,
            assigned_to=person.account.id if assigned == "me" else None,
            oldest_first=order == "oldest",
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        found = await desk.queue(person.principal, wanted)
        catalog = desk.catalog
        items = []
        for item in found.items:
            compiled = service_of(catalog, item.submission)
            title = compiled.definition.title if compiled else item.submission.service
            items.append(
                queue_line(
                    item.submission,
                    item.assignee,
                    desk.overdue(item.submission),
                    localise(title, lang),
                )
            )
        pages = max(1, -(-found.total // PAGE_SIZE))
        query = {k: v for k, v in request.query_params.items() if k != "page"}
        return render(
            request,
            "queue.html",
            {
                "person": person,
                "menu": menu_of(person),
                "items": items,
                "total": found.total,
                "page": page,
                "pages": pages,
                "previous": _page_link(query, page - 1) if page > 1 else None,
                "following": _page_link(query, page + 1) if page < pages else None,
                "wanted": wanted,
                "wanted_from": from_ if first else "",
                "wanted_to": to if last else "",
                "mine": assigned == "me",
                "statuses": [(k, v) for k, v in STATUS_WORDS.items() if k != "issued"],
                "services": _services(runtime, person, lang),
            },
        )

    @router.get("/{reference}", response_class=HTMLResponse)
    async def application(request: Request, person: Officer, reference: ReferenceIn) -> Response:
        return await show(request, person, reference, notice=_notice(request))

    @router.post("/{reference}/approve")
    async def approve(request: Request, person: Officer, reference: ReferenceIn) -> Response:
        await form_of(request, person.session)
        acted = await Runtime.of(request.app).desk.decide(
            person.principal, reference, approve=True, reason=None
        )
        return await after(request, person, reference, acted, "approved")

    @router.post("/{reference}/reject")
    async def reject(request: Request, person: Officer, reference: ReferenceIn) -> Response:
        form = await form_of(request, person.session)
        reason = str(form.get("reason") or "").strip() or str(form.get("reason_choice") or "")
        acted = await Runtime.of(request.app).desk.decide(
            person.principal, reference, approve=False, reason=reason
        )
        return await after(request, person, reference, acted, "rejected")

    @router.post("/{reference}/return")
    async def return_(request: Request, person: Officer, reference: ReferenceIn) -> Response:
        form = await form_of(request, person.session)
        steps = [str(value) for value in form.getlist("steps")]
        acted = await Runtime.of(request.app).desk.return_for_correction(
            person.principal,
            reference,
            steps=steps,
            note=str(form.get("note") or ""),
            officer_id=person.account.id,
        )
        return await after(request, person, reference, acted, "returned")

    @router.post("/{reference}/assign")
    async def assign(request: Request, person: Officer, reference: ReferenceIn) -> Response:
        form = await form_of(request, person.session)
        runtime = Runtime.of(request.app)
        email = str(form.get("assignee") or "").strip()
        account = await runtime.accounts.get_by_email(email) if email else None
        if email and (account is None or account.disabled):
            acted = Acted("invalid", message="No officer has this email.")
        else:
            acted = await runtime.desk.assign(
                person.principal, reference, account.id if account else None, email or None
            )
        return await after(request, person, reference, acted, "assigned")

    @router.post("/{reference}/revoke")
    async def revoke(request: Request, person: Officer, reference: ReferenceIn) -> Response:
        form = await form_of(request, person.session)
        acted = await Runtime.of(request.app).desk.revoke(
            person.principal, reference, str(form.get("reason") or "")
        )
        return await after(request, person, reference, acted, "revoked")

    return router


async def after(
    request: Request, person: Signed, reference: str, acted: Acted, done: str
) -> Response:
    """Back to the application after an act: 303 when done, else the page again with why."""
    if acted.outcome == "done":
        runtime = Runtime.of(request.app)
        row = acted.submission
        await runtime.audit.record(
            person.account.email,
            done,
            reference,
            {"service": row.service} if row else None,
            client_of(request),
        )
        return RedirectResponse(f"/console/applications/{reference}?done={done}", 303)
    status = {"not_found": 404, "conflict": 409, "invalid": 422}[acted.outcome]
    return await show(request, person, reference, error=acted.message, status_code=status)


async def show(
    request: Request,
    person: Signed,
    reference: str,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    runtime = Runtime.of(request.app)
    desk = runtime.desk
    row = await desk.visible(person.principal, reference)
    if row is None:  # absent, or another service's: the same answer
        return render(
            request,
            "error.html",
            {
                "person": person,
                "menu": menu_of(person),
                "heading": N_("Application not found"),
                "message": f"No application {reference} is open to you.",
            },
            status_code=404,
        )
    await desk.viewed(person.principal, row)
    lang = language(request)
    compiled = service_of(desk.catalog, row)
    view = application_view(
        row,
        service=compiled,
        lang=lang,
        overdue=desk.overdue(row),
        assignee=await desk.store.assignee(row),
        documents=await runtime.submission_store.documents_of(row.id),
        events=await desk.store.timeline(row.id),
        notifications=await desk.store.notifications_of(row.id),
        messages=await desk.store.messages_of(row.citizen, since=row.created_at),
    )
    officers = [
        account.email
        for account in await runtime.accounts.list()
        if not account.disabled and account.may(Role.OFFICER, row.service)
    ]
    reasons = [localise(reason, lang) for reason in desk.review(row).reasons]
    return render(
        request,
        "application.html",
        {
            "person": person,
            "menu": menu_of(person),
            "app": view,
            "may_decide": person.may(Role.OFFICER, row.service),
            "reasons": reasons,
            "officers": officers,
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


def home_of(person: Signed) -> str:
    """Where a person starts: the desk for officers, the figures for analysts and
    administrators, the studio for authors and publishers, else their own account."""
    pages = [href for href, _ in menu_of(person)]
    return pages[0]


def menu_of(person: Signed) -> list[tuple[str, str]]:
    """The console's sections this person may open."""
    holds = {grant.role for grant in person.principal.grants}
    menu = []
    if Role.OFFICER in holds:
        menu.append(("/console/applications", N_("Applications")))
    if holds & {Role.ANALYST, Role.ADMINISTRATOR}:
        menu.append(("/console/figures", N_("Figures")))
    if holds & {Role.AUTHOR, Role.PUBLISHER}:
        menu.append(("/console/studio", N_("Studio")))
    if Role.ADMINISTRATOR in holds:
        menu += [("/console/people", N_("People")), ("/console/audit", N_("Audit log"))]
    menu.append(("/console/account", N_("My account")))
    return menu


def _notice(request: Request) -> str:
    return NOTICES.get(request.query_params.get("done", ""), "")


def _page_link(query: dict[str, str], page: int) -> str:
    return "/console/applications?" + urlencode({**query, "page": str(page)})


def _services(runtime: Runtime, person: Signed, lang: str) -> list[tuple[str, str]]:
    """The services the officer may filter by: those they hold the role on."""
    catalog = runtime.desk.catalog
    if catalog is None:
        return []
    allowed = person.principal.services(Role.OFFICER)
    return [
        (compiled.id, localise(compiled.definition.title, lang))
        for compiled in catalog.menu()
        if allowed is None or compiled.id in allowed
    ]
