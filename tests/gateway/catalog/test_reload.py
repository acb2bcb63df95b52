"""Publishing `services/` without a restart: through the running app (web chat and the
admin API) on a copy of the shipped services, and two processes' conversation services
converging through the generation counter on Redis (a database leased to each test).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialogs.media import Medium
from dialogs.session import Snapshot
from gateway.catalog.changes import DATABASE, ReloadReport, ServiceChange
from gateway.catalog.reload import (
    GENERATION_KEY,
    announce,
    follow_reloads,
    merge,
    reload_services,
    start_catalog,
)
from gateway.catalog.repository import folder_digest, load_repository
from gateway.catalog.versions import PUBLISHED_KEY, VERSIONS_KEY, record_published
from gateway.conversations.effects import nothing_understood
from gateway.conversations.messages import Message
from gateway.conversations.service import Conversations
from gateway.conversations.understanding import swap_embedded
from gateway.runtime import Runtime
from nlu.embedded import EmbeddedClassifier
from nlu.rasa_client import RasaClassifier
from state.connect import connect
from state.store import SessionStore
from tests.dialogs.helpers import CENSUS_MOBILE
from tests.gateway.providers.apps import Effects, gateway, prove_number
from tests.redis_databases import RedisDatabase

ROOT = Path(__file__).resolve().parents[3]
ADMIN = "admin-reload-7d1e4c9b2a"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
SERVICE = "business-registration"
V1_TYPE = "Type of business"
V2_TYPE = "Kind of business"
NEW_PHRASE = "quokkadrome"  # in no definition until v2 adds it as an example
# To the business name step, where the next screen is the type of business.
TO_NAME = ["", "2", "11501001234"]


@pytest.fixture
def services(tmp_path: Path) -> Path:
    folder = tmp_path / "services"
    shutil.copytree(ROOT / "services", folder)
    return folder


def definition(folder: Path) -> Path:
    return folder / f"{SERVICE}.yaml"


def edit(folder: Path, old: str, new: str) -> None:
    path = definition(folder)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def version_2(folder: Path) -> None:
    """A new version: another wording of the type question, and a new example phrase."""
    edit(folder, "version: 1", "version: 2")
    edit(folder, f"prompt: {{en: {V1_TYPE},", f"prompt: {{en: {V2_TYPE},")
    edit(
        folder,
        "    - register a new business\n",
        f"    - register a new business\n    - {NEW_PHRASE}\n",
    )


def broken_version_3(folder: Path) -> None:
    """A checker error (E211: a template names no step) in an otherwise valid file."""
    edit(folder, "version: 2", "version: 3")
    edit(folder, f"prompt: {{en: {V2_TYPE},", 'prompt: {en: "Type {{ answers.nosuch }}",')


def say(client: TestClient, user: str, text: str) -> list[str]:
    prove_number(client, f"web:{user}")  # as if proved by a code before
    response = client.post("/channels/web/messages", json={"user": user, "text": text})
    assert response.status_code == 200, response.text
    return [reply["text"] for reply in response.json()["replies"]]


def pinned_version(client: TestClient, user: str) -> int:
    assert client.portal is not None
    store = Runtime.of(client.app).conversations.store
    record = client.portal.call(store.read, f"web:{user}")
    assert record is not None
    return Snapshot.from_json(record.snapshot).version


def reload(client: TestClient) -> tuple[int, dict[str, Any]]:
    response = client.post("/api/v1/admin/services/reload", headers=AUTH)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def outcome(body: dict[str, Any], service: str = SERVICE) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["services"] if s["service"] == service)
    return found


def listing(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/admin/services", headers=AUTH)
    assert response.status_code == 200, response.text
    return {s["id"]: s for s in response.json()}


@contextlib.contextmanager
def app(services: Path, database: RedisDatabase) -> Iterator[TestClient]:
    with gateway(database.number, services_dir=services, admin_token=ADMIN) as (client, _):
        yield client


# ---- through the app ----------------------------------------------------------------------


def test_a_conversation_stays_on_its_version_while_a_new_citizen_gets_the_new_one(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    with app(services, redis_database) as client:
        for text in TO_NAME:
            say(client, "citizen-early", text)
        assert pinned_version(client, "citizen-early") == 1

        version_2(services)
        status, body = reload(client)
        assert status == 200, body
        assert outcome(body) | {"problems": []} == {
            "service": SERVICE,
            "outcome": "published",
            "version": 2,
            "previous": 1,
            "file": str(definition(services)),
            "reason": "",
            "problems": [],
        }
        assert outcome(body, "drone-flight-authorization")["outcome"] == "unchanged"
        assert body["refused"] == []
        assert body["generation"] == 1

        # Started on v1: it goes on with v1's wording, and stays pinned to v1.
        assert say(client, "citizen-early", "Pema Store")[-1].startswith(V1_TYPE)
        assert pinned_version(client, "citizen-early") == 1
        # A citizen starting now gets v2.
        for text in TO_NAME:
            say(client, "citizen-late", text)
        assert say(client, "citizen-late", "Dorji Store")[-1].startswith(V2_TYPE)
        assert pinned_version(client, "citizen-late") == 2

        # The early citizen finishes on v1.
        for text in ["1", "2", "14", "17123456", "1"]:
            say(client, "citizen-early", text)
        assert say(client, "citizen-early", "1")[-1].startswith("Registered! Number")

        services_now = listing(client)
        assert services_now[SERVICE]["published"] == 2
        assert services_now[SERVICE]["running"] == [1, 2]
        assert services_now[SERVICE]["folder_version"] == 2
        assert services_now[SERVICE]["on_reload"] == {"outcome": "unchanged", "reason": ""}
        assert services_now[SERVICE]["title"] == "Register a business"
        assert services_now["drone-flight-authorization"]["running"] == [1]


def test_a_broken_definition_is_refused_and_the_running_version_goes_on(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    with app(services, redis_database) as client:
        version_2(services)
        assert reload(client)[0] == 200
        broken_version_3(services)

        status, body = reload(client)

        assert status == 422
        assert body["refused"] == [SERVICE]
        refused = outcome(body)
        assert refused["outcome"] == "refused"
        assert (refused["version"], refused["previous"]) == (2, 2)
        assert [p["code"] for p in refused["problems"]] == ["E211"]
        assert outcome(body, "bus-service-permit")["outcome"] == "unchanged"
        for text in TO_NAME:
            say(client, "citizen-1", text)
        assert say(client, "citizen-1", "Pema Store")[-1].startswith(V2_TYPE)
        shown = listing(client)[SERVICE]
        assert (shown["published"], shown["running"], shown["folder_version"]) == (2, [1, 2], 3)
        assert "E211" in [p["code"] for p in shown["problems"]]
        assert shown["on_reload"] == {
            "outcome": "refused",
            "reason": "checker errors; version 2 goes on",
        }


def test_an_unreadable_file_is_refused_and_withdraws_nothing(
    services: Path, redis_database: RedisDatabase
) -> None:
    with app(services, redis_database) as client:
        definition(services).write_text("format: 1\nid: [unclosed\n", encoding="utf-8")
        (services / "drone-flight-authorization.yaml").unlink()

        status, body = reload(client)

        assert status == 422
        assert outcome(body)["outcome"] == "refused"
        assert outcome(body)["problems"][0]["code"] == "E001"
        kept = outcome(body, "drone-flight-authorization")
        assert (kept["outcome"], kept["version"]) == ("kept", 1)
        say(client, "citizen-1", "")
        assert say(client, "citizen-1", "2") == ["Enter your citizenship ID (11 digits)"]


def test_the_same_version_with_other_content_is_refused(
    services: Path, redis_database: RedisDatabase
) -> None:
    with app(services, redis_database) as client:
        edit(services, f"prompt: {{en: {V1_TYPE},", f"prompt: {{en: {V2_TYPE},")

        status, body = reload(client)

        assert status == 422
        refused = outcome(body)
        assert (refused["outcome"], refused["version"]) == ("refused", 1)
        assert "raise the version" in refused["reason"]
        for text in TO_NAME:
            say(client, "citizen-1", text)
        assert say(client, "citizen-1", "Pema Store")[-1].startswith(V1_TYPE)


def test_an_older_version_number_is_refused(services: Path, redis_database: RedisDatabase) -> None:
    with app(services, redis_database) as client:
        version_2(services)
        reload(client)
        edit(services, "version: 2", "version: 1")
        edit(services, f"prompt: {{en: {V2_TYPE},", f"prompt: {{en: {V1_TYPE},")
        edit(services, f"    - {NEW_PHRASE}\n", "")

        status, body = reload(client)

        assert status == 422
        assert "older than the published 2" in outcome(body)["reason"]
        assert listing(client)[SERVICE]["published"] == 2


def test_a_removed_service_is_withdrawn_while_its_conversations_go_on(
    services: Path, redis_database: RedisDatabase
) -> None:
    with app(services, redis_database) as client:
        for text in TO_NAME:
            say(client, "citizen-early", text)
        definition(services).unlink()

        status, body = reload(client)

        assert status == 200
        assert outcome(body) | {"reason": ""} == {
            "service": SERVICE,
            "outcome": "withdrawn",
            "version": None,
            "previous": 1,
            "file": "",
            "reason": "",
            "problems": [],
        }
        assert say(client, "citizen-early", "Pema Store")[-1].startswith(V1_TYPE)
        menu = say(client, "citizen-new", "")[0]
        assert "Register a business" not in menu
        shown = listing(client)[SERVICE]
        assert (shown["published"], shown["running"], shown["file"]) == (None, [1], None)


def test_nothing_changed_is_a_200_that_changes_nothing(
    services: Path, redis_database: RedisDatabase
) -> None:
    with app(services, redis_database) as client:
        before = Runtime.of(client.app).conversations.catalog
        status, body = reload(client)
        assert status == 200
        assert body["changed"] is False
        assert {s["outcome"] for s in body["services"]} == {"unchanged"}
        assert Runtime.of(client.app).conversations.catalog is before


def test_the_nlu_learns_new_example_phrases_on_reload(
    services: Path, redis_database: RedisDatabase
) -> None:
    with app(services, redis_database) as client:
        assert say(client, "citizen-first", NEW_PHRASE)[0] == "Government services. Choose one:"
        version_2(services)
        assert reload(client)[0] == 200
        assert say(client, "citizen-second", NEW_PHRASE) == [
            "Enter your citizenship ID (11 digits)"
        ]


def test_the_admin_routes_need_the_token(services: Path, redis_database: RedisDatabase) -> None:
    with app(services, redis_database) as client:
        assert client.get("/api/v1/admin/services").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/api/v1/admin/services/reload", headers=wrong).status_code == 401


# ---- the classifier swap ------------------------------------------------------------------


def test_behind_rasa_only_the_fallback_is_swapped(services: Path) -> None:
    catalog = load_repository([services]).catalog
    old, new = EmbeddedClassifier.from_catalog(catalog), EmbeddedClassifier.from_catalog(catalog)
    rasa = RasaClassifier("http://127.0.0.1:9", fallback=old)
    assert swap_embedded(rasa.classify, new) == rasa.classify
    assert rasa.fallback is new
    assert swap_embedded(old.classify, new) == new.classify
    assert swap_embedded(nothing_understood, new) is nothing_understood


def test_a_merge_is_pure(services: Path) -> None:
    running = load_repository([services]).catalog
    version_2(services)
    merged, report = merge(running, load_repository([services]))
    assert running.published[SERVICE] == 1
    assert merged.published[SERVICE] == 2
    assert sorted(merged.versions[SERVICE]) == [1, 2]
    assert report.changed


def test_a_version_the_database_governs_wins_until_the_file_is_raised_past_it(
    services: Path,
) -> None:
    """The studio published version 2 of a service whose file says 1: the database's
    version runs, a reload of the folder neither refuses nor withdraws it (even with its
    file gone), and a file raised to 3 takes the service back."""
    running = load_repository([services]).catalog
    version_2(services)
    studio = load_repository([services]).catalog.get(SERVICE)
    assert studio is not None
    edit(services, "version: 2", "version: 1")
    merged, report = merge(running, load_repository([services]), [studio])
    assert merged.published[SERVICE] == 2
    change = report.outcome(SERVICE)
    assert change is not None
    assert (change.outcome, change.file) == ("published", DATABASE)
    definition(services).unlink()
    kept, report = merge(merged, load_repository([services]), [studio])
    assert kept.published[SERVICE] == 2
    assert report.outcome(SERVICE) == ServiceChange(SERVICE, "unchanged", 2, 2, DATABASE)
    shutil.copy(ROOT / "services" / f"{SERVICE}.yaml", definition(services))
    edit(services, "version: 1", "version: 3")
    raised, report = merge(kept, load_repository([services]), [studio])
    assert raised.published[SERVICE] == 3
    assert sorted(raised.versions[SERVICE]) == [1, 2, 3]


# ---- several processes ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def process(
    database: RedisDatabase, services: Path, started: list[ReloadReport] | None = None
) -> AsyncIterator[Conversations]:
    """The conversation service of one API process on `database`, as main.py builds it
    (`started` receives what its start did with the folder)."""
    store = SessionStore(connect(database.url))
    try:
        catalog, report = await start_catalog(store.client, load_repository([services]))
        if started is not None:
            started.append(report)
        classifier = EmbeddedClassifier.from_catalog(catalog)
        effects = Effects()
        yield Conversations(
            catalog,
            store,
            submit=effects.submit,
            lookup=effects.lookup,
            classify=classifier.classify,
        )
    finally:
        await store.close()


async def answer(conversations: Conversations, citizen: str, text: str) -> str:
    await conversations.store.set_phone(citizen, CENSUS_MOBILE, 3600)  # proved before
    replies = await conversations.handle(Message(citizen, Medium.WEB, text))
    return replies[-1].text


async def until(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def following(
    conversations: Conversations, folder: Path, **options: Any
) -> AsyncIterator[list[ReloadReport]]:
    """`follow_reloads` running for `conversations` (looking every 20 ms): the reports of
    the reloads it made."""
    followed: list[ReloadReport] = []
    follower = asyncio.create_task(
        follow_reloads(conversations, folder, 0.02, reloaded=followed.append, **options)
    )
    try:
        yield followed
        assert not follower.done(), "the follower must never stop on its own"
    finally:
        follower.cancel()
        # Within a turn, even when redis-py's wait_for lost the cancellation (it once
        # stalled a whole test run here: state/cancellation.py).
        stopped, _ = await asyncio.wait({follower}, timeout=5)
        assert stopped, "the follower did not stop when cancelled"
        with contextlib.suppress(asyncio.CancelledError):
            await follower


async def test_another_process_follows_a_reload(
    services: Path, redis_database: RedisDatabase
) -> None:
    async with (
        process(redis_database, services) as first,
        process(redis_database, services) as second,
        following(second, services) as followed,
    ):
        await asyncio.sleep(0.1)  # generation 0: nothing to catch up with
        assert followed == []
        version_2(services)
        report = await reload_services(first, services)
        assert report.outcome(SERVICE) is not None
        assert await announce(first, report.digest) == 1

        await until(lambda: len(followed) == 1)
        assert second.catalog.published.get(SERVICE) == 2
        assert sorted(second.catalog.versions[SERVICE]) == [1, 2]
        meaning = await second.classify(NEW_PHRASE, "en")
        assert meaning.intent == SERVICE
        assert [r.generation for r in followed] == [1]

        # Nothing new in the folder: a reload that changes nothing.
        await announce(first, report.digest)
        await until(lambda: len(followed) == 2)
        assert followed[1].changed is False


async def test_a_process_starting_after_a_reload_catches_up(
    services: Path, redis_database: RedisDatabase
) -> None:
    async with process(redis_database, services) as late:  # loaded v1 at start...
        version_2(services)
        with redis_database.client() as connection:  # ...while another process reloaded
            connection.set(GENERATION_KEY, 5)
        async with following(late, services):
            await until(lambda: late.catalog.published.get(SERVICE) == 2)


async def test_a_follower_whose_folder_lags_waits_for_it(
    services: Path, tmp_path: Path, redis_database: RedisDatabase
) -> None:
    """Kubernetes updates a mounted ConfigMap on each machine up to minutes apart: a
    process still holding the old files must not reload them and take the news as seen."""
    lagging = tmp_path / "lagging"
    shutil.copytree(services, lagging)
    async with (
        process(redis_database, services) as first,
        process(redis_database, lagging) as second,
        following(second, lagging) as followed,
    ):
        version_2(services)
        report = await reload_services(first, services)
        assert report.digest == folder_digest([services]) != folder_digest([lagging])
        await announce(first, report.digest)
        await asyncio.sleep(0.3)  # fifteen looks: each finds the old files
        assert followed == []
        assert second.catalog.published[SERVICE] == 1

        version_2(lagging)  # the new files arrive
        await until(lambda: len(followed) == 1)
        assert second.catalog.published[SERVICE] == 2
        assert followed[0].generation == 1


async def test_a_folder_that_never_catches_up_is_reloaded_as_it_is(
    services: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, redis_database: RedisDatabase
) -> None:
    other = tmp_path / "other"
    shutil.copytree(services, other)
    async with (
        process(redis_database, services) as first,
        process(redis_database, other) as second,
        following(second, other, lag_seconds=0.2) as followed,
    ):
        version_2(services)
        report = await reload_services(first, services)
        await announce(first, report.digest)
        await until(lambda: len(followed) == 1)
        assert second.catalog.published[SERVICE] == 1  # what its folder holds
        assert "still differs from the one published" in caplog.text


async def test_a_follower_survives_a_broken_folder(
    services: Path, redis_database: RedisDatabase
) -> None:
    async with (
        process(redis_database, services) as first,
        process(redis_database, services) as second,
        following(second, services),
    ):
        version_2(services)
        broken_version_3(services)
        report = await reload_services(first, services)
        assert [c.service for c in report.refused] == [SERVICE]
        await announce(first, report.digest)
        await asyncio.sleep(0.2)
        assert second.catalog.published[SERVICE] == 1


async def test_a_process_started_after_a_reload_continues_conversations_pinned_to_the_old(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    """A new replica (autoscaling, a restart) loads only the folder's v2; the citizen who
    started on v1 elsewhere continues on v1 there, from the archive, not afresh."""
    async with process(redis_database, services) as first:
        for text in TO_NAME:
            await answer(first, "early", text)
        version_2(services)
        await reload_services(first, services)
    with redis_database.client() as connection:
        archived: Any = connection.hkeys(VERSIONS_KEY)
    assert {f"{SERVICE}@1".encode(), f"{SERVICE}@2".encode()} <= set(archived)

    async with process(redis_database, services) as late:
        assert sorted(late.catalog.versions[SERVICE]) == [2]
        assert (await answer(late, "early", "Pema Store")).startswith(V1_TYPE)
        assert sorted(late.catalog.versions[SERVICE]) == [1, 2]
        assert late.catalog.published[SERVICE] == 2
        for text in TO_NAME:
            await answer(late, "newcomer", text)
        assert (await answer(late, "newcomer", "Dorji Store")).startswith(V2_TYPE)
        for text in ["1", "2", "14", "17123456", "1"]:
            await answer(late, "early", text)
        assert (await answer(late, "early", "1")).startswith("Registered! Number")


async def test_a_version_missing_from_the_archive_starts_the_citizen_afresh(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    async with process(redis_database, services) as first:
        for text in TO_NAME:
            await answer(first, "early", text)
    version_2(services)
    with redis_database.client() as connection:  # e.g. written before archives existed
        connection.delete(VERSIONS_KEY)
    async with process(redis_database, services) as late:
        reply = await answer(late, "early", "Pema Store")
        assert not reply.startswith(V1_TYPE)
        assert sorted(late.catalog.versions[SERVICE]) == [2]


# ---- a process that starts after a change behaves like the running ones ------------------


def published_map(database: RedisDatabase) -> dict[str, int]:
    with database.client() as connection:
        raw: Any = connection.hgetall(PUBLISHED_KEY)
    return {k.decode(): int(v) for k, v in raw.items()}


async def first_screen_of_type(conversations: Conversations, citizen: str) -> str:
    for text in TO_NAME:
        await answer(conversations, citizen, text)
    return await answer(conversations, citizen, "Dorji Store")


async def test_a_process_started_on_a_broken_folder_runs_the_published_version(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    """The checker refuses v3 at a reload; a replica started afterwards on the same
    folder must not drop the service from its menu, nor run v3: it runs v2, as the
    processes that were running do."""
    async with process(redis_database, services) as first:
        version_2(services)
        await reload_services(first, services)
    assert published_map(redis_database)[SERVICE] == 2
    broken_version_3(services)

    started: list[ReloadReport] = []
    async with process(redis_database, services, started) as late:
        assert late.catalog.published[SERVICE] == 2
        assert (await first_screen_of_type(late, "newcomer")).startswith(V2_TYPE)
    (change,) = [c for c in started[0].refused if c.service == SERVICE]
    assert change.reason == "checker errors; version 2 goes on"
    assert [p.code for p in change.problems] == ["E211"]
    assert published_map(redis_database)[SERVICE] == 2


async def test_a_process_started_on_changed_content_under_a_published_number_refuses_it(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    async with process(redis_database, services):
        pass  # v1 published
    edit(services, f"prompt: {{en: {V1_TYPE},", f"prompt: {{en: {V2_TYPE},")  # still v1

    started: list[ReloadReport] = []
    async with process(redis_database, services, started) as late:
        assert (await first_screen_of_type(late, "newcomer")).startswith(V1_TYPE)
    assert started[0].outcome(SERVICE) == ServiceChange(
        SERVICE,
        "refused",
        1,
        1,
        str(definition(services)),
        "version 1 already runs with other content: raise the version",
    )


async def test_a_process_started_on_an_older_folder_runs_the_published_version(
    services: Path, tmp_path: Path, redis_database: RedisDatabase
) -> None:
    """A restarted pod whose mounted ConfigMap still holds v1 after a reload to v2."""
    older = tmp_path / "older"
    shutil.copytree(services, older)
    async with process(redis_database, services) as first:
        version_2(services)
        await reload_services(first, services)

    async with process(redis_database, older) as late:
        assert late.catalog.published[SERVICE] == 2
        assert (await first_screen_of_type(late, "newcomer")).startswith(V2_TYPE)
        assert (await late.classify(NEW_PHRASE, "en")).intent == SERVICE
    assert published_map(redis_database)[SERVICE] == 2


async def test_a_process_started_on_a_newer_folder_publishes_it_and_records_it(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    async with process(redis_database, services):
        pass
    assert published_map(redis_database)[SERVICE] == 1
    version_2(services)
    (services / "drone-flight-authorization.yaml").unlink()  # withdrawn by this folder

    started: list[ReloadReport] = []
    async with process(redis_database, services, started) as late:
        assert late.catalog.published[SERVICE] == 2
        assert "drone-flight-authorization" not in late.catalog.published
    report = started[0]
    assert report.outcome(SERVICE) == ServiceChange(
        SERVICE, "published", 2, 1, str(definition(services))
    )
    assert report.outcome("drone-flight-authorization") == ServiceChange(
        "drone-flight-authorization",
        "withdrawn",
        None,
        1,
        "",
        "not in the folder; conversations in flight go on",
    )
    # Raised for everyone; a start never withdraws for the others (its folder may be
    # older than theirs): only a reload does.
    published = published_map(redis_database)
    assert published[SERVICE] == 2
    assert published["drone-flight-authorization"] == 1


async def test_a_start_never_lowers_a_published_number(
    services: Path, tmp_path: Path, redis_database: RedisDatabase
) -> None:
    """A process started on v1 reads the map just before another publishes v3: whoever
    writes last, the map keeps 3."""
    async with process(redis_database, services):
        pass
    with redis_database.client() as connection:  # published meanwhile elsewhere
        connection.hset(PUBLISHED_KEY, SERVICE, "3")
    client = connect(redis_database.url)
    try:
        await record_published(client, {SERVICE: 2, "new-service": 1})
    finally:
        await client.aclose()
    assert published_map(redis_database)[SERVICE] == 3
    assert published_map(redis_database)["new-service"] == 1


async def test_the_first_start_with_an_archive_but_no_map_takes_the_folder(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    """Processes of the release before the map archived v1 and let a restart run edited
    content under it: the first start after the upgrade publishes the folder as it is,
    and its content becomes the archived one, so later starts agree with it."""
    async with process(redis_database, services):
        pass
    with redis_database.client() as connection:  # as the earlier release left Redis
        connection.delete(PUBLISHED_KEY)
    edit(services, f"prompt: {{en: {V1_TYPE},", f"prompt: {{en: {V2_TYPE},")  # still v1
    for start in ("first", "later"):  # the first start after the upgrade, then a later one
        started: list[ReloadReport] = []
        async with process(redis_database, services, started) as upgraded:
            assert upgraded.catalog.published[SERVICE] == 1
            screen = await first_screen_of_type(upgraded, f"newcomer-{start}")
            assert screen.startswith(V2_TYPE)
        assert started[0].refused == []
    assert published_map(redis_database)[SERVICE] == 1


async def test_a_reload_judges_a_number_this_process_released_as_a_start_would(
    services: Path,
    redis_database: RedisDatabase,
) -> None:
    """The sweeper released v1 here (no conversation needed it); v1 comes back with
    other content: refused, as every other process and any later start refuse it."""
    async with process(redis_database, services) as first:
        version_2(services)
        await reload_services(first, services)
        first.catalog = first.catalog.release(SERVICE, 1)
        assert sorted(first.catalog.versions[SERVICE]) == [2]
        edit(services, "version: 2", "version: 1")  # v2's wording under the number 1
        report = await reload_services(first, services)
    change = report.outcome(SERVICE)
    assert change is not None
    assert change.outcome == "refused"
    assert change.reason == "version 1 already runs with other content: raise the version"
    assert first.catalog.published[SERVICE] == 2


async def test_a_start_that_cannot_read_the_published_map_starts_on_its_folder(
    services: Path,
) -> None:
    """Redis gone at start: the folder as it is, as before the map existed."""
    closed = connect("redis://127.0.0.1:9/0", socket_timeout=0.5)
    try:
        catalog, report = await start_catalog(closed, load_repository([services]))
    finally:
        await closed.aclose()
    assert catalog.published[SERVICE] == 1
    assert report.refused == []
