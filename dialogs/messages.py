"""What goes into and out of one conversation step, independent of any channel.

Nothing here knows a provider payload: channel adapters translate to and from these types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from dialogs.media import Medium
from dialogs.session import Snapshot


@dataclass(frozen=True, slots=True)
class ReplyOption:
    """A numbered choice on a screen. `key` is what the citizen types (or a button sends)."""

    key: str
    label: str
    nav: bool = False  # navigation ("98 More", "0 Back") rather than an answer


@dataclass(frozen=True, slots=True)
class Reply:
    """One screen or message to show: text, options, an optional link, and whether it ends."""

    text: str
    options: tuple[ReplyOption, ...] = ()
    link: str | None = None
    end: bool = False


def reply_data(reply: Reply) -> dict[str, Any]:
    """A reply as plain JSON-ready data (stored for redeliveries, queued for senders)."""
    return {
        "text": reply.text,
        "options": [{"key": o.key, "label": o.label, "nav": o.nav} for o in reply.options],
        "link": reply.link,
        "end": reply.end,
    }


def reply_from_data(data: Mapping[str, Any]) -> Reply:
    """The reply `reply_data` described."""
    options = tuple(ReplyOption(**option) for option in data.get("options", ()))
    return Reply(str(data["text"]), options, data.get("link"), bool(data.get("end", False)))


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """Effect: call a registry and feed the outcome back as a `LookupResult`."""

    step: str
    method: Literal["GET", "POST"]
    url: str
    query: Mapping[str, str]
    body: Mapping[str, str] | None
    headers: Mapping[str, str]
    timeout: float


@dataclass(frozen=True, slots=True)
class RepeatLimits:
    """How many applications one ID or one number may make to a service in `days`."""

    per_id: int
    per_phone: int
    days: int


@dataclass(frozen=True, slots=True)
class Submission:
    """Effect: store an application durably and feed back a `SubmissionResult`."""

    step: str
    service: str
    version: int
    idempotency_key: str
    mode: Literal["instant", "review"]
    reference_prefix: str
    answers: Mapping[str, Any]
    document: Mapping[str, Any] | None
    # Who applies: the citizenship ID answered (None: the service asks none) and the
    # number that proved who they are (the operator's, or one proved by a code).
    applicant_id: str | None = None
    phone: str | None = None
    # How the applicant's identity is known: "registry" (a registry confirmed it on the
    # way here) or "self-declared" (the definition accepts what was typed).
    assurance: Literal["registry", "self-declared"] = "registry"
    flags: tuple[str, ...] = ()  # for officers, e.g. "identity_unconfirmed"
    limits: RepeatLimits | None = None  # None: not limited
    # The reference of an application an officer returned for correction: these answers
    # replace its own, and it goes back to the officer (no new application).
    amends: str | None = None


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """Effect: the citizen's recent applications, fed back as a `StatusResult`."""

    limit: int = 5


@dataclass(frozen=True, slots=True)
class Understand:
    """Effect: classify the citizen's free text; fed back as a `Meaning`."""

    text: str
    lang: str


@dataclass(frozen=True, slots=True)
class SendCode:
    """Effect: send a one-time code by SMS to `phone` (E.164); fed back as `CodeSent`."""

    phone: str
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class CheckCode:
    """Effect: check the code the citizen typed for `phone`; fed back as `CodeChecked`."""

    phone: str
    code: str


Effect = LookupRequest | Submission | StatusRequest | Understand | SendCode | CheckCode


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Outcome of a LookupRequest: JSON data when it worked."""

    ok: bool
    data: Any = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """Outcome of a Submission: its reference, status and document link when issued."""

    ok: bool
    reference: str = ""
    status: str = ""
    link: str | None = None
    # Not stored, and trying again will not help: "limit" (too many applications to this
    # service from this ID or number lately).
    refused: str = ""
    held: bool = False  # the number opted out: the link is sent when it sends START


@dataclass(frozen=True, slots=True)
class CodeSent:
    """Outcome of SendCode. `reason` when not sent: "too_many" (codes asked too often),
    "not_allowed" (a number the service does not serve), "unavailable"."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CodeChecked:
    """Outcome of CheckCode. `reason` when wrong: "wrong" (`tries_left` more may be
    tried), "expired" (no code to check: ask for a new one), "locked" (too many tries)."""

    ok: bool
    reason: str = ""
    tries_left: int = 0


@dataclass(frozen=True, slots=True)
class Application:
    """One of the citizen's applications as the status list shows it."""

    reference: str
    service: str  # service id (the engine shows its title)
    status: str  # issued, pending, approved, rejected


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Outcome of a StatusRequest: the applications, newest first."""

    ok: bool
    applications: tuple[Application, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    """Something the citizen named in free text.

    `kind` is `cid` (citizenship ID), `phone`, or the name of a shared list (e.g.
    `dzongkhags`), whose option `value` is then the value.
    """

    kind: str
    value: str


# Intents every catalog understands besides one per service (named by the service id).
BUILTIN_INTENTS = ("help", "status", "stop", "menu", "greet", "affirm", "deny")
# Confidence bands, the same for every classifier: act at CONFIDENT and above, ask the
# citizen to confirm from UNSURE, below that nothing was understood.
CONFIDENT = 0.8
UNSURE = 0.5


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a citizen's free text asks for, as a classifier understood it.

    `intent` is a service id or one of `BUILTIN_INTENTS`; None when nothing was
    understood. `ranking` lists the best intents with their confidence, best first.
    """

    text: str
    intent: str | None = None
    confidence: float = 0.0
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[Entity, ...] = ()
    source: str = ""  # the classifier that answered: embedded, rasa


EffectResult = LookupResult | SubmissionResult | StatusResult | Meaning | CodeSent | CodeChecked


@dataclass(frozen=True, slots=True)
class Correction:
    """An application an officer returned: the citizen's next conversation takes them to
    `steps` (the answers to correct), then back to the summary, and confirming sends the
    corrected answers to the same application."""

    reference: str
    service: str
    version: int
    answers: Mapping[str, Any]
    steps: tuple[str, ...]
    note: str = ""

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "answers": dict(self.answers)})

    @classmethod
    def from_json(cls, text: str) -> Correction:
        data = json.loads(text)
        return cls(**{**data, "steps": tuple(data["steps"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """One thing from the citizen (or an effect's result) for the engine to act on."""

    medium: Medium
    now: datetime  # the engine has no clock: the caller's time of the message
    text: str = ""
    choice: str | None = None  # an option key sent by a button or list row
    lang: str | None = None  # language known from an earlier conversation
    service: str | None = None  # start this service directly (e.g. a USSD code per service)
    conversation_id: str = ""  # id for a new conversation, supplied by the caller
    result: EffectResult | None = None
    # A conversation in flight reached again: "ask" after a new dial (continue or start
    # again?), "say" from another channel (continue, and say so).
    resume: Literal["", "ask", "say"] = ""
    # The number this citizen is known to hold: the operator's (USSD, SMS, WhatsApp) or
    # one proved by a code earlier (web chat, Telegram); None: not proved yet.
    phone: str | None = None
    # An application of this citizen returned for correction: a new conversation begins
    # with it.
    correction: Correction | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one step produced: the next snapshot, replies to send, effects to perform."""

    snapshot: Snapshot
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
    events: tuple[Mapping[str, Any], ...] = ()
