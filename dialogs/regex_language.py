"""What answers a regular expression can match: whether any at all, and how long they are.

The checker asks this of a text step's `pattern` (`TextStep.contradictions`): a pattern
that matches nothing, or only answers too short or too long for the step, refuses every
citizen. The analysis reads the parsed expression (Python's own parser) and is
conservative: where it cannot tell, it says "something matches, of any length", so a
harmless pattern is never reported.

Answers reach the pattern with runs of spaces, tabs and line breaks collapsed into one
space (`TextStep.parse`), so they never hold a line break: `$` followed by more text can
match no answer, even though `re` alone would let it match before a final `\\n`.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from typing import Any

# Python's own parser of regular expressions: private and without type stubs (the public
# `sre_parse` is deprecated), so imported by name; `match_lengths` survives its changes.
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

_LAST_CHARACTER = 0x10FFFF
_OPPOSITE_CATEGORIES = (
    {sre.CATEGORY_DIGIT, sre.CATEGORY_NOT_DIGIT},
    {sre.CATEGORY_SPACE, sre.CATEGORY_NOT_SPACE},
    {sre.CATEGORY_WORD, sre.CATEGORY_NOT_WORD},
)
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_GROUPS = {sre.SUBPATTERN, getattr(sre, "ATOMIC_GROUP", sre.SUBPATTERN)}


@dataclass(frozen=True, slots=True)
class Lengths:
    """The lengths of the strings a (part of a) pattern matches; None: it matches none.

    `shortest` never overstates and `longest` never understates (math.inf: unbounded)."""

    shortest: int
    longest: float


_ANY_LENGTH = Lengths(0, math.inf)


def match_lengths(pattern: str) -> Lengths | None:
    """The lengths of the answers `pattern` can match as a whole, or None when no answer
    can match it. A pattern that does not compile (E220 reports it) matches anything."""
    try:
        parsed = sre_parse.parse(pattern)
        multiline = bool(parsed.state.flags & re.MULTILINE)
        return _Walker(anchors=not multiline).sequence(list(parsed), 0, 0)
    except Exception:  # a private parser: any surprise means "cannot tell"
        return _ANY_LENGTH


@dataclass(frozen=True, slots=True)
class _Walker:
    anchors: bool
    """Whether `^` and `$` mean the ends of the answer (not with `(?m)`)."""

    def sequence(self, items: list[Any], before: int, after: int) -> Lengths | None:
        """Items matched one after another; `before`/`after`: the fewest characters any
        match has on either side of them (so `^` after a character matches nothing)."""
        floors = [0] * len(items)
        if self.anchors:  # only anchors need the neighbours' lengths
            shortest = [self._shortest(item) for item in items]
            if any(s is None for s in shortest):
                return None
            floors = [s for s in shortest if s is not None]
        total, longest = 0, 0.0
        for position, (op, arg) in enumerate(items):
            left = before + sum(floors[:position])
            right = after + sum(floors[position + 1 :])
            found = self.item(op, arg, left, right)
            if found is None:
                return None
            total += found.shortest
            longest += found.longest
        return Lengths(total, longest)

    def _shortest(self, item: tuple[Any, Any]) -> int | None:
        # Without the context, for the neighbours' floors: anchors count as matching.
        found = _Walker(anchors=False).item(item[0], item[1], 0, 0)
        return None if found is None else found.shortest

    def item(self, op: Any, arg: Any, before: int, after: int) -> Lengths | None:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY):
            return Lengths(1, 1)
        if op == sre.IN:
            return None if _matches_no_character(arg) else Lengths(1, 1)
        if op == sre.AT:
            return self._anchor(arg, before, after)
        if op == sre.BRANCH:
            found = [self.sequence(list(alt), before, after) for alt in arg[1]]
            possible = [f for f in found if f is not None]
            if not possible:
                return None
            return Lengths(min(f.shortest for f in possible), max(f.longest for f in possible))
        if op in _GROUPS:
            body = arg[-1]  # SUBPATTERN: (group, add_flags, del_flags, body); ATOMIC: body
            return self.sequence(list(body), before, after)
        if op in _REPEATS:
            low, high, body = arg
            once = self.sequence(list(body), before, after)
            if once is None:
                return Lengths(0, 0) if low == 0 else None
            most = math.inf if high == sre.MAXREPEAT else high * once.longest
            return Lengths(low * once.shortest, most)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            return Lengths(0, 0)  # looks around without consuming: cannot tell, so it may hold
        return _ANY_LENGTH  # a back-reference, a conditional group: cannot tell

    def _anchor(self, at: Any, before: int, after: int) -> Lengths | None:
        if not self.anchors:
            return Lengths(0, 0)
        starts = at in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING)
        ends = at in (sre.AT_END, sre.AT_END_STRING)
        if (starts and before > 0) or (ends and after > 0):
            return None
        return Lengths(0, 0)


def _matches_no_character(items: list[tuple[Any, Any]]) -> bool:
    """Whether a character class (`[...]`) matches no character: only a negated class
    that covers everything can, such as `[^\\s\\S]`."""
    if not items or items[0][0] != sre.NEGATE:
        return False
    categories = {arg for op, arg in items if op == sre.CATEGORY}
    if any(pair <= categories for pair in _OPPOSITE_CATEGORIES):
        return True
    spans = sorted(
        (arg, arg) if op == sre.LITERAL else arg
        for op, arg in items
        if op in (sre.LITERAL, sre.RANGE)
    )
    reached = -1
    for low, high in spans:
        if low > reached + 1:
            return False
        reached = max(reached, high)
    return reached >= _LAST_CHARACTER
