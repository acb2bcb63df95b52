"""Reading what the citizen typed: cleaned of what no parser should see, matched to a list."""

from __future__ import annotations

from dialogs.text import fold

MAX_ANSWER_CHARS = 2000  # longer input is cut before parsing; no step accepts more


def clean(raw: str) -> str:
    # Control characters and absurd lengths never reach a step's parser.
    text = raw[:MAX_ANSWER_CHARS].encode("utf-8", "replace").decode("utf-8")
    return "".join(c if c.isprintable() or c in "\n\t" else " " for c in text).strip()


def pick(raw: str, labels: list[str], keys: list[str]) -> int | None:
    """Index chosen by number, key or (folded) label; None when nothing matches."""
    if raw.isascii() and raw.isdigit():
        index = int(raw) - 1
        return index if 0 <= index < len(labels) else None
    folded = fold(raw)
    for index, (label, key) in enumerate(zip(labels, keys, strict=True)):
        if folded and folded in (fold(label), fold(key)):
            return index
    return None


def is_keypad(raw: str) -> bool:
    """Digits only: a keypad answer, never free text to understand."""
    return raw.isascii() and raw.isdigit()
