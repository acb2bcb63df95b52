"""The renderer contract: a Reply in, the screen a medium shows out.

A renderer writes the medium's plain screen text. Buttons, lists and keyboards are drawn by
the provider that sends them (Meta's interactive messages, Telegram's inline keyboard),
within the medium's limits (`dialogs.media`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dialogs.media import Medium
from dialogs.messages import Reply, ReplyOption


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply as the medium shows it as text: the screen, whether the conversation ends
    with it, and the link it carries (a certificate) for a provider that can attach one."""

    text: str
    end: bool = False
    link: str | None = None


class Renderer(Protocol):
    medium: Medium

    def render(self, reply: Reply) -> Rendered: ...


def numbered(text: str, options: tuple[ReplyOption, ...]) -> str:
    """`text` followed by one `key. label` line per option (the USSD/SMS menu form)."""
    lines = [text] if text else []
    lines += [f"{option.key}. {option.label}" for option in options]
    return "\n".join(lines)
