"""Shared option lists in the studio's API (`/api/v1/studio/lists`): the districts, the
business activities... read from the services folder and written in the studio, where
every process and every draft sees them alike (`state.lists`).

A list is shared by every service naming it, so only an author not limited to some
services may change it; a change reaches a running service at its next publication (a
published version carries its lists filled in). A list with problems is refused, with
each problem at its line: every draft using it would be broken.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel

from dialogs.loader import read_list
from gateway.api.auth import actor, require
from gateway.api.deps import RuntimeDep
from gateway.api.errors import error
from gateway.api.studio import DiagnosticReport, IfMatch, revision_of
from gateway.catalog.repository import LISTS_DIRNAME
from gateway.studio.drafts import Diagnostic
from gateway.studio.lists import list_file, studio_lists
from state.access import Principal, Role
from state.audit import Action
from state.lists import ListConflictError, ListText

router = APIRouter(prefix="/studio/lists", tags=["studio"])
Author = Annotated[Principal, require(Role.AUTHOR)]
ListName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
NOT_FOUND = error(404, "No such list.")


class ListSummary(BaseModel):
    name: str
    title: str
    options: int
    origin: Literal["folder", "studio"]  # studio: written here, over any folder's file
    revision: int | None  # studio lists: what a change must name (If-Match)


class ListReport(BaseModel):
    name: str
    origin: Literal["folder", "studio"]
    revision: int | None
    source: str  # YAML, as `lists/<name>.yaml` holds it
    diagnostics: list[DiagnosticReport]


def _folder_text(runtime: RuntimeDep, name: str) -> str | None:
    path = runtime.services_dir / LISTS_DIRNAME / f"{name}.yaml"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _report(name: str, source: str, stored: ListText | None) -> ListReport:
    _, problems = read_list(source, list_file(name))
    return ListReport(
        name=name,
        origin="studio" if stored else "folder",
        revision=stored.revision if stored else None,
        source=source,
        diagnostics=[
            DiagnosticReport.model_validate(Diagnostic.of(p), from_attributes=True)
            for p in problems
        ],
    )


@router.get("")
async def lists(runtime: RuntimeDep, author: Author) -> list[ListSummary]:
    """Every shared list: the folder's, and those written in the studio over them."""
    stored = {text.name: text for text in await runtime.lists.all()}
    return [
        ListSummary(
            name=name,
            title=shared.title or name,
            options=len(shared.options),
            origin="studio" if name in stored else "folder",
            revision=stored[name].revision if name in stored else None,
        )
        for name, shared in sorted((await studio_lists(runtime)).items())
    ]


@router.get("/{name}", responses={404: NOT_FOUND})
async def shared_list(runtime: RuntimeDep, author: Author, name: ListName) -> ListReport:
    """A list's text, with its problems."""
    stored = await runtime.lists.get(name)
    source = stored.source if stored else _folder_text(runtime, name)
    if source is None:
        raise HTTPException(404, f"no list {name}")
    return _report(name, source, stored)


@router.put(
    "/{name}",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
    responses={
        403: error(403, "Only an author of every service changes a shared list."),
        409: error(409, "The list changed since that revision: see `current`."),
        422: error(422, "The list has problems: see `diagnostics`."),
    },
)
async def save_list(
    request: Request,
    runtime: RuntimeDep,
    author: Author,
    name: ListName,
    if_match: IfMatch = None,
) -> ListReport:
    """Write the list (YAML). Without If-Match, a first version of it in the studio
    (over the folder's file of that name, if any)."""
    body = await request.body()
    if author.services(Role.AUTHOR) is not None:
        raise HTTPException(403, "a shared list serves every service: an unlimited author")
    try:
        source = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(415, "the list is not UTF-8 text") from exc
    report = _report(name, source, None)
    if report.diagnostics:
        raise HTTPException(422, {"message": "the list has problems", **report.model_dump()})
    try:
        saved = await runtime.lists.save(
            name, source, revision=revision_of(if_match), by=actor(author)
        )
    except ListConflictError as exc:
        current = exc.current
        shown = _report(name, current.source, current).model_dump() if current else None
        raise HTTPException(
            409, {"message": "the list changed meanwhile", "current": shown}
        ) from exc
    detail = {"revision": saved.revision}
    await runtime.audit.record(actor(author), Action.LIST_SAVED, f"list:{name}", detail)
    return _report(name, saved.source, saved)
