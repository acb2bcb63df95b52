"""Citizen-facing text given once or per language, and how a language is picked.

A civil servant may write `prompt: Enter your name` (English) or a mapping per language
`prompt: {en: ..., dz: ...}`. English is the fallback for anything not translated.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, TypeAlias

from pydantic import Field

DEFAULT_LANGUAGE = "en"

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", examples=["en", "dz"])]

Text: TypeAlias = str | dict[LanguageCode, str]
"""A plain string (English) or one string per language code."""


def localise(text: Text | None, lang: str) -> str:
    """The text in `lang`, else English, else the first translation given."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if lang in text:
        return text[lang]
    if DEFAULT_LANGUAGE in text:
        return text[DEFAULT_LANGUAGE]
    return next(iter(text.values()), "")


def languages_of(text: Text | None) -> set[str]:
    """Which languages a text is given in (a plain string counts as English)."""
    if text is None:
        return set()
    if isinstance(text, str):
        return {DEFAULT_LANGUAGE}
    return set(text)


def variants(text: Text | None) -> list[str]:
    """Every translation of a text, for checks that must hold in all languages."""
    if text is None:
        return []
    if isinstance(text, str):
        return [text]
    return list(text.values())


def fold(text: str) -> str:
    """`text` as answers are compared: accents, case and punctuation aside, spaces
    collapsed ("Samdrup-Jongkhar!" -> "samdrup jongkhar")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^\w\s]", " ", (ascii_text or text).casefold()).split())
