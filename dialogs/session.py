"""The conversation snapshot: small, plain JSON between two steps, and the states it waits in.

It pins the service id and version it started on, so publishing a new version never
changes a conversation in flight. What the conversation waits for is a typed state, each
a small frozen type carrying only its own fields; the engine's table
(`dialogs.engine.table`) says what each shows and what an answer or a result does there.
The engine writes a `Draft` during a turn and freezes it into a Snapshot once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, get_args

from dialogs import json_text


# ------------------------------------------------------------------ at the main menu
@dataclass(frozen=True, slots=True)
class Opening:
    """The conversation's first message is with the classifier, nothing shown yet. Lasts
    within one turn: the meaning comes back before the turn ends."""

    tag: ClassVar[str] = "opening"


@dataclass(frozen=True, slots=True)
class AtMenu:
    """The menu of services is shown."""

    tag: ClassVar[str] = "menu"


@dataclass(frozen=True, slots=True)
class ChoosingLanguage:
    """The list of languages is shown."""

    tag: ClassVar[str] = "lang"


@dataclass(frozen=True, slots=True)
class Suggested:
    """At the menu, "Did you mean ...?": free text seemed to ask for `service`, not surely
    enough to start it; `answers` were given up front for it."""

    tag: ClassVar[str] = "pick"
    service: str
    answers: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------ in a service
@dataclass(frozen=True, slots=True)
class Asking:
    """At the current step: its question is shown (or it runs on by itself)."""

    tag: ClassVar[str] = "ask"


@dataclass(frozen=True, slots=True)
class ChoosingField:
    """At a summary, the citizen asked to change an answer: which one?"""

    tag: ClassVar[str] = "edit"


@dataclass(frozen=True, slots=True)
class ConfirmingPrefill:
    """The current step's answer was given up front (`Snapshot.prefill`): is it right?"""

    tag: ClassVar[str] = "prefill"


@dataclass(frozen=True, slots=True)
class Awaiting:
    """The current step's lookup or submission is out, or failed and waits for any
    answer to be tried again."""

    tag: ClassVar[str] = "awaiting"


@dataclass(frozen=True, slots=True)
class ResumeOffered:
    """A new dial reached the conversation in flight: continue, or start again?"""

    tag: ClassVar[str] = "resume"


@dataclass(frozen=True, slots=True)
class SwitchOffered:
    """Free text asked for another `service`: leave this one for it? `answers` were
    given up front for that service."""

    tag: ClassVar[str] = "switch"
    service: str
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StopOffered:
    """Free text asked to stop: end the application?"""

    tag: ClassVar[str] = "stop"


@dataclass(frozen=True, slots=True)
class AskingNumber:
    """The current step needs a proved number (web chat, Telegram): which mobile number?"""

    tag: ClassVar[str] = "phone"


@dataclass(frozen=True, slots=True)
class SendingCode:
    """A code is being sent to `phone`, the number just typed (its result comes back
    within the turn)."""

    tag: ClassVar[str] = "sending"
    phone: str


@dataclass(frozen=True, slots=True)
class AskingCode:
    """A code was sent to `phone`: what is it?"""

    tag: ClassVar[str] = "code"
    phone: str


# ------------------------------------------------------------------ either
@dataclass(frozen=True, slots=True)
class AwaitingStatus:
    """The citizen's applications were asked for, at the menu or in a service (they come
    back within the turn)."""

    tag: ClassVar[str] = "status"


State = (
    Opening
    | AtMenu
    | ChoosingLanguage
    | Suggested
    | Asking
    | ChoosingField
    | ConfirmingPrefill
    | Awaiting
    | ResumeOffered
    | SwitchOffered
    | StopOffered
    | AskingNumber
    | SendingCode
    | AskingCode
    | AwaitingStatus
)

_BY_TAG: dict[str, type[State]] = {kind.tag: kind for kind in get_args(State)}
_FIELDS: dict[type[State], tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in get_args(State)
}


def state_data(state: State) -> str | dict[str, Any]:
    """A state as JSON data: its tag, or its tag (`is`) and its fields."""
    names = _FIELDS[type(state)]
    if not names:
        return state.tag
    return {"is": state.tag, **{name: getattr(state, name) for name in names}}


def state_from_data(data: str | dict[str, Any]) -> State:
    """The state `state_data` wrote."""
    values = {"is": data} if isinstance(data, str) else dict(data)
    return _BY_TAG[values.pop("is")](**values)


_LEGACY_PLAIN: dict[str, State] = {  # modes without fields of their own
    "menu": AtMenu(),
    "lang": ChoosingLanguage(),
    "edit": ChoosingField(),
    "prefill": ConfirmingPrefill(),
    "awaiting": Awaiting(),
    "resume": ResumeOffered(),
    "status": AwaitingStatus(),
}


