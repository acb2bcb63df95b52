"""Text to tokens: the one normalisation every part of the embedded classifier shares.

Training phrases and citizen messages go through the same steps, so whatever they do to
one they do to the other: NFKC and casefold (full-width letters, ligatures, capitals),
Tibetan digits to ASCII, apostrophes dropped ("what's" -> "whats"), punctuation and
emoji as separators, Tibetan split into syllables on the tsheg, Latin words lightly
stemmed. Nothing here raises on odd input, and very long input is cut to its start.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A message longer than this is not a request to classify as a whole: its start decides.
MAX_CHARS = 400

# Tibetan letters, vowel signs and subjoined letters make syllables; the tsheg (U+0F0B,
# U+0F0C), shad (U+0F0D-U+0F14) and spaces separate them.
_TOKEN = re.compile(r"[\u0F40-\u0FBC]+|[^\W\d_]+|\d+")
_TIBETAN_DIGITS = str.maketrans("༠༡༢༣༤༥༦༧༨༩", "0123456789")
_APOSTROPHES = re.compile(r"(?<=\w)['’‘`´](?=\w)")

# Light suffix stripping, longest first: enough for register/registering/registered and
# permit/permits; what it leaves different (registr/regist) fuzzy matching joins.
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ers", "ed", "ies", "es", "s")
_KEEP_S = ("ss", "us", "is", "ys", "as")


def is_tibetan(token: str) -> bool:
    return bool(token) and "\u0f00" <= token[0] <= "\u0fff"


def clean(text: str) -> str:
    """NFKC, casefolded, Tibetan digits as ASCII, apostrophes inside words removed."""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2]).casefold()
    return _APOSTROPHES.sub("", text.translate(_TIBETAN_DIGITS))


def words(text: str) -> list[str]:
    """The words of `text` as written (cleaned, not stemmed): Latin words, digit runs,
    Tibetan syllables."""
    return _TOKEN.findall(clean(text)[:MAX_CHARS])


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A crude stem of a Latin word; Tibetan syllables and digits are kept as they are."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(_KEEP_S):
                continue
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word
