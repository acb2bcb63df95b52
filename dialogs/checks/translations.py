"""W240/W241: a text missing a declared language, or given in an undeclared one.

Warnings: a missing translation falls back to English, and an undeclared one is never
shown; neither breaks a conversation, but both are usually an oversight.
"""

from __future__ import annotations

from dialogs.compiler import definition_texts
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.text import languages_of

CODES = ("W240", "W241")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    declared = set(definition.languages)
    problems: list[Problem] = []
    for path, text in definition_texts(definition):
        given = languages_of(text)
        missing = sorted(declared - given)
        if missing:
            problems.append(
                loaded.at(
                    path,
                    "W240",
                    f"no {', '.join(missing)} translation (English is shown instead)",
                    "Write the text as `{"
                    + ", ".join(f"{lang}: ..." for lang in sorted(declared))
                    + "}`.",
                )
            )
        if _in_shared_list(loaded, path):
            continue  # a shared list serves every service, in more languages than some offer
        for lang in sorted(given - declared):
            problems.append(_undeclared(loaded, [*path, lang], lang))
    for name in ("keywords", "examples"):
        for lang in sorted(set(getattr(definition, name)) - declared):
            problems.append(_undeclared(loaded, [name, lang], lang))
    return problems


def _in_shared_list(loaded: Loaded, path: tuple[str | int, ...]) -> bool:
    index = path[1] if len(path) > 2 and path[2] == "options" else None
    return isinstance(index, int) and loaded.options_from_list(index)


def _undeclared(loaded: Loaded, path: list[str | int], lang: str) -> Problem:
    return loaded.at(
        path,
        "W241",
        f"language {lang!r} is not in `languages:`, so this is never shown",
        f"Add {lang} to `languages:` or remove this translation.",
        key=True,
    )
