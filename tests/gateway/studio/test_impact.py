"""Conversations in progress on a service, by version and step, counted from the session
store by SCAN; what publishing does to them (they finish on the version they started on)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from dialogs.session import Asking, Snapshot
from gateway.studio.impact import Session, StepCount, in_flight, tally
from state.store import SessionStore
from tests.redis_databases import RedisDatabase

NOW = 1_800_000_000.0


def _at(step: str, version: int, service: str = "drone-flight-authorization") -> Snapshot:
    return Snapshot(id="c", service=service, version=version, step=step, state=Asking())


def test_counts_by_version_and_step_leaving_out_what_is_not_in_flight() -> None:
    sessions = [
        Session(_at("cid", 2), NOW + 60),
        Session(_at("cid", 2), NOW + 60),
        Session(_at("model", 2), 0),
        Session(_at("cid", 1), NOW + 60),
        Session(_at("cid", 1, "business-registration"), NOW + 60),  # another service
        Session(_at("cid", 2).evolve(ended=True), NOW + 60),  # ended
        Session(_at("cid", 2), NOW - 1),  # past its deadline: the sweeper ends it
        Session(Snapshot(id="m"), NOW + 60),  # at the main menu
    ]
    found = tally("drone-flight-authorization", 2, sessions, NOW, scanned=len(sessions))
    assert found.conversations == 4
    newest, older = found.versions
    assert (newest.version, newest.published, newest.conversations) == (2, True, 3)
    assert newest.steps == (StepCount("cid", 2), StepCount("model", 1))
    assert (older.version, older.published, older.steps) == (1, False, (StepCount("cid", 1),))
    said = found.after_publishing(3)
    assert said[0] == "New conversations start on version 3 once it is published."
    assert "3 conversations on version 2 finish on version 2, the one they started on." in said
    assert "1 conversation on version 1 finishes on version 1, the one they started on." in said


def test_nobody_in_flight() -> None:
    found = tally("drone-flight-authorization", None, [], NOW, scanned=0)
    assert found.versions == ()
    assert "No conversation is in progress: nobody is moved." in found.after_publishing(1)


def test_reads_the_session_store_by_scan_within_its_bounds(
    redis_database: RedisDatabase,
) -> None:
    async def run() -> None:
        client = Redis.from_url(redis_database.url)
        try:
            for n in range(7):
                key = SessionStore.keys(f"+9751700000{n}")[0]
                snapshot = _at("cid" if n % 2 else "model", 1 + n % 2)
                await client.hset(key, mapping={"snap": snapshot.to_json(), "deadline": NOW + 60})
            await client.hset(SessionStore.keys("+97517999999")[0], "snap", "not json")
            await client.set("gw:{+97517888888}:lock", "x")  # not a session
            # Anything may lie under the pattern: none of it is counted, none fails.
            junk = {
                b"gw:{\xff\xfe}:s": {"snap": _at("cid", 1).to_json()},  # not UTF-8
                b"gw:{list}:s": {"snap": "[1, 2]"},
                b"gw:{version}:s": {
                    "snap": _at("cid", 1).to_json().replace('"version":1', '"version":"1"')
                },
                b"gw:{step}:s": {
                    "snap": _at("cid", 1).to_json().replace('"step":"cid"', '"step":["cid"]')
                },
            }
            for name, fields in junk.items():
                await client.hset(name, mapping=fields)
            await client.set("gw:{string}:s", "x")
            found = await in_flight(client, "drone-flight-authorization", 2, now=NOW, count=3)
            assert found.complete
            assert found.scanned == 13
            # 4 and the snapshot under a name that is not UTF-8: a conversation all the same.
            assert [(v.version, v.conversations) for v in found.versions] == [(2, 3), (1, 5)]
            bounded = await in_flight(
                client, "drone-flight-authorization", 2, now=NOW, count=2, max_keys=4
            )
            assert not bounded.complete
            assert bounded.scanned == 4
            assert "Counted over the first 4 sessions only." in bounded.after_publishing(3)
        finally:
            await client.aclose()

    asyncio.run(run())
