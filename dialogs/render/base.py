"""The renderer contract: a Reply in, what a medium shows out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from dialogs.media import Medium
from dialogs.messages import Reply, ReplyOption


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply as the channel shows it: the plain screen text, and structured parts for
    channels with buttons or lists (None where the channel shows text only)."""

    text: str
    end: bool = False
    interactive: dict[str, Any] | None = None
    link: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    medium: Medium

    def render(self, reply: Reply) -> Rendered: ...


def numbered(text: str, options: tuple[ReplyOption, ...]) -> str:
    """`text` followed by one `key. label` line per option (the USSD/SMS menu form)."""
    lines = [text] if text else []
    lines += [f"{option.key}. {option.label}" for option in options]
    return "\n".join(lines)
