"""Intent detection by a Rasa server (`POST /model/parse`), with a fallback classifier.

A citizen on USSD waits for every reply with the session timer running, so Rasa gets a
tight time limit (0.3 s by default). When it does not answer in time, cannot be reached,
answers 5xx (or another error status), or answers something that is not a parse result,
the fallback classifier (the embedded one) answers instead and the failure is counted;
after `threshold` consecutive failures the circuit breaker stops calling Rasa for a
cooldown, so an outage costs a few citizens the timeout once, not everyone every time.

Rasa is sent `nlu.rasa_project.rasa_text` of the message, as its examples were written
for training (Tibetan split into syllables, glossary and shorthand hints appended); the
`Meaning` keeps the citizen's own text. The intents `nlu_fallback` (below the
FallbackClassifier's threshold) and `out_of_scope` (trained on names, off-topic
questions, gibberish...) both mean "not understood".
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

import aiohttp

from dialogs.messages import Entity, Meaning
from nlu.breaker import CircuitBreaker
from nlu.classifier import Classifier
from nlu.rasa_project import OUT_OF_SCOPE, original_length, rasa_text

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"  # Rasa's FallbackClassifier: nothing understood
NOT_UNDERSTOOD = frozenset({FALLBACK_INTENT, OUT_OF_SCOPE, ""})
# A parse result is a few kB (the ranking has ten intents): far more is not one.
MAX_REPLY_BYTES = 1024 * 1024


class RasaError(Exception):
    """Rasa gave no usable answer (the caller falls back)."""


@dataclass
class RasaCounters:
    """What the client did, for metrics. `calls` = `answered` + `fallbacks`."""

    calls: int = 0
    answered: int = 0  # by Rasa
    fallbacks: int = 0  # answered by the fallback classifier, for any reason
    failures: int = 0  # Rasa was called and failed (each is also a fallback)
    timeouts: int = 0  # of which timed out
    skipped: int = 0  # Rasa not called: the breaker was open


class RasaClassifier:
    """A `Classifier` asking a Rasa server, falling back to `fallback` when it cannot."""

    name = "rasa"

    def __init__(
        self,
        url: str,
        fallback: Classifier,
        token: str | None = None,
        timeout: float = 0.3,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/model/parse") else base + "/model/parse"
        self.fallback = fallback
        self._params = {"token": token} if token else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.breaker = breaker or CircuitBreaker(name="rasa")
        self.counters = RasaCounters()
        self._session: aiohttp.ClientSession | None = None

    def stats(self) -> dict[str, Any]:
        """Counters and the breaker's state, as one flat mapping for metrics."""
        return {
            **asdict(self.counters),
            "breaker_state": self.breaker.state,
            "breaker_opened": self.breaker.times_opened,
        }

    async def classify(self, text: str, lang: str) -> Meaning:
        self.counters.calls += 1
        if not self.breaker.allow():
            self.counters.skipped += 1
            return await self._fall_back(text, lang)
        try:
            meaning = await self._parse(text)
        except (TimeoutError, aiohttp.ClientError, RasaError) as exc:
            self.breaker.failure()
            self.counters.failures += 1
            if isinstance(exc, TimeoutError):
                self.counters.timeouts += 1
            log.debug("rasa failed (%s); using %s", _describe(exc), self.fallback.name)
            return await self._fall_back(text, lang)
        except BaseException:  # cancelled, or a bug here: no verdict on Rasa
            self.breaker.release()
            raise
        self.breaker.success()
        self.counters.answered += 1
        return meaning

    async def aclose(self) -> None:
        """Close the HTTP session (its kept-alive connections)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _fall_back(self, text: str, lang: str) -> Meaning:
        self.counters.fallbacks += 1
        return await self.fallback.classify(text, lang)

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: a ClientSession belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def _parse(self, text: str) -> Meaning:
        async with self._client().post(
            # Rasa reads a message starting with "/" as an intent name ("/stop"), not text.
            self.url,
            json={"text": rasa_text(sent := text.lstrip("/"))},
            params=self._params,
        ) as response:
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_REPLY_BYTES:
                    raise RasaError("reply too large")
            if response.status != 200:
                raise RasaError(f"HTTP {response.status}: {bytes(body[:200])!r}")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # deep nesting exhausts the parser
            raise RasaError(f"not JSON: {bytes(body[:200])!r}") from exc
        try:
            meaning = meaning_from_parse(sent, data)
        except (TypeError, KeyError, AttributeError, ValueError) as exc:  # JSON of another shape
            raise RasaError(f"not a parse result: {exc}") from exc
        return replace(meaning, text=text)


def meaning_from_parse(text: str, data: Any) -> Meaning:
    """Rasa's parse result as a `Meaning`; `RasaError` when it is not one.

    `nlu_fallback` (Rasa's "not understood"), `out_of_scope` and an empty intent become
    no intent; the ranking keeps the real intents so a caller can still offer the likely
    ones. `data` is the parse of `rasa_text(text)`: entities found in the hints appended
    after the message are not the citizen's and are left out (entities are taken by
    value, so the syllable marks made spaces do not matter).
    """
    if not isinstance(data, dict) or not isinstance(data.get("intent"), dict | None):
        raise RasaError(f"not a parse result: {str(data)[:200]}")
    intent = data.get("intent") or {}
    name = intent.get("name")
    ranking = tuple(
        (str(item["name"]), _confidence(item.get("confidence")))
        for item in data.get("intent_ranking") or ()
        if isinstance(item, dict) and item.get("name") and item["name"] not in NOT_UNDERSTOOD
    )
    entities: list[Entity] = []
    end = original_length(text)
    for item in _without_overlaps(data.get("entities") or ()):
        span = _span(item)
        if span is not None and span[0] >= end:  # in the appended hints
            continue
        entity = _entity(str(item["entity"]), str(item["value"]))
        if entity not in entities:
            entities.append(entity)
    understood = isinstance(name, str) and name not in NOT_UNDERSTOOD
    return Meaning(
        text=text,
        intent=name if understood else None,
        confidence=_confidence(intent.get("confidence")) if understood else 0.0,
        ranking=ranking,
        entities=tuple(entities),
        source="rasa",
    )


def _without_overlaps(items: Any) -> list[dict[str, Any]]:
    """The well-formed entities, less an ID that is part of a phone number: with its
    country code (97517123456) a phone number has 11 digits and also matches the ID
    regex. Phone numbers come first, as in the embedded classifier."""
    valid = [
        item
        for item in items
        if isinstance(item, dict) and item.get("entity") and item.get("value") is not None
    ]
    phones = [_span(item) for item in valid if item["entity"] == "phone"]
    return [
        item
        for item in valid
        if item["entity"] != "cid" or not any(_overlap(_span(item), phone) for phone in phones)
    ]


def _span(item: dict[str, Any]) -> tuple[int, int] | None:
    start, end = item.get("start"), item.get("end")
    return (start, end) if isinstance(start, int) and isinstance(end, int) else None


def _overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return a is not None and b is not None and a[0] < b[1] and b[0] < a[1]


def _entity(kind: str, value: str) -> Entity:
    """As the embedded classifier gives them: an ID as its 11 digits, a phone number in
    the 8-digit national form, a list option as its value."""
    if kind == "cid":
        return Entity(kind, re.sub(r"\D", "", value))
    if kind == "phone":
        return Entity(kind, re.sub(r"\D", "", value)[-8:])
    # Rasa's synonym mapper only maps names that differ from the option value when
    # lowercased, so "Pasakha" arrives as written: option values are lowercase
    # identifiers, so lowercasing gives the value.
    return Entity(kind, value.lower())


def _confidence(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise RasaError(f"confidence {value!r} is not a number") from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
