"""Civil servants' accounts: one suite on a new SQLite file and on the real PostgreSQL.

Most tests hash with cheap argon2id parameters (the suite would otherwise spend seconds
on 64 MiB hashes); one checks the parameters a real store uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from state.access import AccountError, Grant, Role, password_problem
from state.accounts import AccountRoleRow, AccountRow, AccountStore
from state.database import MIGRATIONS, Database, database_url

PASSWORD = "correct horse battery staple"
CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class CountingHasher(PasswordHasher):
    """A cheap argon2id hasher that counts the hashes it checks."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{**CHEAP, **options})
        self.checked = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.checked += 1
        return super().verify(hash, password)


@pytest.fixture
def store(database: Database) -> AccountStore:
    return AccountStore(database, CountingHasher())


async def stored_hash(database: Database, email: str) -> str:
    async with database.sessions() as session:
        found = await session.scalar(
            select(AccountRow.password_hash).where(AccountRow.email == email)
        )
    assert found is not None
    return found


async def test_an_account_is_stored_lower_case_with_an_argon2id_hash(
    store: AccountStore, database: Database
) -> None:
    account = await store.add("  Pema.Dorji@Gov.BT ", PASSWORD, [Grant(Role.ADMINISTRATOR)])
    assert account.email == "pema.dorji@gov.bt"
    assert not account.disabled
    assert account.last_sign_in_at is None
    assert account.grants == (Grant(Role.ADMINISTRATOR),)
    hashed = await stored_hash(database, "pema.dorji@gov.bt")
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert not hasattr(account, "password_hash")  # an Account can be shown: no hash in it


def test_a_real_store_hashes_with_rfc_9106_parameters(tmp_path: Path) -> None:
    store = AccountStore(Database(database_url(None, tmp_path)))  # never connects here
    assert store.hasher.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


async def test_emails_are_case_insensitive_and_unique(store: AccountStore) -> None:
    await store.add("sonam@gov.bt", PASSWORD, [Grant(Role.ANALYST)])
    found = await store.get_by_email("SONAM@gov.BT")
    assert found is not None
    assert found.email == "sonam@gov.bt"
    with pytest.raises(AccountError, match="has an account already"):
        await store.add("Sonam@Gov.bt", PASSWORD, [Grant(Role.ANALYST)])
    assert await store.verify_password("SoNaM@gov.bt", PASSWORD) == found


@pytest.mark.parametrize("email", ["", "sonam", "so nam@gov.bt", "a@b@c", "@gov.bt"])
async def test_what_is_not_an_email_address_is_refused(store: AccountStore, email: str) -> None:
    with pytest.raises(AccountError, match="not an email address"):
        await store.add(email, PASSWORD, [Grant(Role.ANALYST)])


async def test_a_password_verifies_only_its_own_enabled_account(store: AccountStore) -> None:
    await store.add("karma@gov.bt", PASSWORD, [Grant(Role.OFFICER, "births")])
    assert await store.verify_password("karma@gov.bt", PASSWORD) is not None
    assert await store.verify_password("karma@gov.bt", PASSWORD + "!") is None
    assert await store.verify_password("nobody@gov.bt", PASSWORD) is None
    assert await store.verify_password("not an address", PASSWORD) is None
    assert (await store.disable("karma@gov.bt")).disabled
    assert await store.verify_password("karma@gov.bt", PASSWORD) is None
    assert not (await store.enable("KARMA@gov.bt")).disabled
    assert await store.verify_password("karma@gov.bt", PASSWORD) is not None


async def test_an_unknown_email_costs_a_hash_check_as_a_known_one_does(
    database: Database,
) -> None:
    hasher = CountingHasher()
    store = AccountStore(database, hasher)
    await store.add("karma@gov.bt", PASSWORD, [Grant(Role.ANALYST)])
    for email in ("karma@gov.bt", "nobody@gov.bt", "not an address"):
        hasher.checked = 0
        await store.verify_password(email, "wrong password here")
        assert hasher.checked == 1, email
    await store.disable("karma@gov.bt")
    hasher.checked = 0
    await store.verify_password("karma@gov.bt", PASSWORD)
    assert hasher.checked == 1  # a disabled account too: nothing tells it apart


async def test_a_hash_with_old_parameters_is_upgraded_at_the_next_sign_in(
    database: Database,
) -> None:
    await AccountStore(database, CountingHasher()).add("tashi@gov.bt", PASSWORD, [])
    old = await stored_hash(database, "tashi@gov.bt")
    stronger = AccountStore(database, CountingHasher(time_cost=2, memory_cost=2048))
    assert await stronger.verify_password("tashi@gov.bt", PASSWORD) is not None
    new = await stored_hash(database, "tashi@gov.bt")
    assert "m=1024,t=1" in old
    assert new.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert await stronger.verify_password("tashi@gov.bt", PASSWORD) is not None
    assert await stored_hash(database, "tashi@gov.bt") == new  # up to date: left alone


async def test_a_reset_password_replaces_the_old_one(store: AccountStore) -> None:
    await store.add("dechen@gov.bt", PASSWORD, [Grant(Role.AUTHOR)])
    await store.set_password("Dechen@gov.bt", "a brand new passphrase")
    assert await store.verify_password("dechen@gov.bt", PASSWORD) is None
    assert await store.verify_password("dechen@gov.bt", "a brand new passphrase") is not None
    with pytest.raises(AccountError, match="no account"):
        await store.set_password("nobody@gov.bt", "a brand new passphrase")


