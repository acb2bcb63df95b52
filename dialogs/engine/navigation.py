"""Moving through a service: commands that act anywhere (more, back, menu, restart, help,
status, stop), starting a service, and arriving at a step, where automatic steps run on
until one waits for the citizen."""

from __future__ import annotations

from dialogs.compiler import NEXT, CompiledService
from dialogs.engine import (
    answers,
    conversation,
    effects,
    menu,
    offers,
    states,
    status,
    verification,
)
from dialogs.engine.turn import Turn
from dialogs.messages import Reply
from dialogs.session import (
    Asking,
    AtMenu,
    Awaiting,
    ChoosingField,
    ChoosingLanguage,
    ConfirmingPrefill,
)
from dialogs.steps import StepBase
from dialogs.steps.base import InputStep
from dialogs.steps.effect import EffectStep

MAX_TRAIL = 60  # steps remembered for "back"; keeps snapshots small on looping services
MAX_AUTO_STEPS = 200  # guard against a definition that loops without asking anything


# ------------------------------------------------------------------ commands
def command(turn: Turn, raw: str) -> bool:
    """Act on a command word in any state; False: `raw` is no command."""
    word = raw.casefold()
    commands = turn.commands()
    catalog, service = turn.catalog, turn.service
    if word in commands.more and turn.draft.page + 1 < states.page_count(turn):
        turn.draft.page += 1
        states.show(turn, keep=True)
    elif word in commands.back:
        back(turn)
    elif word in commands.menu and len(catalog.menu()) > 1:
        turn.event("left")
        menu.show_menu(turn)
    elif word in commands.menu or word in commands.restart:
        listed = catalog.menu()
        published = catalog.get(service.id) if service else None
        again = published or (listed[0] if listed else None)
        if again is None:  # nothing published to start again: a new conversation
            conversation.begin(turn)
        else:
            turn.event("restarted")
            start(turn, again)
    elif word in commands.help:
        show_help(turn)
    elif word in commands.status:
        status.request(turn)
    elif word in commands.stop:
        stop(turn)
    else:
        return False
    return True


def show_help(turn: Turn) -> None:
    """The step's help, else the service's, else the built-in one, above the screen."""
    service = turn.service
    current = service.steps.get(turn.draft.step) if service else None
    text = getattr(current, "help", None) or (service.definition.help if service else None)
    states.show(turn, turn.text(text) if text else turn.builtin("help"))


def stop(turn: Turn) -> None:
    turn.event("stopped")
    turn.say(Reply(turn.builtin("goodbye"), end=True))
    turn.end()
    turn.draft.prefill = {}


def back_target(turn: Turn) -> str | None:
    """The input step "back" returns to: the latest on the trail."""
    service = turn.service
    if service is None:
        return None
    for name in reversed(turn.draft.trail):
        if service.steps[name].kind == "input":
            return name
    return None


def back(turn: Turn) -> None:
    """The previous page, else out of the list of answers to change or of languages,
    else the previous question."""
    draft = turn.draft
    if draft.page > 0:
        draft.page -= 1
        states.show(turn, keep=True)
        return
    if isinstance(draft.state, ChoosingField):
        draft.state, draft.page = Asking(), 0
        states.show(turn)
        return
    target = back_target(turn)
    if target is None:
        if isinstance(draft.state, ChoosingLanguage):
            draft.state, draft.page = AtMenu(), 0
        states.show(turn)
        return
    trail = draft.trail
    cut = len(trail) - 1 - trail[::-1].index(target)
    draft.trail, draft.step, draft.page, draft.state = trail[:cut], target, 0, Asking()
    draft.return_to = None if target == draft.return_to else draft.return_to
    draft.invalid, draft.rewound = 0, True
    turn.event("back", to=target)
    states.show(turn)


