"""The conversation snapshot: small, plain JSON between two steps.

It pins the service id and version it started on, so publishing a new version never
changes a conversation in flight.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from dialogs import json_text

# "pick": asked whether the service understood from free text is the one wanted;
# "switch": asked whether to leave the service for the one (or the stop) asked for;
# "prefill": asked to confirm an answer the citizen gave up front;
# "phone" / "code": asked for a number to prove, then for the code sent to it.
Mode = Literal[
    "", "menu", "lang", "edit", "awaiting", "resume", "pick", "switch", "prefill", "phone", "code"
]


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
    mode: Mode = ""
    return_to: str | None = None  # summary to come back to after changing an answer
    submission: dict[str, Any] | None = None
    invalid: int = 0  # invalid answers in a row at this step
    notice: str = ""  # error or help heading the screen shown, so "98" pages that screen
    ended: bool = False
    run: int = 0  # services started in this conversation: one submission per run
    rewound: bool = False  # went back or changed an answer: answers may be off the path
    started: str = ""  # ISO time the conversation started
    offer: str = ""  # the service id (or "stop") a "pick"/"switch" question offers
    offered: dict[str, str] = field(default_factory=dict)  # answers given for `offer`
    prefill: dict[str, str] = field(default_factory=dict)  # step -> answer given up front
    phone: str = ""  # a number proved by a code in this conversation
    verifying: str = ""  # the number a code was sent to, while the citizen types it

    def to_json(self) -> str:
        # The fields as they are (json copies nothing): asdict would deep-copy the answers.
        return json_text.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        data = json.loads(text)
        data["trail"] = tuple(data.get("trail", ()))
        return cls(**data)

    def evolve(self, **changes: Any) -> Self:
        """A copy with `changes` applied (the engine makes several per step, so this skips
        dataclasses.replace's full __init__)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__, **changes)
        return clone