@pytest.mark.parametrize(
    "password", ["short", "eleven char", "CHANGE-ME-later-please", "password1234", "a" * 20]
)
async def test_weak_passwords_are_refused(store: AccountStore, password: str) -> None:
    assert password_problem(password) is not None
    with pytest.raises(AccountError):
        await store.add("ugyen@gov.bt", password, [Grant(Role.ANALYST)])
    assert await store.get_by_email("ugyen@gov.bt") is None


async def test_service_limits_are_stored_and_read(store: AccountStore, database: Database) -> None:
    grants = [Grant(Role.OFFICER, "births"), Grant(Role.OFFICER, "land"), Grant(Role.ANALYST)]
    account = await store.add("kinley@gov.bt", PASSWORD, grants)
    assert account.grants == (
        Grant(Role.OFFICER, "births"),
        Grant(Role.OFFICER, "land"),
        Grant(Role.ANALYST),
    )
    assert account.may(Role.OFFICER, "births")
    assert not account.may(Role.OFFICER, "drones")
    assert account.may(Role.ANALYST, "drones")  # not limited: every service
    assert not account.may(Role.PUBLISHER)
    async with database.sessions() as session:
        rows = (await session.execute(select(AccountRoleRow.role, AccountRoleRow.service))).all()
    assert sorted(rows, key=str) == sorted(
        [("officer", "births"), ("officer", "land"), ("analyst", None)], key=str
    )


async def test_only_officers_and_authors_can_be_limited(store: AccountStore) -> None:
    with pytest.raises(AccountError, match="publisher cannot be limited"):
        await store.add("yeshi@gov.bt", PASSWORD, [Grant(Role.PUBLISHER, "births")])
    await store.add("yeshi@gov.bt", PASSWORD, [Grant(Role.AUTHOR, "births")])
    with pytest.raises(AccountError, match="administrator cannot be limited"):
        await store.grant("yeshi@gov.bt", Grant(Role.ADMINISTRATOR, "births"))


async def test_granting_and_revoking_roles(store: AccountStore) -> None:
    email = "jigme@gov.bt"
    await store.add(email, PASSWORD, [Grant(Role.OFFICER, "births")])
    assert await store.grant(email, Grant(Role.OFFICER, "land"))
    assert not await store.grant(email, Grant(Role.OFFICER, "land"))  # held already
    assert await store.revoke(email, Role.OFFICER, "births") == 1
    account = await store.get_by_email(email)
    assert account is not None
    assert account.grants == (Grant(Role.OFFICER, "land"),)
    # Every service: the limited grant says nothing more and goes.
    assert await store.grant(email, Grant(Role.OFFICER))
    assert not await store.grant(email, Grant(Role.OFFICER, "drones"))
    assert await store.grant(email, Grant(Role.PUBLISHER))
    account = await store.get_by_email(email)
    assert account is not None
    assert account.grants == (Grant(Role.OFFICER), Grant(Role.PUBLISHER))
    assert await store.revoke(email, Role.OFFICER) == 1
    assert await store.revoke(email, Role.ANALYST) == 0
    with pytest.raises(AccountError, match="no account"):
        await store.grant("nobody@gov.bt", Grant(Role.ANALYST))


async def test_repeated_grants_at_creation_are_stored_once(store: AccountStore) -> None:
    grants = [Grant(Role.AUTHOR, "land"), Grant(Role.AUTHOR), Grant(Role.AUTHOR)]
    account = await store.add("choki@gov.bt", PASSWORD, grants)
    assert account.grants == (Grant(Role.AUTHOR),)


async def test_the_list_is_by_email_and_sign_ins_are_recorded(store: AccountStore) -> None:
    await store.add("zangmo@gov.bt", PASSWORD, [Grant(Role.ANALYST)])
    await store.add("Bumthap@gov.bt", PASSWORD, [Grant(Role.ADMINISTRATOR)])
    account = await store.verify_password("zangmo@gov.bt", PASSWORD)
    assert account is not None
    await store.record_sign_in(account.id)
    listed = await store.list()
    assert [a.email for a in listed] == ["bumthap@gov.bt", "zangmo@gov.bt"]
    assert listed[0].last_sign_in_at is None
    assert listed[1].last_sign_in_at is not None


# ---------------------------------------------------------------------- migration


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_the_migration_adds_the_accounts_to_the_current_schema(database: Database) -> None:
    """From 0004 (the schema before accounts), with data in it, up to head and back."""
    async with database.engine.begin() as connection:
        await connection.run_sync(_alembic, "downgrade", "0004")
        assert not {"accounts", "account_roles"} & await connection.run_sync(_tables)
        await connection.execute(
            text(
                "INSERT INTO opt_outs (address, opted_out, channel, updated_at) "
                "VALUES ('+97517123456', true, 'sms', '2026-01-01 00:00:00')"
            )
        )
    await database.migrate()
    async with database.engine.connect() as connection:
        assert {"accounts", "account_roles"} <= await connection.run_sync(_tables)
        kept = await connection.scalar(text("SELECT count(*) FROM opt_outs"))
    assert kept == 1
    store = AccountStore(database, CountingHasher())
    await store.add("first.admin@gov.bt", PASSWORD, [Grant(Role.ADMINISTRATOR)])
    assert await store.verify_password("first.admin@gov.bt", PASSWORD) is not None
