"""The session store suite, run on the shared Redis, the embedded one and a Redis Cluster.

Every test here takes the parametrized `store` fixture (see `conftest.py`), so each runs
three times: `[server]`, `[embedded]`, `[cluster]`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from state.store import (
    EVENTS_STREAM,
    EXPIRY_GRACE_SECONDS,
    EXPIRY_INDEX,
    MESSAGE_TTL_SECONDS,
    Begun,
    Expired,
    SessionRecord,
    SessionStore,
    Window,
    citizen_key,
)
from tests.state import RoundTrips
from tests.state.conftest import Backend

CITIZEN = "+97517123456"
OTHER = "+97577654321"
SNAPSHOT = '{"id":"c1","service":"business-registration","step":"business_name","name":"ཚོང"}'
LOCK_MS = 5000


def record(deadline: float = 1000.0, snapshot: str = SNAPSHOT) -> SessionRecord:
    return SessionRecord(snapshot, "ussd", "ussd-session-1", deadline)


async def save(
    store: SessionStore,
    citizen: str,
    saved: SessionRecord | None,
    *,
    message_id: str | None = None,
    reply: str = "[]",
    events: list[dict[str, Any]] | None = None,
    ttl_seconds: int = 600,
) -> None:
    """One whole answer: take the lock, save, release."""
    begun = await store.begin(citizen, message_id, LOCK_MS)
    assert begun.token, begun
    assert await store.commit(
        citizen,
        begun.token,
        saved,
        ttl_seconds=ttl_seconds,
        message_id=message_id,
        reply=reply,
        events=events or [],
    )


async def indexed(store: SessionStore, citizen: str) -> float | None:
    score: float | None = await store.client.zscore(EXPIRY_INDEX, citizen)
    return score


async def exists(store: SessionStore, key: str) -> bool:
    return bool(await store.client.exists(key))


# ------------------------------------------------------------------ round trip
async def test_begin_commit_read_round_trip(store: SessionStore) -> None:
    assert await store.read(CITIZEN) is None
    begun = await store.begin(CITIZEN, "SM1", LOCK_MS)
    assert begun.token
    assert begun.record is None
    assert (begun.busy, begun.duplicate) == (False, None)

    saved = record(deadline=1_900_000_000.5)
    assert await store.commit(
        CITIZEN,
        begun.token,
        saved,
        ttl_seconds=600,
        message_id="SM1",
        reply='[{"text": "Enter the name"}]',
        events=[],
    )
    assert await store.read(CITIZEN) == saved
    session_key, lock_key, _ = store.keys(CITIZEN)
    assert not await exists(store, lock_key)  # the commit released the lock
    ttl = await store.client.ttl(session_key)
    assert 600 < ttl <= 600 + EXPIRY_GRACE_SECONDS

    again = await store.begin(CITIZEN, "SM2", LOCK_MS)
    assert again.record == saved
    assert again.token
    assert again.token != begun.token


async def test_a_commit_without_a_record_forgets_the_session(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=1000))
    await save(store, CITIZEN, None)
    assert await store.read(CITIZEN) is None
    assert await indexed(store, CITIZEN) is None


async def test_citizens_are_kept_apart(store: SessionStore) -> None:
    await save(store, CITIZEN, record(snapshot='{"id":"a"}'))
    await save(store, OTHER, record(snapshot='{"id":"b"}'))
    first, second = await store.read(CITIZEN), await store.read(OTHER)
    assert first is not None
    assert second is not None
    assert (first.snapshot, second.snapshot) == ('{"id":"a"}', '{"id":"b"}')


# ------------------------------------------------------------------ idempotency
async def test_a_duplicate_message_gets_the_stored_reply_and_takes_no_lock(
    store: SessionStore,
) -> None:
    await save(store, CITIZEN, record(), message_id="SM1", reply="first reply")
    _, lock_key, message_key = store.keys(CITIZEN, "SM1")
    assert await store.client.ttl(message_key) > 48 * 3600
    assert await store.client.ttl(message_key) <= MESSAGE_TTL_SECONDS

    duplicate = await store.begin(CITIZEN, "SM1", LOCK_MS)
    assert duplicate.duplicate == "first reply"
    assert (duplicate.busy, duplicate.token, duplicate.record) == (False, "", None)
    assert not await exists(store, lock_key)

    # Redelivered while another answer holds the lock: still the stored reply, at once.
    holder = await store.begin(CITIZEN, "SM2", LOCK_MS)
    assert holder.token
    assert (await store.begin(CITIZEN, "SM1", LOCK_MS)).duplicate == "first reply"
    await store.release(CITIZEN, holder.token)


async def test_messages_without_an_id_are_never_duplicates(store: SessionStore) -> None:
    await save(store, CITIZEN, record(), message_id=None, reply="a reply")
    begun = await store.begin(CITIZEN, None, LOCK_MS)
    assert begun.duplicate is None
    assert begun.token


# ------------------------------------------------------------------ the lock
async def test_busy_while_locked(store: SessionStore) -> None:
    first = await store.begin(CITIZEN, "SM1", LOCK_MS)
    assert first.token

    second = await store.begin(CITIZEN, "SM2", LOCK_MS)
    assert second.busy
    assert (second.token, second.record, second.duplicate) == ("", None, None)
    other = await store.begin(OTHER, "SM3", LOCK_MS)
    assert other.token  # another citizen never waits

    assert await store.commit(
        CITIZEN, first.token, record(), ttl_seconds=60, message_id="SM1", reply="", events=[]
    )
    after = await store.begin(CITIZEN, "SM2", LOCK_MS)
    assert after.token
    assert after.record == record()


async def test_release_gives_the_lock_back_only_to_its_owner(store: SessionStore) -> None:
    first = await store.begin(CITIZEN, "SM1", LOCK_MS)
    await store.release(CITIZEN, "not-the-token")
    assert (await store.begin(CITIZEN, "SM2", LOCK_MS)).busy
    await store.release(CITIZEN, first.token)
    assert (await store.begin(CITIZEN, "SM2", LOCK_MS)).token


async def test_the_lock_expires_so_a_crashed_worker_frees_the_citizen(
    store: SessionStore,
) -> None:
    crashed = await store.begin(CITIZEN, "SM1", 100)
    assert crashed.token
    assert (await store.begin(CITIZEN, "SM2", LOCK_MS)).busy
    await asyncio.sleep(0.2)
    later = await store.begin(CITIZEN, "SM2", LOCK_MS)
    assert later.token


async def test_a_commit_with_a_lost_lock_saves_nothing(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=1000), message_id="SM0")
    before = await store.events()
    crashed = await store.begin(CITIZEN, "SM1", 50)
    await asyncio.sleep(0.15)
    taker = await store.begin(CITIZEN, "SM2", LOCK_MS)
    assert taker.token

    lost = await store.commit(
        CITIZEN,
        crashed.token,
        record(deadline=9999, snapshot='{"id":"lost"}'),
        ttl_seconds=60,
        message_id="SM1",
        reply="lost reply",
        events=[{"event": "answered", "step": "lost"}],
    )
    assert lost is False
    assert await store.read(CITIZEN) == record(deadline=1000)
    assert not await exists(store, store.keys(CITIZEN, "SM1")[2])  # no reply remembered
    assert await indexed(store, CITIZEN) == 1000
    assert await store.events() == before  # no event of a step that never happened

    # The lock was the taker's, and still is.
    assert (await store.begin(CITIZEN, "SM3", LOCK_MS)).busy
    assert await store.commit(
        CITIZEN,
        taker.token,
        record(deadline=2000),
        ttl_seconds=60,
        message_id="SM2",
        reply="",
        events=[],
    )
    assert await store.read(CITIZEN) == record(deadline=2000)


async def test_a_lost_lock_nobody_took_saves_nothing_either(store: SessionStore) -> None:
    crashed = await store.begin(CITIZEN, "SM1", 50)
    await asyncio.sleep(0.15)
    assert not await store.commit(
        CITIZEN,
        crashed.token,
        record(deadline=5000),
        ttl_seconds=60,
        message_id="SM1",
        reply="lost reply",
        events=[{"event": "started"}],
    )
    assert await store.read(CITIZEN) is None
    assert await indexed(store, CITIZEN) is None
    assert await store.events() == []
    assert (await store.begin(CITIZEN, "SM1", LOCK_MS)).duplicate is None


# ------------------------------------------------------------------ expiry
async def test_an_ended_record_is_not_in_the_expiry_index(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=0))
    assert await indexed(store, CITIZEN) is None
    assert await store.due(10**10) == []

    await save(store, OTHER, record(deadline=1000))
    assert await indexed(store, OTHER) == 1000
    await save(store, OTHER, record(deadline=0))  # the conversation ended
    assert await indexed(store, OTHER) is None
    assert await store.due(10**10) == []


async def test_a_conversation_that_ended_after_the_sweep_listed_it_is_not_expired(
    store: SessionStore,
) -> None:
    await save(store, CITIZEN, record(deadline=1000))
    assert await store.due(2000) == [CITIZEN]  # a sweeper lists it...
    await save(store, CITIZEN, record(deadline=0))  # ...the citizen completes meanwhile...
    assert await store.expire(CITIZEN, 2000) is None  # ...so it is no drop-off
    assert await store.read(CITIZEN) == record(deadline=0)


async def test_due_and_expire_only_after_the_deadline_and_once(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=1000))

    assert await store.due(999.5) == []
    assert await store.expire(CITIZEN, 999.5) is None
    assert await store.read(CITIZEN) == record(deadline=1000)
    assert await store.due(999.5) == []

    assert await store.due(1000.5) == [CITIZEN]
    assert await store.expire(CITIZEN, 1000.5) == Expired(CITIZEN, SNAPSHOT)
    assert await store.read(CITIZEN) is None
    assert await store.due(1000.5) == []
    assert await store.expire(CITIZEN, 1000.5) is None


async def test_each_expiry_happens_once_under_concurrent_sweepers(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=1000))
    results = await asyncio.gather(*(store.expire(CITIZEN, 2000) for _ in range(10)))
    assert [r for r in results if r is not None] == [Expired(CITIZEN, SNAPSHOT)]


async def test_due_lists_only_passed_deadlines_oldest_first(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=2000))
    await save(store, OTHER, record(deadline=1000))
    await save(store, "+97517000003", record(deadline=3000))
    assert await store.due(2500) == [OTHER, CITIZEN]
    assert await store.due(2500, limit=1) == [OTHER]


async def test_no_expiry_while_the_citizen_is_answering(store: SessionStore) -> None:
    await save(store, CITIZEN, record(deadline=1000))
    answering = await store.begin(CITIZEN, "SM1", LOCK_MS)

    assert await store.due(2000) == [CITIZEN]
    assert await store.expire(CITIZEN, 2000) is None
    assert await store.read(CITIZEN) == record(deadline=1000)

    # The answer moves the deadline on: not due any more.
    assert await store.commit(
        CITIZEN,
        answering.token,
        record(deadline=5000),
        ttl_seconds=60,
        message_id="SM1",
        reply="",
        events=[],
    )
    assert await store.due(2000) == []
    assert await store.expire(CITIZEN, 2000) is None
    assert await store.due(5001) == [CITIZEN]


async def test_an_abandoned_answer_does_not_hide_the_conversation_from_the_sweeper(
    store: SessionStore,
) -> None:
    # A sweep meets the lock of an answer whose step then fails (released, nothing saved):
    # the conversation is still abandoned and must still expire at a later sweep.
    await save(store, CITIZEN, record(deadline=1000))
    answering = await store.begin(CITIZEN, "SM1", LOCK_MS)
    assert await store.expire(CITIZEN, 2000) is None
    await store.release(CITIZEN, answering.token)

    assert await store.due(3000) == [CITIZEN]
    assert await store.expire(CITIZEN, 3000) == Expired(CITIZEN, SNAPSHOT)


# ------------------------------------------------------------------ events
async def test_events_are_appended_in_order(store: SessionStore) -> None:
    first = {"event": "started", "step": "cid", "citizen": CITIZEN}
    second = {"event": "answered", "step": "cid", "citizen": CITIZEN, "text": "ཚོང"}
    third = {"event": "invalid", "step": "business_name", "citizen": CITIZEN}
    fourth = {"event": "expired", "step": "business_name", "citizen": CITIZEN}
    await save(store, CITIZEN, record(), events=[first, second])
    assert await store.events() == [first, second]
    await save(store, CITIZEN, record(), events=[third])
    await store.append_events([fourth])
    assert await store.events() == [first, second, third, fourth]
    assert await store.events(count=2) == [third, fourth]
    assert await store.client.xlen(EVENTS_STREAM) == 4


async def test_a_record_with_nothing_to_resume_is_written_afresh(store: SessionStore) -> None:
    """An ended conversation is kept for its language: its hash holds that and the
    lock's token, nothing of the conversation's larger one (Redis keeps a grown hash's
    allocation when its values shrink)."""
    big = SessionRecord(SNAPSHOT * 20, "ussd", "ussd-session-1", 1000.0, "1*2*3")
    await save(store, CITIZEN, big)
    kept = SessionRecord('{"id":"","ended":true}', "ussd")
    await save(store, CITIZEN, kept, ttl_seconds=30 * 86400)
    fields = await store.client.hgetall(store.keys(CITIZEN)[0])  # type: ignore[misc]
    assert set(fields) == {b"snap", b"channel", b"tok"}
    assert await store.read(CITIZEN) == kept
    assert await store.client.ttl(store.keys(CITIZEN)[0]) > 29 * 86400


# ------------------------------------------------------------------ keys
@pytest.mark.parametrize("citizen", [CITIZEN, "telegram:{12345}", "web:}{odd"])
async def test_every_key_of_a_citizen_is_in_one_cluster_slot(
    store: SessionStore, backend: Backend, citizen: str
) -> None:
    await save(store, citizen, record(deadline=1000), message_id="SM1", events=[{"e": 1}])
    held = await store.begin(citizen, "SM2", LOCK_MS)  # the lock key exists while held
    assert held.token

    mine = [key for key in backend.all_keys() if key not in (EXPIRY_INDEX, EVENTS_STREAM)]
    session_key, lock_key, message_key = store.keys(citizen, "SM1")
    assert sorted(mine) == sorted([session_key, lock_key, message_key])
    assert len({key_slot(key.encode()) for key in mine}) == 1
    if backend.cluster:
        slots = {await store.client.execute_command("CLUSTER KEYSLOT", key) for key in mine}
        assert slots == {key_slot(session_key.encode())}


# ------------------------------------------------------------------ round trips
async def test_an_answer_costs_one_round_trip_to_begin_and_one_to_commit(
    store: SessionStore, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scripts loaded, connections open (to every node the commit writes to).
    await save(store, CITIZEN, record(deadline=1000), message_id="SM0", events=[{"e": 0}])
    trips = RoundTrips(monkeypatch)
    begun = await store.begin(CITIZEN, "SM1", LOCK_MS)
    assert trips.reset() == 1
    assert await store.commit(
        CITIZEN,
        begun.token,
        record(deadline=2000),
        ttl_seconds=60,
        message_id="SM1",
        reply="",
        events=[{"event": "answered"}],
    )
    if not backend.cluster:
        assert trips.reset() == 1
        return
    # On a Cluster the expiry index and the event stream live in other slots: after the
    # commit, one pipeline to the node(s) holding them (sent to those nodes together).
    assert isinstance(store.client, RedisCluster)
    nodes = {store.client.get_node_from_key(key).name for key in (EXPIRY_INDEX, EVENTS_STREAM)}
    assert trips.reset() == 1 + len(nodes)


async def test_a_server_that_forgot_the_scripts_gets_them_again(store: SessionStore) -> None:
    """After SCRIPT FLUSH (a restarted or failed-over server), EVALSHA is refused once and
    the script is loaded again: the answer goes through."""
    await store.client.script_flush()
    begun = await store.begin("+97517123456", "m1", 5000)
    assert begun.token
    assert await store.commit(
        "+97517123456",
        begun.token,
        SessionRecord("{}", "ussd", "S1", 0.0, ""),
        ttl_seconds=60,
        message_id="m1",
        reply="[]",
        events=[],
    )


# ------------------------------------------------------------------ replays


def recording(store: SessionStore) -> list[tuple[Any, ...]]:
    """The scripts the store sends, as sent (to send one again, as the client's retry
    does when a connection drops after Redis ran the script but before its reply)."""
    sent: list[tuple[Any, ...]] = []
    original = store.hop.execute_command

    async def execute(*args: Any, **options: Any) -> Any:
        if args[0] == "EVALSHA":
            sent.append(args)
        return await original(*args, **options)

    store.hop.execute_command = execute  # type: ignore[method-assign]
    return sent


async def test_a_begin_or_commit_sent_again_after_a_lost_reply_answers_as_the_first(
    store: SessionStore,
) -> None:
    sent = recording(store)
    begun = await store.begin(CITIZEN, "SM1", LOCK_MS)
    again = await store.hop.execute_command(*sent[-1])
    assert again[0] in ("ok", b"ok")  # its own lock, not "busy": the citizen is not held up
    saved = record()
    assert await store.commit(
        CITIZEN, begun.token, saved, ttl_seconds=600, message_id="SM1", reply="[]", events=[]
    )
    assert await store.hop.execute_command(*sent[-1]) == 1  # saved: not "lock lost"
    assert await store.read(CITIZEN) == saved

    # A commit with another answer's token is still refused.
    commit = sent[-1]
    token_at = 3 + int(commit[2])  # EVALSHA sha numkeys key... token ...
    stale = (*commit[:token_at], "0" * 16, *commit[token_at + 1 :])
    assert await store.hop.execute_command(*stale) == 0


# ------------------------------------------------------------------ replays and limits
EIGHT_DAYS = 8 * 24 * 3600  # a provider that redelivers (or may be replayed) for days


async def answer(
    store: SessionStore, citizen: str, message_id: str, remember: int = EIGHT_DAYS
) -> Begun:
    """One answer to `message_id` from `citizen`, saved with a reply when it ran."""
    begun = await store.begin(citizen, message_id, LOCK_MS, remember_seconds=remember)
    if begun.token:
        assert await store.commit(
            citizen,
            begun.token,
            record(),
            ttl_seconds=600,
            message_id=message_id,
            reply="first reply",
            events=[],
            remember_seconds=remember,
        )
    return begun


async def test_a_provider_id_replayed_as_another_citizen_runs_nothing(store: SessionStore) -> None:
    """A signed request re-split to name another sender keeps its message id: it is
    recognised as seen, and the other citizen gets no reply (not the first one's)."""
    assert (await answer(store, CITIZEN, "twilio:SM1")).token
    replayed = await answer(store, OTHER, "twilio:SM1")
    assert replayed.duplicate == ""  # seen: nothing runs, nothing is sent
    assert await store.read(OTHER) is None
    again = await answer(store, CITIZEN, "twilio:SM1")
    assert again.duplicate == "first reply"  # the provider's own redelivery


async def test_a_provider_id_is_remembered_for_its_window_past_its_reply(
    store: SessionStore, backend: Backend
) -> None:
    await answer(store, CITIZEN, "wa:wamid.1")
    _, _, reply_key = store.keys(CITIZEN, "wa:wamid.1")
    assert 48 * 3600 < await store.client.ttl(reply_key) <= MESSAGE_TTL_SECONDS
    seen_ttl = await store.client.ttl(store.seen_key("wa:wamid.1"))
    assert MESSAGE_TTL_SECONDS < seen_ttl <= EIGHT_DAYS
    await store.client.delete(reply_key)  # as after 50 h
    assert (await answer(store, CITIZEN, "wa:wamid.1")).duplicate == ""


async def test_short_windows_keep_only_the_citizens_reply(store: SessionStore) -> None:
    """USSD hops and web chat retries come back within minutes: no id is kept apart."""
    await answer(store, CITIZEN, "web:u1:m1", remember=600)
    _, _, reply_key = store.keys(CITIZEN, "web:u1:m1")
    assert 0 < await store.client.ttl(reply_key) <= 600
    assert not await store.client.exists(store.seen_key("web:u1:m1"))
    assert (await answer(store, CITIZEN, "web:u1:m1", remember=600)).duplicate == "first reply"


@pytest.mark.parametrize("remember", [600, EIGHT_DAYS])
async def test_no_key_names_what_the_citizen_typed(
    store: SessionStore, backend: Backend, remember: int
) -> None:
    """Africa's Talking's USSD id carries every answer so far; key names are listed by
    SCAN and by every Redis tool, so the id is hashed, and a replay still recognised."""
    typed = "2*11501001234*Druk Bakery"
    message_id = f"at:ATUid_1:{len(typed)}:{typed}"
    await answer(store, CITIZEN, message_id, remember=remember)
    names = " ".join(backend.all_keys())
    assert "11501001234" not in names
    assert "Druk" not in names
    assert "ATUid_1" not in names
    again = await answer(store, CITIZEN, message_id, remember=remember)
    assert again.duplicate == "first reply"  # the provider's retry: the same reply


async def test_messages_over_a_window_are_counted_and_refused(store: SessionStore) -> None:
    windows = (Window(limit=3, seconds=60), Window(limit=5, seconds=86400))
    outcomes = []
    for number in range(6):
        begun = await store.begin(CITIZEN, f"SM{number}", LOCK_MS, windows=windows)
        if begun.token:
            await store.release(CITIZEN, begun.token)
        outcomes.append(begun.over_limit)
    assert outcomes == [0, 0, 0, 1, 2, 3]  # by how much: said once, then silence
    other = await store.begin(OTHER, "SM9", LOCK_MS, windows=windows)
    assert other.token  # each citizen counts for themselves
    assert not other.over_limit
    tag = citizen_key(CITIZEN)
    assert 0 < await store.client.ttl(f"gw:{tag}:in:60") <= 60


async def test_a_duplicate_is_answered_before_it_is_counted(store: SessionStore) -> None:
    windows = (Window(limit=1, seconds=60),)
    first = await store.begin(CITIZEN, "SM1", LOCK_MS, windows=windows)
    assert await store.commit(
        CITIZEN, first.token, record(), ttl_seconds=60, message_id="SM1", reply="r", events=[]
    )
    redelivered = await store.begin(CITIZEN, "SM1", LOCK_MS, windows=windows)
    assert redelivered.duplicate == "r"


async def test_a_proved_number_and_an_opt_out_come_back_with_the_lock(
    store: SessionStore,
) -> None:
    citizen = "web:u-5f1c2a9b"
    await store.set_phone(citizen, CITIZEN, 60)
    await store.set_opted_out(citizen, True)
    begun = await store.begin(citizen, None, LOCK_MS)
    assert (begun.phone, begun.opted_out) == (CITIZEN, True)
    assert await store.opted_out(citizen)
    assert 0 < await store.client.ttl(store.phone_key(citizen)) <= 60
