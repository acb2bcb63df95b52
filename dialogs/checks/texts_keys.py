"""E345: a key under `texts:` that names no built-in message.

`texts:` overrides the engine's own messages (`BUILTIN_TEXTS`, with those the step types
add) by name. A key naming none (`bad_cdi:`) is silently ignored: citizens keep reading
the built-in text the author meant to replace.
"""

from __future__ import annotations

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.checks._names import did_you_mean
from dialogs.loader import Loaded
from dialogs.problems import Problem

CODES = ("E345",)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    return [
        loaded.at(
            ("texts", key),
            "E345",
            f"texts.{key}: there is no built-in message {key!r} to override",
            did_you_mean(key, BUILTIN_TEXTS)
            + 'The names are listed under "Built-in messages" in docs/authoring.md.',
            key=True,
        )
        for key in definition.texts
        if key not in BUILTIN_TEXTS
    ]
