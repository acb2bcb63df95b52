"""E364: a text given in other languages but not in the default one (`en`).

The default language is what every other language falls back to and what USSD shows: a
text without it is shown in whichever translation comes first, to everyone, garbled on
USSD. Said in those words here, so the GSM alphabet check (E255), which would otherwise
complain about the Dzongkha shown in its place, stays silent about such a text.
"""

from __future__ import annotations

from dialogs.catalog import LANGUAGE_NAMES
from dialogs.compiler import definition_texts
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.text import DEFAULT_LANGUAGE, Text

CODES = ("E364",)


def lacks_default_language(text: Text) -> bool:
    """Given as translations, none of them in the default language."""
    return isinstance(text, dict) and DEFAULT_LANGUAGE not in text


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    name = LANGUAGE_NAMES.get(DEFAULT_LANGUAGE, DEFAULT_LANGUAGE)
    problems: list[Problem] = []
    for path, text in definition_texts(definition):
        if not lacks_default_language(text):
            continue
        given = ", ".join(f"{lang}: ..." for lang in text) if isinstance(text, dict) else ""
        problems.append(
            loaded.at(
                path,
                "E364",
                f"no {name} text (the default language `{DEFAULT_LANGUAGE}`)",
                f"Add it first: `{{{DEFAULT_LANGUAGE}: ..., {given}}}`; every other language "
                "falls back to it.",
            )
        )
    return problems
