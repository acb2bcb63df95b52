"""E255: characters outside the GSM alphabet in text shown on USSD.

USSD screens are GSM-7 in practice and show the English text; the renderer turns anything
else into `?` or drops its accent, so "’" or "–" copied from a word processor would reach
the citizen garbled. Texts never shown on USSD (the description, the document's own
title and issuer, printed on a PDF) are left alone.
"""

from __future__ import annotations

from dialogs.checks.default_language import lacks_default_language
from dialogs.compiler import definition_texts
from dialogs.gsm import non_gsm_characters
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.text import localise

CODES = ("E255",)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    problems: list[Problem] = []
    for path, text in definition_texts(definition):
        if path[0] == "description" or "document" in path:
            continue
        if lacks_default_language(text):
            continue  # E364 says what is wrong: the English text is missing, not its letters
        found = non_gsm_characters(localise(text, "en"))
        if found:
            shown = " ".join(f"{char!r} (U+{ord(char):04X})" for char in found[:5])
            problems.append(
                loaded.at(
                    [*path, "en"],
                    "E255",
                    f"not in the GSM alphabet, shown garbled on USSD: {shown}",
                    "Use plain quotes, '-' and letters without special marks in the English text.",
                )
            )
    return problems
