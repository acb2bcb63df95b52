"""Entities in free text: citizenship IDs, phone numbers and names from the shared lists.

Patterns (from the training data) find IDs and phone numbers; list names are matched word
by word, exactly or with a small spelling slip ("Paaro", "Thimpu"), and conservatively:
a word of the classifier's vocabulary or a stopword is never read as a misspelt name, a
short word must be exact, and a slip must keep the first letter. What was recognised is
handed back as a placeholder word (`@dzongkhags`) so that intent matching sees "a
district" rather than which one.

Phone numbers are returned in the 8-digit national form (`17123456`), whatever the
country code and separators written; IDs as their 11 digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from dialogs.messages import Entity
from nlu.normalise import MAX_CHARS, clean, is_tibetan, words
from nlu.training import EntityList

# Placeholders start with a character the tokeniser never produces from text.
PLACEHOLDER = "@"
_PARENTHESES = re.compile(r"\([^)]*\)")
_ALTERNATIVES = re.compile(r"[/,;]| or ")
# Pattern entities first, in this order: a phone number with its country code has 11
# digits and would otherwise read as an ID.
_PATTERN_ORDER = ("phone", "cid")


@dataclass(frozen=True, slots=True)
class Found:
    """What `EntityFinder.find` recognised, and the message's words with each recognised
    entity replaced by its placeholder."""

    entities: tuple[Entity, ...]
    words: list[str]


@dataclass(frozen=True, slots=True)
class _Name:
    kind: str
    value: str
    words: tuple[str, ...]


class EntityFinder:
    """Finds pattern and list entities; built once per training set."""

    def __init__(
        self, lists: list[EntityList], patterns: dict[str, str], protected: frozenset[str]
    ) -> None:
        order = [k for k in _PATTERN_ORDER if k in patterns] + sorted(
            k for k in patterns if k not in _PATTERN_ORDER
        )
        self._patterns = [(kind, re.compile(patterns[kind])) for kind in order]
        self._protected = protected
        self._by_first: dict[str, list[_Name]] = {}
        for entity_list in lists:
            for value, labels in entity_list.values.items():
                for name in _names(value, labels):
                    self._by_first.setdefault(name[0], []).append(
                        _Name(entity_list.name, value, name)
                    )
        for names in self._by_first.values():
            names.sort(key=lambda n: (-len(n.words), n.kind, n.value))
        self._firsts = sorted(self._by_first)
        self._near: dict[str, tuple[str, ...]] = {}

    def find(self, text: str) -> Found:
        """The entities of `text`, in the order written, and its words with placeholders."""
        rest = clean(text)[: MAX_CHARS * 2]
        entities: list[Entity] = []
        placeholders: list[str] = []
        for kind, pattern in self._patterns:
            if not any(c.isdigit() for c in rest):
                break  # both patterns need digits: the common case is quick
            for match in pattern.finditer(rest):
                value = re.sub(r"\D", "", match.group())
                if kind == "phone":
                    value = value[-8:]
                entities.append(Entity(kind, value))
                placeholders.append(PLACEHOLDER + kind)
            rest = pattern.sub(" ", rest)
        found_words = words(rest)
        out: list[str] = []
        index = 0
        while index < len(found_words):
            name = self._name_at(found_words, index)
            if name is None:
                out.append(found_words[index])
                index += 1
                continue
            entity = Entity(name.kind, name.value)
            if entity not in entities:
                entities.append(entity)
            out.append(PLACEHOLDER + name.kind)
            index += len(name.words)
        return Found(tuple(entities), out + placeholders)

    def _name_at(self, found: list[str], index: int) -> _Name | None:
        for first in self._candidates(found[index]):
            for name in self._by_first[first]:
                end = index + len(name.words)
                if end <= len(found) and all(
                    self._same(found[index + k], word) for k, word in enumerate(name.words)
                ):
                    return name
        return None

    def _candidates(self, word: str) -> tuple[str, ...]:
        """Name first words that `word` may be (exact first), cached per word."""
        if word in self._by_first:
            return (word,)
        cached = self._near.get(word)
        if cached is None:
            cached = tuple(first for first in self._firsts if self._same(word, first))
            if len(self._near) < 20_000:
                self._near[word] = cached
        return cached

    def _same(self, word: str, name_word: str) -> bool:
        if word == name_word:
            return True
        if (
            len(word) < 5
            or len(name_word) < 4
            or word[0] != name_word[0]
            or is_tibetan(word)
            or word in self._protected
        ):
            return False
        allowed = 1 if len(name_word) <= 6 else 2
        return OSA.distance(word, name_word, score_cutoff=allowed) <= allowed


def _names(value: str, labels: list[str]) -> list[tuple[str, ...]]:
    """Word sequences naming one option: each label and each of its alternatives ("Beauty
    salon / barber"), without parenthesised notes, plus multi-word Latin names joined
    ("samdrupjongkhar")."""
    names: list[tuple[str, ...]] = []
    for label in labels:
        label = _PARENTHESES.sub(" ", label)
        for part in [label, *_ALTERNATIVES.split(label)]:
            name = tuple(words(part))
            if name and name not in names:
                names.append(name)
            if len(name) > 1 and not any(is_tibetan(w) for w in name):
                joined = ("".join(name),)
                if joined not in names:
                    names.append(joined)
    return names
