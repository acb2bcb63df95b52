"""What a citizen sees at each step of a draft, on every medium, in one language.

The screens are the engine's own: a typical conversation is played first (each question
answered with the step's first example, effects answered by the mocks of the draft's
conversation tests) for realistic answers, then the engine is brought to each step that
says something with those answers, once per medium, and shown an answer the step refuses
for its error message. The USSD worst case is the checker's (`dialogs.checks`), with the
limit of the medium's profile. Nothing here knows a step type: steps say what they are
(`message`, `examples`, `parse`, `kind`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from dialogs.catalog import Catalog
from dialogs.checks._worst import filler
from dialogs.checks.ussd_screens import LANG as USSD_LANG
from dialogs.checks.ussd_screens import worst_screen  # the checker's, reused
from dialogs.compiler import CompiledService
from dialogs.conversation_tests import Case, CasePlayer
from dialogs.gsm import septets, sms_size, to_gsm
from dialogs.media import PROFILES, Medium
from dialogs.messages import Reply
from dialogs.paging import fits
from dialogs.render import renderer_for
from dialogs.session import Asking, Awaiting, Snapshot
from dialogs.steps import InputStep, StepBase
from dialogs.steps.base import Accepted, StepContext
from dialogs.text import localise
from gateway.providers.meta.interactive import interactive
from gateway.providers.telegram.keyboard import inline_keyboard
from gateway.studio.play import player

MAX_WALK = 100  # turns of the typical conversation; a looping draft stops there
# Answers tried until the step refuses one (its `parse` says which): a choice refuses 99,
# a number letters, a date or a pattern most of them.
REFUSED_CANDIDATES = ("99", "x", "-1", "0.5", "x" * 300)


@dataclass(frozen=True, slots=True)
class Size:
    """A screen against its medium's limit."""

    characters: int
    limit: int
    fits: bool


@dataclass(frozen=True, slots=True)
class Worst:
    """The USSD screen at its longest, as the checker sizes it."""

    screen: str
    size: Size


@dataclass(frozen=True, slots=True)
class SmsParts:
    parts: int
    encoding: str
    limit: int
    fits: bool


@dataclass(frozen=True, slots=True)
class WhatsAppChoices:
    """How Meta's Cloud API draws the options: reply buttons, a list, or numbered text."""

    kind: Literal["buttons", "list", "text"]
    titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MediumScreen:
    medium: Medium
    screen: str  # as the renderer draws it
    error_screen: str | None  # after an answer the step refuses
    size: Size | None  # media with a screen limit (USSD)
    worst: Worst | None  # USSD
    sms: SmsParts | None  # SMS
    whatsapp: WhatsAppChoices | None
    buttons: tuple[str, ...]  # Telegram's keyboard, the web chat's quick replies


@dataclass(frozen=True, slots=True)
class StepPreview:
    step: str
    error: str | None  # the message above the question after a refused answer
    media: tuple[MediumScreen, ...]


@dataclass(frozen=True, slots=True)
class Preview:
    service: str
    language: str
    languages: tuple[str, ...]
    steps: tuple[StepPreview, ...]


def preview(catalog: Catalog, service: CompiledService, lang: str, case: Case) -> Preview:
    """Every step of `service` that says something, on every medium, in `lang`."""
    answers, submission = _typical(catalog, service, lang, case)
    fill = filler(service.definition, USSD_LANG)
    steps = []
    for index, name in enumerate(service.order):
        step = service.steps[name]
        if step.message() is None:
            continue  # a lookup or a submission: it shows nothing of its own
        at = Snapshot(
            id="preview",
            lang=lang,
            service=service.id,
            version=service.version,
            step=name,
            answers=answers,
            trail=service.order[:index],  # so "0. Back" shows where it would
            state=Awaiting(),  # answered by entering the step: the engine arrives there
            submission=submission,
        )
        errors: list[str] = []
        screens = []
        for medium in Medium:
            session = player(catalog, service.id, medium, lang, case)
            seen = _seen(session, step, at)
            if seen.error:
                # The message in `lang`: USSD shows English, so a unicode medium's first.
                errors.insert(len(errors) if not PROFILES[medium].unicode else 0, seen.error)
            screens.append(
                _medium(medium, seen, worst_screen(service.definition, index, step, fill))
            )
        steps.append(StepPreview(name, errors[0] if errors else None, tuple(screens)))
    return Preview(service.id, lang, tuple(service.definition.languages), tuple(steps))


@dataclass(frozen=True, slots=True)
class _Seen:
    shown: tuple[Reply, ...]  # on arriving at the step
    refused: tuple[Reply, ...]  # after an answer it refuses (empty: it refuses none)
    error: str | None  # the message heading that screen