# ------------------------------------------------------------------ steps
def start(turn: Turn, service: CompiledService, prefill: dict[str, str] | None = None) -> None:
    turn.service = service
    draft = turn.draft
    draft.service, draft.version, draft.step = service.id, service.version, service.start
    draft.answers, draft.trail, draft.state, draft.page = {}, (), Asking(), 0
    draft.submission, draft.return_to, draft.invalid = None, None, 0
    draft.ended, draft.rewound, draft.run = False, False, draft.run + 1
    draft.prefill = prefill or {}
    draft.amends, draft.correcting = None, ()
    turn.event("started")
    enter(turn, service, service.start)


def enter(turn: Turn, service: CompiledService, name: str, *, revisit: bool = True) -> None:
    """Arrive at a step; automatic steps run on until one waits for the citizen."""
    draft = turn.draft
    skipped: set[str] = set()
    for _ in range(MAX_AUTO_STEPS):
        current = service.steps[name]
        looped = not draft.rewound and name in draft.trail
        draft.step, draft.page, draft.invalid, draft.state = name, 0, 0, Asking()
        draft.rewound = draft.rewound or looped
        if draft.return_to == name:
            draft.return_to = None
        elif (
            draft.return_to
            and revisit
            and name not in skipped
            and name not in draft.correcting  # an answer the officer asked to correct
            and _answered(turn, current)
        ):
            # Changing one answer from the summary: walk on past what is answered,
            # so a changed branch asks its new questions and nothing else. A step met
            # twice on this walk is a loop back (e.g. "end date before start date"):
            # it is asked again.
            skipped.add(name)
            draft.trail = trail(turn, name)
            following = service.fire(NEXT, name, turn.context())
            if following is None:
                break
            name = following
            continue
        if name in draft.correcting:
            draft.correcting = tuple(step for step in draft.correcting if step != name)
        _arrive(turn, service, current)
        return
    turn.say(Reply(turn.builtin("unavailable"), end=True))
    turn.end()


def _arrive(turn: Turn, service: CompiledService, current: StepBase) -> None:
    """What a step does on arrival: wait for a proved number, end, send its effect, or
    show its question (or offer the answer given up front)."""
    draft = turn.draft
    if current.needs_proven_number() and verification.number_unproved(turn):
        verification.ask_number(turn)  # on the web chat or Telegram: prove a number first
    elif current.kind == "final":
        finish(turn, current)
    elif isinstance(current, EffectStep):
        draft.state = Awaiting()
        turn.effects.append(effects.request(turn, service, current))
    else:
        if isinstance(current, InputStep) and current.confirms_answers:
            answers.prune(turn, service)  # list only the answers on the path
        if current.id in draft.prefill and offers.prefill_fits(turn, current):
            draft.state = ConfirmingPrefill()
        states.show(turn)


def _answered(turn: Turn, current: StepBase) -> bool:
    if isinstance(current, InputStep) and current.answer_is_saved():
        return current.id in turn.draft.answers
    return current.kind == "input" and current.id in turn.draft.trail


def advance(turn: Turn, service: CompiledService, source: str, trigger: str) -> None:
    """Leave `source` by `trigger` (`next`, or a lookup's `fail`) for where it leads."""
    target = service.fire(trigger, source, turn.context())
    turn.draft.trail = trail(turn, source)
    if target is None:  # the checker rejects definitions where this can happen
        turn.say(Reply(turn.builtin("unavailable"), end=True))
        turn.end()
        return
    enter(turn, service, target)


def trail(turn: Turn, name: str) -> tuple[str, ...]:
    """The trail with `name` passed."""
    return (*turn.draft.trail, name)[-MAX_TRAIL:]


def finish(turn: Turn, current: StepBase) -> None:
    """The closing message of a final step; the conversation ends."""
    submission = turn.draft.submission or {}
    text = turn.text(current.message())
    if submission.get("held"):  # opted out: the link waits for START
        text = f"{text}\n{turn.builtin('link_held')}"
    turn.say(Reply(text, link=submission.get("link"), end=True))
    turn.end()
    turn.event("completed")
