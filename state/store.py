"""The session store: one conversation per citizen, one answer at a time, no replays.

Every citizen's keys share a hash tag (`gw:{+97517123456}:...`), so they live in one
Redis Cluster slot and each Lua script below touches a single slot.

A citizen's answer costs two round trips in the common case:
1. `begin`: a Lua script that returns the stored reply if this provider message was
   already handled (idempotency), else takes the citizen's lock and returns the session;
2. `commit`: a Lua script that, if the lock is still ours, saves the session, remembers
   the reply under the message id, releases the lock, and (on one server) updates the
   expiry index and appends the step's events. On a Cluster those two keys live in other
   slots, so they are written by a second call after a successful commit.

Why a lock rather than optimistic compare-and-set: a step may perform effects (a registry
lookup, a submission) before its result is saved. With compare-and-set, a losing writer
would have performed them for a snapshot that never existed; with a short lock the second
answer waits for the first and then applies to its result, so history stays linear.
The lock expires by itself (a crashed worker frees the citizen after `lock_ms`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript

from dialogs import json_text
from state.redis_compat import run_script

MESSAGE_TTL_SECONDS = 50 * 3600  # the reply to a provider message id is kept > 48 h
SEEN_PREFIX = "gw:seen:"  # provider message ids, across citizens, for the replay window
EXPIRY_INDEX = "gw:expiry"
EVENTS_STREAM = "gw:events"
EVENTS_MAXLEN = 1_000_000
EXPIRY_GRACE_SECONDS = 3600  # the key outlives its deadline so the sweeper can see it
CALL_TIMEOUT = 2.0  # an answer's Redis call, as the clients' socket timeout elsewhere

_BEGIN = """
if ARGV[3] == '1' then
  local done = redis.call('GET', KEYS[3])
  if done then return {'dup', done} end
  -- Seen before (past its stored reply, or as another citizen's): acknowledged, not run.
  -- ARGV[4]: '1' look it up here, '2' a Cluster found it (it lives in another slot).
  if ARGV[4] == '2' or (ARGV[4] == '1' and redis.call('EXISTS', KEYS[6]) == 1) then
    return {'dup', ''}
  end
end
for i = 1, tonumber(ARGV[5]) do
  local key, limit = KEYS[6 + i], tonumber(ARGV[4 + 2 * i])
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[5 + 2 * i]) end
  if count > limit then return {'limited', tostring(count - limit)} end
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  -- Our own token: this call was sent again after its reply was lost (see `connect`).
  if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {'busy', ''} end
end
local f = redis.call('HMGET', KEYS[1], 'snap', 'channel', 'session', 'deadline', 'ctx')
local p = redis.call('HMGET', KEYS[4], 'optout', 'fix')
local phone = redis.call('GET', KEYS[5]) or ''
return {'ok', f[1] or '', f[2] or '', f[3] or '', f[4] or '', f[5] or '', p[1] or '', phone,
        p[2] or ''}
"""

_COMMIT = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  -- Saved already under this token: this call was sent again after its reply was lost.
  if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'tok') == ARGV[1] then return 1 end
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif tonumber(ARGV[6]) == 0 and ARGV[4] == '' and ARGV[9] == '' then
  -- Nothing to resume (an ended conversation, kept for its language): a hash of its own
  -- with what it has, not the conversation's grown one (Redis keeps its allocation).
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'snap', ARGV[2], 'channel', ARGV[3], 'tok', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
else
  redis.call('HSET', KEYS[1], 'snap', ARGV[2], 'channel', ARGV[3], 'session', ARGV[4],
             'deadline', ARGV[6], 'ctx', ARGV[9], 'tok', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
if ARGV[7] ~= '' then redis.call('SET', KEYS[3], ARGV[7], 'EX', ARGV[8]) end
redis.call('DEL', KEYS[2])
if ARGV[10] == '1' then
  if tonumber(ARGV[6]) > 0 then redis.call('ZADD', KEYS[4], ARGV[6], ARGV[11])
  else redis.call('ZREM', KEYS[4], ARGV[11]) end
  if ARGV[12] ~= '0' then redis.call('SET', KEYS[6], '1', 'EX', ARGV[12]) end
  for i = 13, #ARGV do
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', '1000000', '*', 'e', ARGV[i])
  end
end
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_EXPIRE = """
local d = redis.call('HGET', KEYS[1], 'deadline')
if not d or tonumber(d) == 0 then return {'gone', ''} end
if tonumber(d) > tonumber(ARGV[1]) then return {'alive', d} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'alive', d} end
local snap = redis.call('HGET', KEYS[1], 'snap')
redis.call('DEL', KEYS[1])
return {'expired', snap}
"""

_UNINDEX = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
"""

