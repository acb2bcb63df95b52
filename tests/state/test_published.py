"""Published service versions on SQLite and PostgreSQL (a database of this module's own):
numbers taken once, the head follows a publication, a folder's version is recorded once
however many processes record it and never lowers the head, a withdrawal empties it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.database import Database
from state.published import NewVersion, Origin, ServiceVersions, VersionTakenError
from tests.state.own_database import own_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with own_database(request.param, tmp_path, "gateway_published_test") as db:
        yield db


def _new(version: int, origin: Origin = "studio", service: str = "permit") -> NewVersion:
    source = f"id: {service}\nversion: {version}\n"
    return NewVersion(service, version, source, None, "{}", origin, "p@gov.bt", None)


async def test_a_publication_moves_the_head_and_a_number_is_taken_once(
    database: Database,
) -> None:
    versions = ServiceVersions(database)
    assert (await versions.live(), await versions.highest("permit")) == ([], 0)
    await versions.publish(_new(1))
    await versions.publish(_new(2))
    with pytest.raises(VersionTakenError):
        await versions.publish(_new(2))
    rolled = await versions.publish(_new(3, "rollback"))
    assert rolled.governed_here
    assert [v.version for v in await versions.live()] == [3]
    assert [v.version for v in await versions.history("permit")] == [3, 2, 1]
    assert await versions.highest("permit") == 3
    found = await versions.get("permit", 1)
    assert found is not None
    assert found.source == "id: permit\nversion: 1\n"


async def test_the_folder_is_recorded_once_and_never_lowers_the_head(database: Database) -> None:
    versions = ServiceVersions(database)
    # Three processes starting at once record the same version of the folder.
    made = await asyncio.gather(*(versions.record(_new(1, "folder")) for _ in range(3)))
    assert sum(made) == 1
    assert await versions.governed() == []  # the folder governs it
    await versions.publish(_new(2))  # the studio takes it over
    assert not await versions.record(_new(1, "folder"))
    assert await versions.head("permit") == 2
    assert [v.version for v in await versions.governed()] == [2]
    await versions.withdraw("permit", 2)  # the database governs it: not withdrawn
    assert await versions.head("permit") == 2
    await versions.record(_new(1, "folder", service="bus"))
    await versions.withdraw("bus", 3)  # not the version it runs
    assert await versions.head("bus") == 1
    await versions.withdraw("bus", 1)
    assert await versions.head("bus") is None
    assert [v.service for v in await versions.live()] == ["permit"]