def legacy_state(data: dict[str, Any]) -> State:
    """The state a snapshot stored before typed states was in: takes its `mode` and the
    fields only some modes used (`offer`, `offered`, `verifying`) out of `data`."""
    mode = data.pop("mode", "")
    offer, offered = data.pop("offer", ""), data.pop("offered", None) or {}
    verifying = data.pop("verifying", "")
    plain = _LEGACY_PLAIN.get(mode)
    if plain is not None:
        return plain
    match mode:
        case "pick":
            return Suggested(offer, offered)
        case "switch" if offer == "stop":
            return StopOffered()
        case "switch":
            return SwitchOffered(offer, offered)
        case "phone" if verifying:
            return SendingCode(verifying)
        case "phone":
            return AskingNumber()
        case "code":
            return AskingCode(verifying)
    # "": at a step's question, or the first message at the menu
    return Asking() if data.get("service") is not None else Opening()


@dataclass(frozen=True)
class Snapshot:
    """Where a citizen is in a conversation and what they answered."""

    id: str
    lang: str = "en"
    service: str | None = None  # None: at the main menu of services
    version: int = 0
    step: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    trail: tuple[str, ...] = ()  # steps passed, newest last, for "back"
    page: int = 0  # page of a long screen
    state: State = AtMenu()  # what the conversation waits for
    return_to: str | None = None  # summary to come back to after changing an answer
    submission: dict[str, Any] | None = None
    invalid: int = 0  # invalid answers in a row at this step
    notice: str = ""  # error or help heading the screen shown, so "98" pages that screen
    ended: bool = False
    run: int = 0  # services started in this conversation: one submission per run
    rewound: bool = False  # went back or changed an answer: answers may be off the path
    started: str = ""  # ISO time the conversation started
    prefill: dict[str, str] = field(default_factory=dict)  # step -> answer given up front
    phone: str = ""  # a number proved by a code in this conversation
    amends: str | None = None  # the returned application this run corrects
    correcting: tuple[str, ...] = ()  # steps the officer named, not reached yet

    @property
    def mode(self) -> str:
        """The state's stored name, as the mode string of old snapshots called it
        (tests/dialogs/test_properties.py reads it; match on `state` instead)."""
        return self.state.tag

    def to_json(self) -> str:
        """The fields that differ from their defaults, as they are (json copies nothing;
        asdict would deep-copy the answers): `from_json` fills in the rest. A snapshot at
        a question is about 40% smaller so; an ended one (`retained`) is 23 bytes."""
        kept = {
            name: value
            for name, value in self.__dict__.items()
            if name == "id" or value != _DEFAULTS[name]
        }
        if "state" in kept:
            kept["state"] = state_data(self.state)
        return json_text.dumps(kept)

    def retained(self) -> Self:
        """What an ended conversation keeps while it is remembered: that it ended (a
        repeated effect result changes nothing) and its language (the next conversation
        starts in it). The answers went to the submission's record: Redis keeps no
        personal data past the conversation (143 bytes a citizen, hash and key)."""
        return type(self)(id="", lang=self.lang, ended=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A stored snapshot, in today's shape or in the one before typed states (a `mode`
        string, with `offer`, `offered` and `verifying` beside it)."""
        data = json.loads(text)
        data["trail"] = tuple(data.get("trail", ()))
        data["correcting"] = tuple(data.get("correcting", ()))
        if "mode" in data:
            data["state"] = legacy_state(data)
        else:
            data["state"] = state_from_data(data.get("state", AtMenu.tag))
        return cls(**data)

    def draft(self) -> Draft:
        """A mutable copy for the engine to write during one turn."""
        copy = object.__new__(Draft)
        copy.__dict__.update(self.__dict__)  # the same fields (tests/dialogs/test_states.py)
        return copy

    def evolve(self, **changes: Any) -> Self:
        """A copy with `changes` applied (tests and tools; the engine writes a `Draft`)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__, **changes)
        return clone


# Each field's default but the id's, for `Snapshot.to_json` to leave out.
_DEFAULTS: dict[str, Any] = {
    one.name: one.default_factory() if callable(one.default_factory) else one.default
    for one in fields(Snapshot)
    if one.name != "id"
}


@dataclass
class Draft:
    """The snapshot being written during one turn: the same fields, checked by mypy on
    every write, frozen once at the end (one copy per turn, not one per change)."""

    id: str
    lang: str = "en"
    service: str | None = None
    version: int = 0
    step: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    trail: tuple[str, ...] = ()
    page: int = 0
    state: State = AtMenu()
    return_to: str | None = None
    submission: dict[str, Any] | None = None
    invalid: int = 0
    notice: str = ""
    ended: bool = False
    run: int = 0
    rewound: bool = False
    started: str = ""
    prefill: dict[str, str] = field(default_factory=dict)
    phone: str = ""
    amends: str | None = None
    correcting: tuple[str, ...] = ()

    def snapshot(self) -> Snapshot:
        frozen = object.__new__(Snapshot)
        frozen.__dict__.update(self.__dict__)
        return frozen