Client = Redis | RedisCluster


def _queue_events(pipe: Any, events: list[dict[str, Any]]) -> None:
    """Append `events` to the capped stream the analytics archive drains."""
    for event in events:
        pipe.xadd(
            EVENTS_STREAM, {"e": json_text.dumps(event)}, maxlen=EVENTS_MAXLEN, approximate=True
        )


def citizen_key(citizen: str) -> str:
    """The hash-tag part of a citizen's keys (braces would break the tag, so none)."""
    return "{" + citizen.replace("{", "(").replace("}", ")") + "}"


def message_digest(message_id: str) -> str:
    """A provider message id as it is named in a key: hashed, because an id may carry what
    the citizen typed (Africa's Talking's USSD id holds the text of every answer so far),
    and a key's name is listed by SCAN and in every Redis tool."""
    raw = message_id.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def text_of(value: Any) -> str:
    """A Redis reply as text (clients here return bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """What is stored for a citizen: the engine snapshot and where it last came from."""

    snapshot: str  # the engine's JSON snapshot
    channel: str = ""
    session: str = ""  # the channel's session id (a USSD session), "" when none
    deadline: float = 0.0  # epoch seconds after which the conversation is abandoned
    context: str = ""  # what the channel adapter needs next time (a USSD session's text)


@dataclass(frozen=True, slots=True)
class Begun:
    """The outcome of `begin`: a stored reply, a busy citizen, or the lock and session."""

    duplicate: str | None = None  # the reply already sent for this provider message
    busy: bool = False
    token: str = ""
    record: SessionRecord | None = None
    opted_out: bool = False  # the citizen sent STOP on a text channel
    phone: str = ""  # the number a web or Telegram citizen proved by a code ("" none)
    over_limit: int = 0  # > 0: the citizen's messages passed a limit, by this many
    correction: str = ""  # an application returned for correction, as JSON ("" none)


@dataclass(frozen=True, slots=True)
class Window:
    """An inbound limit counted inside `begin`: at most `limit` messages a `seconds`."""

    limit: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Expired:
    citizen: str
    snapshot: str


class SessionStore:
    """Sessions, locks and provider message ids in Redis (server, Sentinel or Cluster)."""

    def __init__(self, client: Client, hop_client: Client | None = None) -> None:
        self.client = client
        # An answer's two round trips (`begin`, `commit`) go through `hop_client` when
        # given: a client without socket timeouts, each call bounded here by one deadline
        # instead. With a socket timeout, redis-py runs every write in a task of its own
        # (asyncio.wait_for) and every read under a timer: 4.5% of a USSD hop's
        # instructions (bench/hop_cpu.py --callgrind). Everything else keeps `client`,
        # whose socket timeouts protect the background loops.
        self.hop = hop_client or client
        self.cluster = isinstance(client, RedisCluster)
        # RedisCluster's register_script is Redis's, typed for Redis only (redis-py 5).
        scripts = cast(Redis, client)
        self._begin = scripts.register_script(_BEGIN)
        self._commit = scripts.register_script(_COMMIT)
        self._release = scripts.register_script(_RELEASE)
        self._expire = scripts.register_script(_EXPIRE)
        self._unindex = scripts.register_script(_UNINDEX)

    @staticmethod
    def keys(citizen: str, message_id: str | None = None) -> tuple[str, str, str]:
        tag = citizen_key(citizen)
        message = f"gw:{tag}:m:{message_digest(message_id)}" if message_id else f"gw:{tag}:m:-"
        return f"gw:{tag}:s", f"gw:{tag}:lock", message

    @staticmethod
    def preferences_key(citizen: str) -> str:
        """The citizen's standing choices (opt-out), kept apart from any conversation."""
        return f"gw:{citizen_key(citizen)}:p"

    @staticmethod
    def phone_key(citizen: str) -> str:
        """The number a web or Telegram citizen proved, while it is trusted."""
        return f"gw:{citizen_key(citizen)}:phone"

    @staticmethod
    def seen_key(message_id: str) -> str:
        """A provider message id, whoever it named: a replay is recognised whatever
        citizen it claims to come from (message ids carry their provider's prefix)."""
        return SEEN_PREFIX + message_digest(message_id)

    async def set_opted_out(self, citizen: str, opted_out: bool) -> None:
        """Record STOP (True) or START (False) from a text channel."""
        key = self.preferences_key(citizen)
        await self.client.hset(key, "optout", "1" if opted_out else "0")  # type: ignore[misc]

    async def opted_out(self, citizen: str) -> bool:
        value = await self.client.hget(self.preferences_key(citizen), "optout")  # type: ignore[misc]
        return text_of(value) == "1" if value is not None else False

    async def set_correction(self, citizen: str, correction: str | None) -> None:
        """The application returned for correction that the citizen's next conversation
        begins with (JSON; None: none). Kept with their standing choices, so `begin`
        reads it in the same round trip; the database is the record, this the pointer."""
        key = self.preferences_key(citizen)
        if correction is None:
            await self.client.hdel(key, "fix")  # type: ignore[misc]
        else:
            await self.client.hset(key, "fix", correction)  # type: ignore[misc]

    async def set_phone(self, citizen: str, phone: str, seconds: int) -> None:
        """Remember the number `citizen` proved, for `seconds`."""
        await self.client.set(self.phone_key(citizen), phone, ex=seconds)

    async def begin(
        self,
        citizen: str,
        message_id: str | None,
        lock_ms: int,
        *,
        windows: tuple[Window, ...] = (),
        remember_seconds: int = MESSAGE_TTL_SECONDS,
    ) -> Begun:
        """Take the citizen's lock and read the session (one round trip).

        On the way, a message already handled is answered from its stored reply (or with
        nothing, when only its id is remembered), and the citizen's messages are counted
        against `windows`: over one, `over_limit` says by how much and nothing is locked.
        """
        token = secrets.token_hex(8)
        session, lock, reply = self.keys(citizen, message_id)
        seen = "0"
        if message_id is not None and remember_seconds > MESSAGE_TTL_SECONDS:
            seen = "1"
            if self.cluster:  # in another slot: one more call, on a Cluster only
                seen = "2" if await self.client.exists(self.seen_key(message_id)) else "0"
        tag = citizen_key(citizen)
        keys = [session, lock, reply, self.preferences_key(citizen), self.phone_key(citizen)]
        keys += [self.seen_key(message_id) if seen == "1" and message_id else reply]
        keys += [f"gw:{tag}:in:{window.seconds}" for window in windows]
        args: list[str | int] = [token, lock_ms, "1" if message_id else "0", seen, len(windows)]
        for window in windows:
            args += [window.limit, window.seconds]
        result = await self._run(self._begin, keys, args)
        status = text_of(result[0])
        if status == "dup":
            return Begun(duplicate=text_of(result[1]))
        if status == "busy":
            return Begun(busy=True)
        if status == "limited":
            return Begun(over_limit=int(text_of(result[1])))
        values = [text_of(v) for v in result[1:10]]
        snapshot, channel, session_id, deadline, context, opted_out, phone, fix = values[:8]
        record = (
            SessionRecord(snapshot, channel, session_id, float(deadline or 0), context)
            if snapshot
            else None
        )
        return Begun(
            token=token,
            record=record,
            opted_out=opted_out == "1",
            phone=phone if phone else "",
            correction=fix,
        )

    async def commit(
        self,
        citizen: str,
        token: str,
        record: SessionRecord | None,
        *,
        ttl_seconds: int,
        message_id: str | None,
        reply: str,
        events: list[dict[str, Any]],
        remember_seconds: int = MESSAGE_TTL_SECONDS,
    ) -> bool:
        """Save the session (None: forget it), remember the reply, release the lock.

        The reply to `message_id` is kept for `remember_seconds` (at most
        MESSAGE_TTL_SECONDS), the id itself for `remember_seconds`: a provider's
        redelivery window, after which a replay could not be told apart.
        False when the lock was lost (it expired while the step ran): nothing was saved.
        """
        keys = list(self.keys(citizen, message_id))
        args: list[str | int | float] = [
            token,
            record.snapshot if record else "",
            record.channel if record else "",
            record.session if record else "",
            ttl_seconds + EXPIRY_GRACE_SECONDS,
            record.deadline if record else 0,
            reply if message_id else "",
            min(MESSAGE_TTL_SECONDS, remember_seconds),
            record.context if record else "",
        ]
        # A provider that may redeliver (or be replayed) for longer than a reply is kept
        # gets its ids remembered apart, whatever citizen they name; within 50 h the
        # citizen's stored reply answers a redelivery (USSD hops, web chat retries).
        seen_seconds = (
            remember_seconds if message_id and remember_seconds > MESSAGE_TTL_SECONDS else 0
        )
        if self.cluster:
            # The expiry index, the event stream and the seen ids live in other slots: a
            # script cannot touch them, so they are written after, only when it held.
            saved = bool(await self._run(self._commit, keys, [*args, "0"]))
            if saved:
                seen = self.seen_key(message_id) if message_id else None
                await self._index(citizen, record, events, seen, seen_seconds)
            return saved
        # One server: everything in one script, so a lost lock writes nothing at all.
        encoded = [json_text.dumps(event) for event in events]
        seen_key = self.seen_key(message_id) if message_id else keys[2]
        result = await self._run(
            self._commit,
            [*keys, EXPIRY_INDEX, EVENTS_STREAM, seen_key],
            [*args, "1", citizen, seen_seconds, *encoded],
        )
        return bool(result)

    async def _run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """`script` through the hop's client, by redis-py's cheapest way (the seam)."""
        async with asyncio.timeout(CALL_TIMEOUT):  # a frozen Redis: TimeoutError
            return await run_script(self.hop, script, keys, args)

    def _queue_index(
        self, pipe: Any, citizen: str, record: SessionRecord | None, events: list[dict[str, Any]]
    ) -> None:
        # Only written after a successful commit in cluster mode; in one pipeline here, an
        # index entry for a lost lock is harmless (the sweeper finds a live session).
        if record is not None and record.deadline > 0:
            pipe.zadd(EXPIRY_INDEX, {citizen: record.deadline})
        else:  # ended or forgotten: nothing to expire
            pipe.zrem(EXPIRY_INDEX, citizen)
        _queue_events(pipe, events)

    async def _index(
        self,
        citizen: str,
        record: SessionRecord | None,
        events: list[dict[str, Any]],
        seen: str | None = None,
        seen_seconds: int = 0,
    ) -> None:
        # `async with`: a cancelled execute (shutdown) still gives the connection back.
        async with self.client.pipeline(transaction=False) as pipe:
            self._queue_index(pipe, citizen, record, events)
            if seen is not None and seen_seconds > 0:
                pipe.set(seen, "1", ex=seen_seconds)
            await pipe.execute()

    async def release(self, citizen: str, token: str) -> None:
        """Give the lock back without saving (the step failed)."""
        await self._release(keys=[self.keys(citizen)[1]], args=[token])

    async def read(self, citizen: str) -> SessionRecord | None:
        """The stored session, without locking (for tests and the admin API)."""
        fields: list[Any] = await self.client.hmget(  # type: ignore[misc]
            self.keys(citizen)[0], ["snap", "channel", "session", "deadline", "ctx"]
        )
        if not fields[0]:
            return None
        snapshot, channel, session, deadline, context = (text_of(v) if v else "" for v in fields)
        return SessionRecord(snapshot, channel, session, float(deadline or 0), context)

    async def due(self, now: float, limit: int = 100) -> list[str]:
        """Citizens whose conversations passed their deadline (from the expiry index)."""
        members = await self.client.zrangebyscore(EXPIRY_INDEX, "-inf", now, start=0, num=limit)
        return [text_of(m) for m in members]

    async def expire(self, citizen: str, now: float) -> Expired | None:
        """End one abandoned conversation; None if it was answered meanwhile or is gone."""
        session, lock, _ = self.keys(citizen)
        status, value = await self._expire(keys=[session, lock], args=[now])
        if text_of(status) == "alive":
            return None  # answered meanwhile, or being answered: the index stays for later
        await self._unindex(keys=[EXPIRY_INDEX], args=[citizen, now])
        if text_of(status) != "expired":
            return None
        return Expired(citizen, text_of(value))

    async def append_events(self, events: list[dict[str, Any]]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            _queue_events(pipe, events)
            await pipe.execute()

    async def events(self, count: int = 1000) -> list[dict[str, Any]]:
        """The newest events, oldest first (analytics read these)."""
        entries: Any = await self.client.xrevrange(EVENTS_STREAM, count=count)
        return [
            json.loads(text_of(fields.get(b"e", fields.get("e"))))
            for _, fields in reversed(entries or [])
        ]

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def close(self) -> None:
        for client in [self.client] if self.hop is self.client else [self.hop, self.client]:
            await client.aclose()
            # A Sentinel-managed client also holds connections to the sentinels themselves.
            manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
            for sentinel in getattr(manager, "sentinels", []):
                await sentinel.aclose()
