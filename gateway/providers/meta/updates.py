"""A WhatsApp Business Account webhook's body, as Meta documents it: the fields the
gateway reads, each of the type Meta sends (strict), the others ignored.

A change of another field than "messages" (account or template updates) is read as an
empty one. A message's answer is in the part named by its `type` (`text.body`, the
`interactive` reply, a template's `button`); other types (image, audio, location...)
carry none. A status's details (recipient, errors) are read when they are as documented
and left out otherwise: a surprise there must not refuse the citizens' messages of the
same webhook.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from pydantic import ConfigDict, Field, OnErrorOmit, model_validator

from gateway.providers.base import DeliveryReport
from gateway.providers.common import Body, Lenient, matching

OBJECT = "whatsapp_business_account"
MAX_ID = 256
MAX_TITLE = 200
REPLY_TYPES = frozenset({"button_reply", "list_reply"})
WaId = Annotated[str, matching(r"^[1-9][0-9]{6,14}$", "not a WhatsApp id (a phone number)")]


class MetaBody(Body):
    model_config = ConfigDict(strict=True)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a message says: its text, and the key of the option chosen, if one was."""

    text: str = ""
    choice: str | None = None


NO_ANSWER = Answer()


class Part(Protocol):
    def answer(self) -> Answer: ...


class TextPart(MetaBody):
    body: str

    def answer(self) -> Answer:
        return Answer(self.body)


class ButtonPart(MetaBody):
    """A template's quick-reply button: its payload is the option's key."""

    payload: str
    text: str

    def answer(self) -> Answer:
        return Answer(self.text, self.payload)


class ReplyPart(MetaBody):
    """A reply button tapped, or a list row chosen: its id is the option's key."""

    id: str
    title: str

    def answer(self) -> Answer:
        return Answer(self.title, self.id)


class InteractivePart(MetaBody):
    type: Lenient[str] = None
    button_reply: ReplyPart | None = None
    list_reply: ReplyPart | None = None

    @model_validator(mode="after")
    def _has_its_reply(self) -> InteractivePart:
        if self.type in REPLY_TYPES and self._reply() is None:
            raise ValueError(f'needs "{self.type}.id" and "{self.type}.title"')
        return self

    def _reply(self) -> ReplyPart | None:
        return {"button_reply": self.button_reply, "list_reply": self.list_reply}.get(
            self.type or ""
        )

    def answer(self) -> Answer:
        reply = self._reply()
        return reply.answer() if reply is not None else NO_ANSWER


class MetaMessage(MetaBody):
    sender: WaId = Field(alias="from")
    id: str = Field(min_length=1, max_length=MAX_ID)
    type: Lenient[str] = None
    # Unix seconds as a string; read leniently, the signature vouches for the body.
    timestamp: Lenient[float] = Field(default=None, strict=False)
    text: TextPart | None = None
    interactive: InteractivePart | None = None
    button: ButtonPart | None = None

    @model_validator(mode="after")
    def _has_its_part(self) -> MetaMessage:
        if self.type in ("text", "interactive", "button") and self._part() is None:
            raise ValueError(f'a "{self.type}" message needs its "{self.type}"')
        return self

    def _part(self) -> Part | None:
        parts: dict[str, Part | None] = {
            "text": self.text,
            "interactive": self.interactive,
            "button": self.button,
        }
        return parts.get(self.type or "")

    def answer(self) -> Answer:
        part = self._part()
        return part.answer() if part is not None else NO_ANSWER


class MetaError(MetaBody):
    code: int
    title: str = ""


class MetaStatus(MetaBody):
    id: str
    status: str
    recipient_id: Lenient[str] = None
    errors: Lenient[list[OnErrorOmit[MetaError]]] = None

    def report(self) -> DeliveryReport:
        recipient = self.recipient_id
        return DeliveryReport(
            provider_id=f"wa:{self.id}",
            status=self.status,
            recipient=f"+{recipient}" if recipient else "",
            errors=tuple(f"{e.code} {e.title[:MAX_TITLE]}" for e in self.errors or ()),
        )


class Metadata(MetaBody):
    phone_number_id: Lenient[str] = None  # the business number written to


class Value(MetaBody):
    metadata: Metadata = Metadata()
    messages: list[MetaMessage] = Field(default_factory=list)
    statuses: list[MetaStatus] = Field(default_factory=list)


class Change(MetaBody):
    field: Lenient[str] = None
    value: Value


class Entry(MetaBody):
    changes: list[Change]


class Payload(MetaBody):
    """The body of one webhook call: changes, grouped by account."""

    object: Literal["whatsapp_business_account"]
    entry: list[Entry]

    def _changes(self) -> Iterator[Value]:
        for entry in self.entry:
            for change in entry.changes:
                if change.field == "messages":  # account or template updates: nothing to do
                    yield change.value

    def messages(self) -> Iterator[tuple[MetaMessage, Value]]:
        """Every message, with the change it came in, in the order sent."""
        for value in self._changes():
            for message in value.messages:
                yield message, value

    def statuses(self) -> Iterator[MetaStatus]:
        for value in self._changes():
            yield from value.statuses
