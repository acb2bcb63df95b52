"""Time to finish: how long a typical citizen takes through a service, per channel and
language, on its shortest and its longest path (`gateway check --stats`).

A path runs through the compiled machine from the start to an end, taking every `next`
branch whatever its condition and a lookup's `fail` way; a loop is gone round once (a step
is visited at most twice). Changing an answer from the summary (`edit`) is a detour a
citizen chooses, not a path of the service, and is left out. Each visit to a step costs
what its screens cost: the characters read, the keys pressed (USSD: digits, letters by
multi-tap, and send) or characters typed (elsewhere), a moment to decide, and one network
round trip per screen. Answers are the step's own first example (what a citizen types);
inserted values are sized as such answers, the longest branch of an `{% if %}` shown.

The estimate is for a typical citizen: half take longer. On USSD the operator ends the
session after a fixed time (180 s by default, `--ussd-timeout`), so a path whose
estimate comes near it is reported at the service's `id` (W420, W421).

Pure: takes compiled services, opens nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

from dialogs.checks._worst import Filler, builtin, filler, worst
from dialogs.compiler import FAIL, NEXT, CompiledService
from dialogs.loader import Loaded
from dialogs.media import BACK_KEY, MORE_KEY, PROFILES, Medium
from dialogs.messages import Reply, ReplyOption
from dialogs.paging import paginate
from dialogs.problems import Problem
from dialogs.render import renderer_for
from dialogs.steps import InputStep, StepBase
from dialogs.steps.base import StepContext
from dialogs.text import localise

CODES = ("W420", "W421")

# ------------------------------------------------------------------ the model's constants
READING_WORDS_PER_MINUTE = 200
"""Silent reading of plain text by adults averages ~240 words/min (Brysbaert 2019, a
meta-analysis of 190 studies); on a small phone screen, in a second language for many
citizens, we take the lower 200."""
CHARACTERS_PER_WORD = 6  # ~5 letters and a space: the word length reading rates assume
READ_SECONDS_PER_CHARACTER = 60 / (READING_WORDS_PER_MINUTE * CHARACTERS_PER_WORD)  # 0.05 s
THINK_SECONDS = 1.35
"""Deciding on an answer before typing it: the Keystroke-Level Model's mental preparation
operator (Card, Moran & Newell 1980), once per answer."""
KEYPAD_SECONDS_PER_PRESS = 0.5
"""One key of a feature phone's keypad, finding it included: novices reach ~8 words/min in
multi-tap (MacKenzie & Soukoreff 2002), i.e. ~0.5 s a press at ~2 presses a letter."""
MULTITAP_PRESSES_PER_LETTER = 2.03
"""Key presses per letter in multi-tap on a phone keypad (MacKenzie 2002, KSPC for English);
a digit is one press."""
TOUCH_SECONDS_PER_CHARACTER = 60 / (36 * 5)
"""Typing on a touch screen: 36 words/min on average (Palin et al. 2019, 37,000 volunteers),
5 characters a word: ~0.33 s a character."""
ROUND_TRIP_SECONDS: dict[Medium, float] = {
    Medium.USSD: 1.5,  # operator -> aggregator -> gateway and back: 1 to 2 s a screen
    Medium.SMS: 6.0,  # an SMS each way through the operator's SMS centre: seconds
    Medium.WHATSAPP: 1.0,  # Meta's webhook, the outbox, Meta's send API
    Medium.TELEGRAM: 1.0,  # Telegram's webhook and its send API
    Medium.WEB: 0.5,  # one HTTPS request from the citizen's browser
}
KEYPAD_MEDIA = frozenset({Medium.USSD, Medium.SMS})
"""Used from feature phones: answers typed on a keypad (multi-tap for letters)."""
EFFECT_SECONDS = 1.0  # a registry lookup or a submission, typically; its timeout bounds it
TYPICAL_VALUE_LENGTH = 12  # an inserted value with no example to size it (a registry's field)
DEFAULT_USSD_SESSION_SECONDS = 180.0
"""How long operators typically keep a USSD session open (Africa's Talking and most African
operators: about 180 s); `gateway check --stats --ussd-timeout` sets another."""
RISK_SHARE = 0.8
"""A typical citizen's estimate over this share of the session warns: half of the
citizens are slower than typical, and some by much more."""
MAX_VISITS = 2  # a loop is gone round once
MAX_PATHS = 5000  # paths enumerated per service; more are left out (reported as such)
TODAY = date(2026, 12, 31)  # examples of a date are relative to a day; any day will do


@dataclass(frozen=True, slots=True)
class Cost:
    """What part of a conversation takes a citizen."""

    screens: int = 0
    characters: int = 0  # read
    keys: int = 0  # pressed on a keypad (USSD) or typed (elsewhere)
    seconds: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.screens + other.screens,
            self.characters + other.characters,
            self.keys + other.keys,
            self.seconds + other.seconds,
        )


@dataclass(frozen=True, slots=True)
class Path:
    """One way through a service, and what it costs."""

    steps: tuple[str, ...]
    cost: Cost


@dataclass(frozen=True, slots=True)
class Estimate:
    """A service on one channel in one language: its shortest and longest paths."""

    service: str
    medium: Medium
    lang: str
    shortest: Path
    longest: Path
    paths: int  # how many were weighed
    complete: bool  # False: more than MAX_PATHS, the others left out


def paths(service: CompiledService) -> tuple[list[tuple[str, ...]], bool]:
    """Every path from the start to an end (a loop gone round once), and whether all were
    found (False: cut at MAX_PATHS)."""
    following = {
        name: list(
            dict.fromkeys(
                way.dest
                for trigger in (NEXT, FAIL)
                for way in service.ways.get((trigger, name), ())
            )
        )
        for name in service.order
    }
    found: list[tuple[str, ...]] = []
    visits: dict[str, int] = {}
    trail: list[str] = []

    def walk(name: str) -> bool:  # False: enough paths
        if visits.get(name, 0) >= MAX_VISITS:
            return True
        visits[name] = visits.get(name, 0) + 1
        trail.append(name)
        onward = following[name]
        if not onward or service.steps[name].kind == "final":
            found.append(tuple(trail))
        going = len(found) < MAX_PATHS and all(walk(dest) for dest in onward)
        trail.pop()
        visits[name] -= 1
        return going

    complete = walk(service.start)
    return found, complete


def estimates(service: CompiledService) -> list[Estimate]:
    """Every channel, in each language it shows (USSD shows English only)."""
    found, complete = paths(service)
    return [
        estimate(service, medium, lang, found, complete)
        for medium in Medium
        for lang in _languages(service, medium)
    ]


def _languages(service: CompiledService, medium: Medium) -> list[str]:
    return list(service.definition.languages) if PROFILES[medium].unicode else ["en"]


def estimate(
    service: CompiledService,
    medium: Medium,
    lang: str,
    found: list[tuple[str, ...]] | None = None,
    complete: bool = True,
) -> Estimate:
    """The shortest and longest of `found` (default: every path) on `medium` in `lang`."""
    if found is None:
        found, complete = paths(service)
    costs = _StepCosts(service, medium, lang)
    weighed = [
        Path(steps, sum((costs.of(name, i == 0) for i, name in enumerate(steps)), Cost()))
        for steps in found
    ] or [Path((), Cost())]  # no way to an end: the checker reports it, nothing to weigh
    return Estimate(
        service.id,
        medium,
        lang,
        shortest=min(weighed, key=lambda p: p.cost.seconds),
        longest=max(weighed, key=lambda p: p.cost.seconds),
        paths=len(found),
        complete=complete,
    )


class _StepCosts:
    """What each step costs on one channel in one language (each computed once)."""

    def __init__(self, service: CompiledService, medium: Medium, lang: str) -> None:
        self.service, self.medium, self.lang = service, medium, lang
        self.profile = PROFILES[medium]
        definition = service.definition
        self.fill = _typical(filler(definition, lang), service, lang)
        self.more = localise(builtin(definition, "more"), lang)
        self.back = ReplyOption(BACK_KEY, localise(builtin(definition, "back"), lang), nav=True)
        self.context = StepContext(
            lang, TODAY, definition.phone_region, {}, lambda t: worst(t, lang, self.fill)
        )
        self.known: dict[tuple[str, bool], Cost] = {}

    def of(self, name: str, first: bool) -> Cost:
        key = (name, first)
        if key not in self.known:
            self.known[key] = self._cost(self.service.steps[name], first)
        return self.known[key]

    def _cost(self, step: StepBase, first: bool) -> Cost:
        if step.kind == "effect":
            return Cost(seconds=EFFECT_SECONDS)
        if not isinstance(step, InputStep):  # an end: its closing screen, read
            return self._reading(Reply(worst(step.message(), self.lang, self.fill), end=True))
        reading = self._reading(self._screen(step, first))
        # "98" and send for every page but the last (the citizen reads on), then the answer.
        more_keys, more_seconds = self._typing(MORE_KEY)
        keys, typing = self._typing(_answer(step, self.context))
        pages = reading.screens - 1
        return reading + Cost(
            keys=keys + pages * more_keys,
            seconds=THINK_SECONDS + typing + pages * more_seconds,
        )

    def _screen(self, step: InputStep, first: bool) -> Reply:
        text = worst(step.prompt, self.lang, self.fill)
        if step.confirms_answers:
            lines = [
                f"{worst(getattr(self.service.steps[n], 'label', None), self.lang, self.fill) or n}"
                f": {'x' * self.fill.lengths.get(n, 0)}"
                for n in self.service.edit_targets.get(step.id, ())
            ]
            text = "\n".join([text, *lines])
        choices = step.choices(self.context)
        options = tuple(ReplyOption(str(i + 1), o.label) for i, o in enumerate(choices))
        back = (self.back,) if options and self.profile.show_back and not first else ()
        return Reply(text, options + back)

    def _reading(self, reply: Reply) -> Cost:
        pages = paginate(reply, self.profile, self.more)
        if reply.end:  # a closing screen is not paged (USSD ends the session with it)
            pages = pages[:1]
        render = renderer_for(self.medium).render
        characters = sum(len(render(page).text) for page in pages)
        return Cost(
            screens=len(pages),
            characters=characters,
            seconds=characters * READ_SECONDS_PER_CHARACTER
            + len(pages) * ROUND_TRIP_SECONDS[self.medium],
        )

    def _typing(self, typed: str) -> tuple[int, float]:
        """Keys counted and seconds spent typing `typed` and sending it."""
        if self.medium in KEYPAD_MEDIA:
            presses = sum(1 if c.isdigit() else MULTITAP_PRESSES_PER_LETTER for c in typed) + 1
            seconds = presses * KEYPAD_SECONDS_PER_PRESS
            # USSD counts key presses; elsewhere what is counted is the characters typed.
            return (math.ceil(presses) if self.medium is Medium.USSD else len(typed)), seconds
        return len(typed), (len(typed) + 1) * TOUCH_SECONDS_PER_CHARACTER


def _answer(step: InputStep, context: StepContext) -> str:
    """What a typical citizen types: the step's first example ("1" for a choice)."""
    examples = step.examples(context)
    return examples[0] if examples else "x" * TYPICAL_VALUE_LENGTH