def _seen(session: CasePlayer, step: StepBase, at: Snapshot) -> _Seen:
    arrived = session.turn(at, "")
    if not isinstance(step, InputStep) or arrived.snapshot.step != step.id:
        return _Seen(arrived.replies, (), None)
    ctx = _context(session, at.answers)
    for candidate in REFUSED_CANDIDATES:
        if isinstance(step.parse(candidate, ctx), Accepted):
            continue
        after = session.turn(arrived.snapshot, candidate)
        # A word the engine takes for a command ("0" is back) moves elsewhere: try another.
        if after.snapshot.step == step.id and after.snapshot.notice:
            return _Seen(arrived.replies, after.replies, after.snapshot.notice)
    return _Seen(arrived.replies, (), None)


def _medium(medium: Medium, seen: _Seen, worst_screen: Reply | None) -> MediumScreen:
    profile = PROFILES[medium]
    render = renderer_for(medium).render
    screen = "\n".join(render(reply).text for reply in seen.shown)
    error_screen = "\n".join(render(reply).text for reply in seen.refused) or None
    last = seen.shown[-1] if seen.shown else Reply("")
    size = sms = worst_seen = None
    if profile.max_septets is not None:
        size = Size(septets(to_gsm(screen)), profile.max_septets, fits(last, profile))
        if worst_screen is not None:
            text = render(worst_screen).text
            limit = Size(septets(to_gsm(text)), profile.max_septets, fits(worst_screen, profile))
            worst_seen = Worst(text, limit)
    if profile.max_segments is not None:
        measured = sms_size(screen)
        sms = SmsParts(
            measured.segments,
            measured.encoding,
            profile.max_segments,
            measured.segments <= profile.max_segments,
        )
    whatsapp = _whatsapp(last) if profile.choices is not None else None
    buttons = _BUTTONS.get(medium, _no_buttons)(last)
    return MediumScreen(medium, screen, error_screen, size, worst_seen, sms, whatsapp, buttons)


def _whatsapp(reply: Reply) -> WhatsAppChoices | None:
    if not reply.options:
        return None
    drawn = interactive(reply)
    if drawn is None:
        return WhatsAppChoices("text", tuple(o.label for o in reply.options))
    action: dict[str, Any] = drawn["action"]
    if drawn["type"] == "button":
        return WhatsAppChoices("buttons", tuple(b["reply"]["title"] for b in action["buttons"]))
    rows = [row for section in action["sections"] for row in section["rows"]]
    return WhatsAppChoices("list", tuple(row["title"] for row in rows))


def _keyboard(reply: Reply) -> tuple[str, ...]:
    drawn = inline_keyboard(reply)
    rows: list[list[dict[str, str]]] = drawn["inline_keyboard"] if drawn else []
    return tuple(button["text"] for row in rows for button in row)


def _labels(reply: Reply) -> tuple[str, ...]:
    return tuple(option.label for option in reply.options)


def _no_buttons(reply: Reply) -> tuple[str, ...]:
    return ()


# Where options are buttons, what they read: Telegram's keyboard as its provider draws
# it, the web chat's quick replies (the option's label).
_BUTTONS: dict[Medium, Callable[[Reply], tuple[str, ...]]] = {
    Medium.TELEGRAM: _keyboard,
    Medium.WEB: _labels,
}


def _typical(
    catalog: Catalog, service: CompiledService, lang: str, case: Case
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The answers (and submission) of a typical conversation: each question answered
    with the step's first example, then the first example of every step not on that path."""
    session = player(catalog, service.id, Medium.WHATSAPP, lang, case)
    answers: dict[str, Any] = {}
    submission: dict[str, Any] | None = None
    snapshot: Snapshot | None = None
    text = ""
    for _ in range(MAX_WALK):
        try:
            snapshot = session.turn(snapshot, text).snapshot
        except LookupError:
            break  # a step the draft names but lacks: the checker says so, the walk stops
        answers.update(snapshot.answers)
        submission = snapshot.submission or submission
        step = service.steps.get(snapshot.step)
        if snapshot.ended or not isinstance(step, InputStep):
            break
        if not isinstance(snapshot.state, Asking) or snapshot.notice:
            break  # a number to prove, an offer, or the example refused: stop there
        examples = step.examples(_context(session, snapshot.answers))
        if not examples:
            break
        text = examples[0]
    for step in service.steps.values():
        if step.id in answers or not isinstance(step, InputStep) or not step.answer_is_saved():
            continue
        examples = step.examples(_context(session, answers))
        parsed = step.parse(examples[0], _context(session, answers)) if examples else None
        if isinstance(parsed, Accepted):
            answers[step.id] = parsed.value
    return answers, submission


def _context(session: CasePlayer, answers: dict[str, Any]) -> StepContext:
    """What a step knows while giving examples and reading answers, as in the play."""
    lang = session.lang
    return StepContext(
        lang,
        session.now.date(),
        session.service.definition.phone_region,
        answers,
        lambda text: localise(text, lang),
    )
