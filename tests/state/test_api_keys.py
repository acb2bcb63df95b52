"""Machines' API keys: one suite on a new SQLite file and on the real PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from state.access import AccountError, Grant, Principal, Role
from state.api_keys import ApiKeyError, ApiKeyGrantRow, ApiKeyRow, ApiKeyStore
from state.database import Database
from tests.state.own_database import own_database

CREATOR = "cli:root"
START = datetime(2026, 3, 1, 9, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with own_database(request.param, tmp_path, "gateway_api_keys_test") as db:
        yield db


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database: Database, clock: Clock) -> ApiKeyStore:
    return ApiKeyStore(database, clock)


async def test_the_secret_is_shown_once_and_stored_as_its_sha256(
    store: ApiKeyStore, database: Database
) -> None:
    key, secret = await store.add("Back-Office", [Grant(Role.OFFICER, "births")], CREATOR)
    assert secret.startswith("gwk_")
    assert len(secret) == 4 + 43  # 32 random bytes, url-safe base64
    assert key.name == "back-office"
    assert key.prefix == secret[:12]
    assert key.grants == (Grant(Role.OFFICER, "births"),)
    assert key.created_by == CREATOR
    assert key.created_at == START
    assert not key.revoked
    async with database.sessions() as session:
        (row,) = (await session.scalars(select(ApiKeyRow))).all()
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.__dict__)
    assert secret not in repr(key)


async def test_a_key_authenticates_as_its_principal_until_revoked(store: ApiKeyStore) -> None:
    key, secret = await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)
    found = await store.authenticate(secret)
    assert found is not None
    assert found.principal() == Principal("dashboard", (Grant(Role.ANALYST),))
    assert found.principal().may(Role.ANALYST)
    assert not found.principal().may(Role.ADMINISTRATOR)
    assert await store.revoke("Dashboard")
    assert not await store.revoke("dashboard")  # revoked already
    assert await store.authenticate(secret) is None
    (listed,) = await store.list()
    assert listed.revoked  # kept, never deleted
    assert listed.id == key.id


@pytest.mark.parametrize(
    "given",
    ["", "gwk_", "Bearer x", "gwk_" + "A" * 42, "gwk_" + "A" * 44, "gwk_" + "!" * 43, "x" * 5000],
)
async def test_what_is_no_key_is_refused(store: ApiKeyStore, given: str) -> None:
    await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)
    assert await store.authenticate(given) is None


async def test_a_wrong_secret_of_the_right_shape_is_refused(store: ApiKeyStore) -> None:
    _, secret = await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert await store.authenticate(wrong) is None


async def test_last_use_is_recorded_at_most_once_a_minute(store: ApiKeyStore, clock: Clock) -> None:
    _, secret = await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)
    assert (await store.list())[0].last_used_at is None
    await store.authenticate(secret)
    assert (await store.list())[0].last_used_at == START
    clock.at = START + timedelta(seconds=59)
    await store.authenticate(secret)
    assert (await store.list())[0].last_used_at == START  # not written again
    clock.at = START + timedelta(seconds=61)
    await store.authenticate(secret)
    assert (await store.list())[0].last_used_at == clock.at


async def test_names_are_unique_even_after_revocation(store: ApiKeyStore) -> None:
    await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)
    with pytest.raises(ApiKeyError, match="a key named dashboard exists already"):
        await store.add("DASHBOARD", [Grant(Role.ANALYST)], CREATOR)
    await store.revoke("dashboard")
    with pytest.raises(ApiKeyError, match="exists already"):
        await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)


@pytest.mark.parametrize("name", ["", "  ", "back office", "-x", "é", "a/b", "k" * 65, "a;drop"])
async def test_bad_names_are_refused_clearly(store: ApiKeyStore, name: str) -> None:
    with pytest.raises(AccountError, match="is not a key name: use 1 to 64 letters"):
        await store.add(name, [Grant(Role.ANALYST)], CREATOR)
    assert await store.list() == []


async def test_only_officer_and_author_are_limited_and_a_role_is_needed(
    store: ApiKeyStore,
) -> None:
    with pytest.raises(AccountError, match="publisher cannot be limited"):
        await store.add("ci", [Grant(Role.PUBLISHER, "births")], CREATOR)
    with pytest.raises(ApiKeyError, match="needs at least one role"):
        await store.add("ci", [], CREATOR)
    assert await store.list() == []


async def test_grants_are_merged_and_stored_per_role(
    store: ApiKeyStore, database: Database
) -> None:
    grants = [Grant(Role.OFFICER, "land"), Grant(Role.OFFICER), Grant(Role.AUTHOR, "births")]
    key, _ = await store.add("ops", [*grants, Grant(Role.PUBLISHER)], CREATOR)
    assert key.grants == (Grant(Role.OFFICER), Grant(Role.AUTHOR, "births"), Grant(Role.PUBLISHER))
    assert key.principal().services(Role.AUTHOR) == frozenset({"births"})
    assert key.principal().services(Role.OFFICER) is None
    async with database.sessions() as session:
        rows = (await session.execute(select(ApiKeyGrantRow.role, ApiKeyGrantRow.service))).all()
    assert sorted(rows, key=str) == sorted(
        [("officer", None), ("author", "births"), ("publisher", None)], key=str
    )


async def test_revoking_an_unknown_key_is_refused(store: ApiKeyStore) -> None:
    with pytest.raises(ApiKeyError, match="no key named ghost"):
        await store.revoke("ghost")


async def test_the_list_is_by_name(store: ApiKeyStore) -> None:
    await store.add("zeta", [Grant(Role.ANALYST)], CREATOR)
    await store.add("alpha", [Grant(Role.ADMINISTRATOR)], CREATOR)
    assert [key.name for key in await store.list()] == ["alpha", "zeta"]
    assert await store.get("ALPHA") is not None
    assert await store.get("not a name") is None


async def test_any_active_is_false_once_every_key_is_revoked(store: ApiKeyStore) -> None:
    assert not await store.any_active()
    await store.add("dashboard", [Grant(Role.ANALYST)], CREATOR)
    assert await store.any_active()
    await store.revoke("dashboard")
    assert not await store.any_active()