def _typical(fill: Filler, service: CompiledService, lang: str) -> Filler:
    """Inserted answers sized as typical answers (the longest example: a choice's label),
    not at their worst."""
    context = StepContext(
        lang, TODAY, service.definition.phone_region, {}, lambda t: localise(t, lang)
    )
    lengths = {}
    for name in fill.lengths:
        step = service.steps[name]
        examples = step.examples(context)
        lengths[name] = max(map(len, examples)) if examples else TYPICAL_VALUE_LENGTH
    return replace(fill, lengths=lengths)


def session_problems(
    loaded: Loaded, found: list[Estimate], session_seconds: float = DEFAULT_USSD_SESSION_SECONDS
) -> list[Problem]:
    """W420/W421 at the service's `id` when a USSD path nears the operator's session."""
    limit = session_seconds * RISK_SHARE
    hint = (
        "Ask fewer or shorter questions on USSD (offer the rest by SMS or WhatsApp), shorten "
        "the texts, or split the service: when the session ends the citizen starts over."
    )
    problems = []
    for item in found:
        if item.medium is not Medium.USSD:
            continue
        shortest, longest = item.shortest.cost, item.longest.cost
        if shortest.seconds > limit:
            problems.append(
                loaded.at(
                    ["id"],
                    "W421",
                    f"even the shortest USSD path takes a typical citizen about "
                    f"{shortest.seconds:.0f} s ({shortest.screens} screens, {shortest.keys} "
                    f"keys) of the operator's {session_seconds:g} s session: slower citizens "
                    "cannot finish whichever way they go",
                    hint,
                )
            )
        elif longest.seconds > limit:
            problems.append(
                loaded.at(
                    ["id"],
                    "W420",
                    f"the longest USSD path ({' > '.join(item.longest.steps)}) takes a typical "
                    f"citizen about {longest.seconds:.0f} s ({longest.screens} screens, "
                    f"{longest.keys} keys) of the operator's {session_seconds:g} s session: "
                    "slower citizens on it lose the session",
                    hint,
                )
            )
    return problems
