"""The conversation service: a citizen's message in, the replies out, state kept in Redis.

Between a channel adapter and the engine. For each message: remember provider message
ids (a redelivered webhook gets the same reply and causes nothing), take the citizen's
lock (two answers arriving together apply one after the other), run the pure engine,
perform its effects, save. A conversation is keyed by the citizen (phone number or
channel user id), so a dropped USSD session resumes on redial and continues on SMS.
When Redis is unreachable the citizen gets a short "try again" and nothing crashes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from dialogs import json_text
from dialogs.builtin_texts import BUILTIN_TEXTS, OPT_IN_WORDS, OPT_OUT_WORDS
from dialogs.catalog import Catalog
from dialogs.driver import conversation_turn
from dialogs.media import Medium
from dialogs.messages import (
    Correction,
    Effect,
    EffectResult,
    Inbound,
    LookupRequest,
    Outcome,
    Reply,
    reply_data,
    reply_from_data,
)
from dialogs.session import Snapshot
from dialogs.text import localise
from gateway.catalog.versions import restore_version
from gateway.conversations.effects import (
    PERFORMERS,
    Classify,
    NoVerification,
    Status,
    Submit,
    Verification,
    no_correction,
    nothing_understood,
    status_unavailable,
    submissions_unavailable,
)
from gateway.conversations.lookups import perform_lookup
from gateway.conversations.messages import Applicant, Message
from gateway.ops.metrics import count_error, count_refused, hop_metrics
from gateway.security.addresses import Countries, is_phone_address
from state.store import SessionRecord, SessionStore, Window

logger = logging.getLogger(__name__)

LOCK_MS = 15_000  # longer than any step: lookups time out within the USSD budget
WAIT_SECONDS = 8.0  # an answer waits this long for the citizen's previous one
ENDED_TTL_SECONDS = 30 * 24 * 3600  # an ended conversation still remembers the language
MENU_RESUME_SECONDS = 3600  # resume window at the main menu (no service chosen yet)

# Opt-out keywords work where numbers are sent messages they pay for or did not ask for.
OPT_OUT_MEDIA = frozenset({Medium.SMS, Medium.WHATSAPP})
OPTING_OUT = frozenset().union(*OPT_OUT_WORDS.values())
OPTING_IN = frozenset().union(*OPT_IN_WORDS.values())
Consented = Callable[[str, Medium, bool], Awaitable[None]]  # (citizen, medium, opted out)


async def consent_kept_in_redis_only(citizen: str, medium: Medium, opted_out: bool) -> None:
    """Without a database, a choice lives in the session store alone."""


def consent_word(text: str) -> str:
    """A message as an opt-out keyword would be written: case, spaces, dashes and
    closing punctuation aside ("Opt-Out!" -> "opt out")."""
    word = text.casefold().replace("-", " ").replace("_", " ")
    return " ".join(word.split()).strip(".!?,;:།་ ")


@dataclass
class Conversations:
    """Runs conversations for every channel against one session store."""

    catalog: Catalog
    store: SessionStore
    submit: Submit = submissions_unavailable
    status: Status = status_unavailable
    lookup: Callable[[LookupRequest], Awaitable[EffectResult]] = perform_lookup
    classify: Classify = nothing_understood
    verification: Verification = field(default_factory=NoVerification)
    # The pointer to a citizen's next returned application (`Desk.correction`).
    correction: Callable[[str], Awaitable[str | None]] = no_correction
    # A citizen's messages counted in `begin` (GATEWAY_INBOUND_PER_ADDRESS); numbers of
    # other countries are served nothing (GATEWAY_ALLOWED_COUNTRIES).
    windows: tuple[Window, ...] = ()
    countries: Countries = field(default_factory=lambda: Countries.of(["*"]))
    consented: Consented = consent_kept_in_redis_only  # STOP/START kept durably too
    lock_ms: int = LOCK_MS
    wait_seconds: float = WAIT_SECONDS
    clock: Callable[[], float] = time.time
    version_use: dict[tuple[str, int], float] = field(default_factory=dict)

    async def handle(self, message: Message) -> list[Reply]:
        """The replies to send for `message`; never raises for an unreachable store."""
        # Measured here, the one place every channel's hop goes through. Cheap: a dict
        # lookup for the channel's metrics, two increments and an observation.
        metrics = hop_metrics(message.medium)
        metrics.received.inc()
        started = time.perf_counter()
        try:
            replies = await self._handle(message)
        except (RedisError, OSError) as exc:
            count_error("store_unavailable")
            logger.warning("session store unavailable (%s): %s", type(exc).__name__, exc)
            replies = [self.unavailable(message)]
        metrics.seconds.observe(time.perf_counter() - started)
        metrics.replied.inc(len(replies))
        return replies

    def unavailable(self, message: Message) -> Reply:
        text = localise(BUILTIN_TEXTS["unavailable"], message.lang or "en")
        return Reply(text, end=True)

    def notice(self, message: Message, key: str, *, end: bool = False) -> Reply:
        return Reply(localise(BUILTIN_TEXTS[key], message.lang or "en"), end=end)

    async def _handle(self, message: Message) -> list[Reply]:
        if not self.countries.serves_address(message.citizen):
            # A number the deployment does not serve (SMS pumping uses foreign ranges):
            # nothing is started and nothing sent; a USSD screen must say something.
            count_refused("country")
            return [self.notice(message, "not_available", end=True)] if _is_ussd(message) else []
        started = time.monotonic()
        delay = 0.005
        windows = self.windows
        while True:
            begun = await self.store.begin(
                message.citizen,
                message.message_id,
                self.lock_ms,
                windows=windows,
                remember_seconds=message.remember,
            )
            windows = ()  # a message counts once, however long it waits for the lock
            if begun.duplicate is not None:
                return decode_replies(begun.duplicate)
            if begun.over_limit:
                # Said once per window (each reply to a number costs money), and on
                # every USSD screen (it must end the session with a reason).
                count_refused("inbound")
                if _is_ussd(message) or begun.over_limit == 1:
                    return [self.notice(message, "too_fast", end=_is_ussd(message))]
                return []
            if begun.busy:
                if time.monotonic() - started > self.wait_seconds:
                    count_error("citizen_busy")
                    return [self.unavailable(message)]
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            consent = await self._consent(message, begun.opted_out)
            if consent is not None:
                await self.store.release(message.citizen, begun.token)
                return consent
            applicant = self._applicant(message, begun.phone, begun.opted_out)
            try:
                replies, record, events, ttl = await self._step(
                    message, begun.record, applicant, begun.correction
                )
            except BaseException:
                await self.store.release(message.citizen, begun.token)
                raise
            saved = await self.store.commit(
                message.citizen,
                begun.token,
                record,
                ttl_seconds=ttl,
                message_id=message.message_id,
                reply=encode_replies(replies),
                events=events,
                remember_seconds=message.remember,
            )
            if saved:
                return replies
            logger.warning("lock lost for a citizen's answer; running it again")

    async def _consent(self, message: Message, opted_out: bool) -> list[Reply] | None:
        """STOP / START on SMS and WhatsApp, before any conversation: an opted-out number
        gets nothing but the confirmation of its choice."""
        if message.medium not in OPT_OUT_MEDIA:
            return None
        word = consent_word(message.text)
        if word in OPTING_OUT or word in OPTING_IN:
            return await self._record_consent(message, opted_out=word in OPTING_OUT)
        return [] if opted_out else None

    async def _record_consent(self, message: Message, *, opted_out: bool) -> list[Reply]:
        await self.store.set_opted_out(message.citizen, opted_out)
        try:  # the durable record, and the links held back until START
            await self.consented(message.citizen, message.medium, opted_out)
        except Exception:  # Redis holds the choice: the worker checks both
            logger.error("the opt-out of a citizen was not recorded durably", exc_info=True)
        at = datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None).isoformat()
        event = "opted_out" if opted_out else "opted_in"
        await self.store.append_events(
            [{"event": event, "channel": message.medium, "citizen": message.citizen, "at": at}]
        )
        key = "opted_out" if opted_out else "opted_in"
        return [Reply(localise(BUILTIN_TEXTS[key], message.lang or "en"), end=opted_out)]

    def _applicant(self, message: Message, proved: str, opted_out: bool) -> Applicant:
        """Who is writing: the operator gives USSD, SMS and WhatsApp numbers; a web or
        Telegram citizen holds the number proved by a code, if any."""
        phone = message.citizen if is_phone_address(message.citizen) else proved or None
        return Applicant(message.citizen, message.medium, message.lang or "en", phone, opted_out)

    async def _step(
        self,
        message: Message,
        record: SessionRecord | None,
        applicant: Applicant,
        correction: str = "",
    ) -> tuple[list[Reply], SessionRecord, list[dict[str, Any]], int]:
        now = self.clock()
        events: list[dict[str, Any]] = []
        snapshot = Snapshot.from_json(record.snapshot) if record else None
        abandoned = record is not None and 0 < record.deadline < now  # not swept yet
        if snapshot is not None and abandoned and not snapshot.ended:
            events.append(expired_event(message.citizen, snapshot, now))
            snapshot = None
        resume: str = ""
        if snapshot is not None and record is not None and not snapshot.ended:
            if message.medium is Medium.USSD and (
                record.channel != Medium.USSD or record.session != message.session
            ):
                resume = "ask"  # a new dial
            elif record.channel != message.medium:
                resume = "say"  # the same application, from another channel
        lang = message.lang or (snapshot.lang if snapshot else None)
        text, context = message.text, ""
        if message.accumulated:
            same_session = record is not None and record.session == message.session
            text = newest_answer(message.text, record.context if same_session and record else None)
            context = message.text
        inbound = Inbound(
            text=text,
            medium=message.medium,
            now=message.received or datetime.fromtimestamp(now, UTC).replace(tzinfo=None),
            choice=message.choice,
            lang=lang,
            service=message.service,
            conversation_id=secrets.token_hex(16),  # used when one starts; uuid4 cost more
            resume=resume,  # type: ignore[arg-type]
            phone=applicant.phone,
            correction=_correction(correction) if correction else None,
        )
        applicant = replace(applicant, lang=lang or "en")  # the conversation's language
        if snapshot is not None and snapshot.service is not None and not snapshot.ended:
            await self._hold_version(snapshot.service, snapshot.version)
        outcome = await self._run(snapshot, inbound, applicant)
        new = outcome.snapshot
        if new.service is not None:
            self.version_use[(new.service, new.version)] = now
        events += [
            {**event, "citizen": message.citizen, "conversation": new.id}
            for event in outcome.events
        ]
        if new.ended:  # the language alone: no answers, no USSD text (143 bytes in Redis)
            stored = SessionRecord(new.retained().to_json(), message.medium)
            return list(outcome.replies), stored, events, ENDED_TTL_SECONDS
        window = self._window(new)
        stored = SessionRecord(
            new.to_json(), message.medium, message.session, now + window, context
        )
        return list(outcome.replies), stored, events, window

    async def _hold_version(self, service_id: str, version: int) -> None:
        """Load the version a conversation is pinned to when this process lacks it (it
        started after a reload, or released the version): from the archive every process
        writes (`gateway.catalog.versions`). One dict lookup on the usual path."""
        if self.catalog.get(service_id, version) is not None:
            return
        restored = await restore_version(self.store.client, service_id, version)
        if restored is not None:
            self.catalog = self.catalog.keep(restored)
            logger.info("service %s version %s loaded from the archive", service_id, version)

    async def _run(
        self, snapshot: Snapshot | None, inbound: Inbound, applicant: Applicant
    ) -> Outcome:
        turn = conversation_turn(self.catalog, snapshot, inbound)
        try:
            effect = next(turn)
            while True:
                effect = turn.send(await self._perform(effect, applicant))
        except StopIteration as finished:
            outcome: Outcome = finished.value
            return outcome

    async def _perform(self, effect: Effect, applicant: Applicant) -> EffectResult:
        return await PERFORMERS(effect, self, applicant)

    def _window(self, snapshot: Snapshot) -> int:
        service = self.catalog.get(snapshot.service, snapshot.version) if snapshot.service else None
        if service is None:
            return MENU_RESUME_SECONDS
        return service.definition.resume_minutes * 60

    async def sweep(self, now: float | None = None, limit: int = 100) -> int:
        """End abandoned conversations, recording where each citizen stopped; release
        service versions no conversation can still be using. Safe to run anywhere, any
        number of times: each expiry happens once."""
        now = self.clock() if now is None else now
        expired = 0
        for citizen in await self.store.due(now, limit):
            gone = await self.store.expire(citizen, now)
            if gone is not None:
                snapshot = Snapshot.from_json(gone.snapshot)
                await self.store.append_events([expired_event(citizen, snapshot, now)])
                expired += 1
        self.release_versions(now)
        return expired

    def release_versions(self, now: float) -> None:
        """Drop compiled versions that are no longer published and that no session has
        used for longer than any resume window (such sessions have expired)."""
        for (service_id, version), last_used in list(self.version_use.items()):
            if self.catalog.published.get(service_id) == version:
                continue
            old = self.catalog.get(service_id, version)
            window = old.definition.resume_minutes * 60 if old else 0
            if now - last_used > window + MENU_RESUME_SECONDS:
                self.catalog = self.catalog.release(service_id, version)
                del self.version_use[(service_id, version)]


def newest_answer(full: str, previous: str | None) -> str:
    """The answer a USSD `text` adds to the previous one ("1*2*Pema" after "1*2": "Pema").

    Compared with the previous text rather than split on "*", because a citizen may type
    "*" inside an answer. Without a previous text (a new session) the whole text is new.
    """
    if previous is None or previous == "":
        return full
    if full.startswith(previous + "*"):
        return full[len(previous) + 1 :]
    if full == previous:
        return ""
    return full.rsplit("*", 1)[-1]  # out of step with the aggregator: its newest part


def expired_event(citizen: str, snapshot: Snapshot, now: float) -> dict[str, Any]:
    """The drop-off record of an abandoned conversation, at the step it stopped."""
    return {
        "event": "expired",
        "service": snapshot.service,
        "version": snapshot.version,
        "step": snapshot.step,
        "at": datetime.fromtimestamp(now, UTC).replace(tzinfo=None).isoformat(),
        "citizen": citizen,
        "conversation": snapshot.id,
    }


def _correction(text: str) -> Correction | None:
    """The returned application `begin` read, or None when it cannot be read (written by
    a version of the gateway that wrote another shape: the citizen begins as usual)."""
    try:
        return Correction.from_json(text)
    except (ValueError, TypeError, KeyError):
        logger.warning("a returned application's pointer could not be read")
        return None


def encode_replies(replies: list[Reply]) -> str:
    return json_text.dumps([reply_data(reply) for reply in replies])


def decode_replies(text: str) -> list[Reply]:
    """Stored replies; "" is a message seen before whose reply is no longer kept (or
    that named another citizen): nothing is sent again."""
    return [reply_from_data(item) for item in json.loads(text)] if text else []


def _is_ussd(message: Message) -> bool:
    return message.medium is Medium.USSD
