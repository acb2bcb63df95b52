"""`gateway import DIR` and `gateway export DIR`: services between a folder (a Git
repository, say) and the database that every process runs them from.

Export writes each live service's definition and tests exactly as they were published,
byte for byte, with the shared lists as they are now, and removes the definitions, tests
and lists of the folder that are no longer live: the folder is what runs, running it twice
writes nothing new, and `gateway check DIR` and `gateway test DIR` read it as they read
`services/`. (A service published before a list changed runs the list it was published
with until it is published again; its tests then meet today's list.)

Import publishes each definition of the folder whose version is new, as the studio does
(numbers only go up; the same number with other text is refused; the same text is
unchanged, whatever the lists say now), then tells the running processes, which offer it
within seconds (`GATEWAY_REDIS_URL`; with the embedded Redis, at the gateway's next start
or reload).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.cli.stores import cli_actor, on_database
from gateway.settings import Settings

if TYPE_CHECKING:  # SQLAlchemy loads when a command runs, not with the CLI
    from state.database import Database

Folder = Annotated[Path, typer.Argument(help="The folder of definitions.")]


@dataclass(frozen=True, slots=True)
class Imported:
    service: str
    outcome: str  # published, unchanged or refused
    detail: str


def export_services(folder: Folder) -> None:
    """Write every live service and its tests into FOLDER, as published, with the shared
    lists (the services folder's, and over them those written in the studio); remove
    what is no longer live."""
    from gateway.catalog.repository import LISTS_DIRNAME
    from state.lists import ListStore
    from state.published import ServiceVersions

    texts: dict[Path, str] = {}
    lists = Settings().services_dir / LISTS_DIRNAME
    if lists.is_dir():
        for path in sorted(lists.glob("*.yaml")):
            texts[folder / LISTS_DIRNAME / path.name] = path.read_text(encoding="utf-8")

    async def work(database: Database) -> None:
        for version in await ServiceVersions(database).live():
            texts[folder / f"{version.service}.yaml"] = version.source
            if version.tests is not None:
                texts[folder / f"{version.service}.tests.yaml"] = version.tests
        for shared in await ListStore(database).all():
            texts[folder / LISTS_DIRNAME / f"{shared.name}.yaml"] = shared.source

    on_database("export", work)
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(texts):
        name, changed = _write(path, texts[path])
        typer.echo(f"{'wrote' if changed else 'unchanged'} {name}")
    # What an earlier export wrote of a service withdrawn since (or a list gone): left
    # there, it would be published again by whoever reloads this folder.
    for path in sorted([*folder.glob("*.yaml"), *(folder / LISTS_DIRNAME).glob("*.yaml")]):
        if path not in texts:
            path.unlink()
            typer.echo(f"removed {path}")


def _write(path: Path, text: str) -> tuple[str, bool]:
    """Write `text` unless the file holds it already (its time then stays as it was)."""
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return str(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)  # bytes: no newline translation, whatever the platform
    return str(path), True


def import_services(folder: Folder) -> None:
    """Publish each definition of FOLDER whose version is new."""
    from gateway.catalog.repository import TESTS_SUFFIX, load_repository
    from gateway.catalog.versions import dump
    from state.published import NewVersion, ServiceVersions, VersionTakenError

    if not folder.is_dir():
        typer.echo(f"gateway import: {folder} is not a folder", err=True)
        raise typer.Exit(2)
    repository = load_repository([folder])
    by = cli_actor()

    async def work(database: Database) -> list[Imported]:
        versions = ServiceVersions(database)
        done: list[Imported] = []
        for loaded in repository.loaded:
            service = repository.catalog.get(loaded.service_id)
            errors = [p for p in loaded.problems if p.severity == "error"]
            if service is None or errors:
                first = errors[0].message if errors else "it cannot be read"
                done.append(Imported(loaded.service_id, "refused", f"checker errors: {first}"))
                continue
            content = dump(service)
            same = await versions.get(service.id, service.version)
            highest = await versions.highest(service.id)
            text = Path(loaded.file).read_text(encoding="utf-8")
            if same is not None:
                # The same text is the same version, even if a shared list changed since
                # it was published (it runs the list it was published with).
                unchanged = same.source == text or same.definition == content
                detail = "" if unchanged else "other content: raise the version"
                done.append(Imported(service.id, "unchanged" if unchanged else "refused", detail))
                continue
            if service.version < highest:
                detail = f"version {service.version} is older than {highest}: raise the version"
                done.append(Imported(service.id, "refused", detail))
                continue
            path = Path(loaded.file)
            tests = path.with_name(path.name.removesuffix(".yaml") + TESTS_SUFFIX)
            try:
                await versions.publish(
                    NewVersion(
                        service.id,
                        service.version,
                        text,
                        tests.read_text(encoding="utf-8") if tests.is_file() else None,
                        content,
                        "import",
                        by,
                    )
                )
            except VersionTakenError:  # published by someone else this very moment
                done.append(Imported(service.id, "refused", "published meanwhile: try again"))
                continue
            done.append(Imported(service.id, "published", f"version {service.version}"))
        return done

    done = on_database("import", work)
    for item in done:
        typer.echo(f"{item.outcome} {item.service}" + (f": {item.detail}" if item.detail else ""))
    if any(item.outcome == "published" for item in done):
        typer.echo(_tell_processes())
    if any(item.outcome == "refused" for item in done):
        raise typer.Exit(1)


def _tell_processes() -> str:
    """Have every running process reload (the services generation moves)."""
    from redis.exceptions import RedisError

    from gateway.catalog.reload import bump_generation
    from state.connect import connect

    url = Settings().redis_url
    if not url:
        return "the gateway offers them at its next start or reload (embedded Redis)"

    async def bump() -> int:
        client = connect(url)
        try:
            return await bump_generation(client)
        finally:
            await client.aclose()

    try:
        generation = asyncio.run(bump())
    except (RedisError, OSError) as exc:
        return f"Redis could not be told ({exc}): the gateway offers them at its next reload"
    return f"running processes reload (services generation {generation})"
