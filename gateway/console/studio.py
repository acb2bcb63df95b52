"""The studio's pages, where authors write services and publishers publish them:

- `/console/studio`: the services with their published version and their draft, and a
  form to start a new service (blank, a copy of a service, or a template);
- `/console/studio/{id}`: the editor (form and source views of one draft, diagnostics,
  preview per medium, simulator, diagram), for authors;
- `/console/studio/{id}/review`: the publisher's page (what changed, its impact, publish,
  send back, roll back);
- `/console/studio/lists/{name}`: a shared option list (the dzongkhags...) as a table of
  its options and their labels, for authors (only an author of every service saves it).

The pages are drawn by the studio's script (`static/studio/studio.js`, bundled by
`make studio-js` from `static/studio/src/`), which talks to the studio's JSON API
(`/api/v1/studio/...`) with the console's session and its CSRF token (in a
`<meta name="csrf-token">`). The texts the script says come translated from the
template (a JSON data block), so the catalogues hold them as they hold every other.

Their content security policy is the console's with scripts of the console's own origin,
`fetch` to it, and one nonce for the styles CodeMirror writes into the page (its
`EditorView.cspNonce`): no inline script, no `unsafe-inline`.
"""

from __future__ import annotations

import json
import secrets
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from dialogs.schema import json_schema
from gateway.api.static import static_asset
from gateway.console.applications import menu_of
from gateway.console.auth import Signed, needs
from gateway.console.pages import render
from gateway.runtime import Runtime
from state.access import Role

Author = Annotated[Signed, needs(Role.AUTHOR)]
Publisher = Annotated[Signed, needs(Role.PUBLISHER)]
Either = Annotated[Signed, needs(Role.AUTHOR, Role.PUBLISHER)]
ServiceId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,47}$")]
ListName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
ASSETS = ("studio.js", "studio.css")
STATIC = ("console", "static", "studio")
MEDIA = ("ussd", "sms", "whatsapp", "telegram", "web")


def csp(nonce: str) -> str:
    """The studio's policy: the console's, with same-origin scripts and fetches, and the
    styles CodeMirror injects under `nonce`."""
    return (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


@cache
def _schema() -> bytes:
    return json.dumps(json_schema(), ensure_ascii=False).encode()


def studio_router() -> APIRouter:
    router = APIRouter(prefix="/console/studio", include_in_schema=False)

    for name in ASSETS:  # the script and stylesheet the studio's pages load
        router.add_api_route(
            f"/static/{name}", static_asset(name, STATIC), methods=["GET"], name=f"studio_{name}"
        )

    @router.get("/schema.json")
    async def schema(person: Either) -> Response:
        """The definition format's JSON Schema (`gateway schema`), for the editor."""
        return Response(_schema(), media_type="application/json")

    @router.get("", response_class=HTMLResponse)
    async def services(request: Request, person: Either) -> Response:
        runtime = Runtime.of(request.app)
        catalog = runtime.conversations.catalog
        drafts = {d.service: d for d in await runtime.drafts.list()}
        rows: list[dict[str, Any]] = []
        for service in sorted(set(catalog.versions) | set(drafts)):
            if not (person.may(Role.AUTHOR, service) or person.may(Role.PUBLISHER, service)):
                continue
            published = catalog.get(service)
            draft = drafts.get(service)
            rows.append(
                {
                    "id": service,
                    "published": published.version if published else None,
                    "draft": draft,
                    "may_author": person.may(Role.AUTHOR, service),
                    "may_publish": person.may(Role.PUBLISHER, service),
                }
            )
        return _page(
            request,
            person,
            "studio.html",
            {
                "rows": rows,
                "may_author": _any(person, Role.AUTHOR),
                "may_publish": _any(person, Role.PUBLISHER),
                "published": [row["id"] for row in rows if row["published"] is not None],
            },
        )

    @router.get("/lists/{name}", response_class=HTMLResponse)
    async def shared_list(request: Request, person: Author, name: ListName) -> Response:
        """A shared list's editor; the script reads and writes it through the API."""
        return _page(
            request,
            person,
            "studio_list.html",
            {"name": name, "may_save": person.principal.services(Role.AUTHOR) is None},
        )

    @router.get("/{service}", response_class=HTMLResponse)
    async def editor(request: Request, person: Author, service: ServiceId) -> Response:
        if not person.may(Role.AUTHOR, service):
            raise HTTPException(404, "No such service open to you.")
        # Published, without a draft: the editor offers to start the next version from it.
        published = Runtime.of(request.app).conversations.catalog.get(service)
        context = {
            "service": service,
            "media": MEDIA,
            "published": published.version if published else None,
        }
        return _page(request, person, "studio_editor.html", context)

    @router.get("/{service}/review", response_class=HTMLResponse)
    async def review(request: Request, person: Publisher, service: ServiceId) -> Response:
        # Publish and Send back: for a draft sent for review alone.
        draft = await Runtime.of(request.app).drafts.get(service)
        context = {"service": service, "draft_state": draft.state if draft else ""}
        return _page(request, person, "studio_review.html", context)

    return router


def _any(person: Signed, role: Role) -> bool:
    return person.principal.bootstrap or any(g.role == role for g in person.principal.grants)


def _page(request: Request, person: Signed, template: str, context: dict[str, Any]) -> Response:
    nonce = secrets.token_urlsafe(18)
    response = render(
        request,
        template,
        {**context, "person": person, "menu": menu_of(person), "nonce": nonce},
    )
    response.headers["Content-Security-Policy"] = csp(nonce)
    return response
