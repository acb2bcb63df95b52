"""Who is in the middle of a service now, and what publishing a new version does to them.

Conversations are counted from the session keys in Redis (`gw:{<citizen>}:s`, field
`snap`: the engine's snapshot, `dialogs.session.Snapshot`) by SCAN with a COUNT, never
KEYS: a live Redis serves citizens' answers between each small batch. The count stops at a
number of keys and a time, and says so: a publisher needs an order of magnitude, not a
census that holds up a USSD hop.

Each conversation is pinned to the version it started on (the snapshot's `version`): a
new version takes only conversations that start after it is published.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from redis.exceptions import RedisError

from dialogs.session import Snapshot
from state.store import Client, text_of

SESSION_PATTERN = "gw:{*}:s"  # SessionStore.keys: a citizen's session hash
SCAN_COUNT = 500  # keys a SCAN call looks at: a short call, however large the database
MAX_KEYS = 200_000  # sessions read at most
MAX_SECONDS = 2.0  # a publisher waits this long at most


@dataclass(frozen=True, slots=True)
class Session:
    """One stored conversation, as counted."""

    snapshot: Snapshot
    deadline: float  # epoch seconds when it is abandoned; 0: none


@dataclass(frozen=True, slots=True)
class StepCount:
    step: str
    conversations: int


@dataclass(frozen=True, slots=True)
class VersionImpact:
    """The conversations pinned to one version of the service."""

    version: int
    published: bool  # the version new conversations start on now
    conversations: int
    steps: tuple[StepCount, ...]  # most first


@dataclass(frozen=True, slots=True)
class Impact:
    service: str
    published: int | None
    versions: tuple[VersionImpact, ...]  # newest first
    scanned: int  # sessions read
    complete: bool  # False: the scan stopped at its bound (the counts are at least these)

    @property
    def conversations(self) -> int:
        return sum(v.conversations for v in self.versions)

    def after_publishing(self, draft_version: int | None) -> list[str]:
        """What becomes of these conversations when the draft is published."""
        new = f"version {draft_version}" if draft_version is not None else "the new version"
        said = [f"New conversations start on {new} once it is published."]
        for version in self.versions:
            finish = "finishes" if version.conversations == 1 else "finish"
            said.append(
                f"{_count(version.conversations)} on version {version.version} "
                f"{finish} on version {version.version}, the one they started on."
            )
        if not self.versions:
            said.append("No conversation is in progress: nobody is moved.")
        if not self.complete:
            said.append(f"Counted over the first {self.scanned} sessions only.")
        return said


Counts = dict[int, Counter[str]]  # version -> step -> conversations


def add_counts(counts: Counts, service: str, sessions: Iterable[Session], now: float) -> None:
    """Add to `counts` the sessions in the middle of `service`. A conversation that ended,
    sits at the main menu or is past its deadline (the sweeper ends it) is not in flight."""
    for session in sessions:
        snapshot = session.snapshot
        if snapshot.service != service or snapshot.ended:
            continue
        if 0 < session.deadline < now:
            continue
        counts.setdefault(snapshot.version, Counter())[snapshot.step] += 1


def tally(
    service: str,
    published: int | None,
    sessions: Iterable[Session],
    now: float,
    scanned: int,
    *,
    complete: bool = True,
) -> Impact:
    """The sessions in the middle of `service`, by version and step."""
    counts: Counts = {}
    add_counts(counts, service, sessions, now)
    return _impact(service, published, counts, scanned, complete)


def _impact(
    service: str, published: int | None, counts: Counts, scanned: int, complete: bool
) -> Impact:
    versions = tuple(
        VersionImpact(
            version=version,
            published=version == published,
            conversations=sum(steps.values()),
            steps=tuple(StepCount(step, n) for step, n in steps.most_common()),
        )
        for version, steps in sorted(counts.items(), reverse=True)
    )
    return Impact(service, published, versions, scanned, complete)


async def in_flight(
    client: Client,
    service: str,
    published: int | None,
    *,
    now: float | None = None,
    max_keys: int = MAX_KEYS,
    max_seconds: float = MAX_SECONDS,
    count: int = SCAN_COUNT,
) -> Impact:
    """The conversations in progress on `service`, read from the session store and
    counted batch by batch (200,000 snapshots are not held at once). Raises RedisError
    when Redis cannot be read at all."""
    started = time.monotonic()
    moment = time.time() if now is None else now
    counts: Counts = {}
    scanned = 0
    complete = True
    batch: list[bytes | str] = []
    seen: set[bytes | str] = set()  # SCAN may return a key twice
    async for key in client.scan_iter(match=SESSION_PATTERN, count=count):
        if key in seen:
            continue
        seen.add(key)
        batch.append(key)  # as given: a name need not be UTF-8
        if len(batch) >= count:
            add_counts(counts, service, await _read(client, batch), moment)
            scanned += len(batch)
            batch = []
        if scanned + len(batch) >= max_keys or time.monotonic() - started > max_seconds:
            complete = False
            break
    if batch:
        add_counts(counts, service, await _read(client, batch), moment)
        scanned += len(batch)
    return _impact(service, published, counts, scanned, complete)


async def _read(client: Client, keys: list[bytes | str]) -> list[Session]:
    """The snapshots of `keys`, in one round trip; a key gone meanwhile (the conversation
    ended) or unreadable (not a snapshot) is left out."""
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:  # bytes: a name as SCAN gave it (redis-py's hints say str)
            pipe.hmget(key, ["snap", "deadline"])  # type: ignore[arg-type]
        replies = await pipe.execute(raise_on_error=False)
    found: list[Session] = []
    for reply in replies:
        if isinstance(reply, RedisError) or not reply or not reply[0]:
            continue  # another type under the name, or gone between SCAN and HMGET
        snap, deadline = reply
        try:
            snapshot = Snapshot.from_json(snap)
            seconds = float(text_of(deadline)) if deadline else 0.0
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not a snapshot this release reads: not counted, never a failure
        # Read as the conversation service wrote it, so not checked there: here anything
        # under the pattern is read, and a count needs a version and a step.
        typed = (snapshot.service, snapshot.step, snapshot.version)
        if not isinstance(snapshot.version, int) or not all(isinstance(v, str) for v in typed[:2]):
            continue
        found.append(Session(snapshot, seconds))
    return found


def _count(conversations: int) -> str:
    return "1 conversation" if conversations == 1 else f"{conversations} conversations"
