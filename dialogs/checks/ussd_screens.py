"""E250/W251/E252: USSD screens over 182 GSM-7 characters in the worst case.

Worst case: every inserted answer at its longest, the longest error message above the
question, the first option and the navigation lines ("98. More", "0. Back"). USSD shows
the English text. A question split over two screens is easily answered half-read, so it
is an error; summaries and info pages are paged by the engine, a warning; a closing
screen cannot be paged (the session ends with it) and would be cut, an error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from dialogs.checks._worst import Filler, builtin, filler, worst, worst_error
from dialogs.definition import ServiceDefinition
from dialogs.gsm import USSD_MAX_SEPTETS, septets
from dialogs.loader import Loaded
from dialogs.media import BACK_KEY, MORE_KEY, PROFILES, Medium
from dialogs.messages import Reply, ReplyOption
from dialogs.paging import fits
from dialogs.problems import Problem
from dialogs.render import renderer_for
from dialogs.steps import InputStep
from dialogs.steps.base import StepBase, StepContext
from dialogs.text import Text, localise

CODES = ("E250", "W251", "E252")

USSD = PROFILES[Medium.USSD]
LANG = "en"  # USSD shows the English text (GSM-7)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    fill = filler(definition, LANG)
    problems: list[Problem] = []
    for index, step in enumerate(definition.step_list):
        where: list[str | int] = ["steps", index, "prompt", LANG]
        screen = worst_screen(definition, index, step, fill)
        if step.kind == "final" and screen is not None:
            if not fits(screen, USSD):
                problems.append(
                    loaded.at(
                        where,
                        "E252",
                        f"closing screen of {step.id!r} {_size(screen)}: USSD cannot page it",
                        "Shorten it; send details by SMS instead.",
                    )
                )
        elif isinstance(step, InputStep) and screen is not None:
            smallest = screen
            if fits(smallest, USSD):
                continue
            if step.paged:
                problems.append(
                    loaded.at(
                        where,
                        "W251",
                        f"screen of {step.id!r} {_size(smallest)}: it is split over "
                        "several USSD screens",
                        "Shorten the text (or list fewer `fields`).",
                    )
                )
            else:
                if _error_is_why(definition, step, fill, with_back=index > 0):
                    where = ["steps", index, "error", LANG]
                problems.append(
                    loaded.at(
                        where,
                        "E250",
                        f"question {step.id!r} {_size(smallest)} with its error message "
                        "and first option: it does not fit one USSD screen",
                        "Shorten the prompt, the error message or the inserted answers.",
                    )
                )
    return problems


def _error_is_why(
    definition: ServiceDefinition, step: InputStep, fill: Filler, *, with_back: bool
) -> bool:
    """Whether the author's `error:` text, longer than the prompt, is what makes the
    screen too long (without it the question fits): the problem is reported there."""
    if step.error is None:
        return False
    if len(worst(step.error, LANG, fill)) <= len(worst(step.prompt, LANG, fill)):
        return False
    alone = _smallest_screen(definition, step, fill, with_back=with_back, error=False)
    return fits(alone, USSD)


def _size(reply: Reply) -> str:
    text = renderer_for(USSD.medium).render(reply).text
    return f"needs {septets(text)} characters (limit {USSD_MAX_SEPTETS})"


def worst_screen(
    definition: ServiceDefinition, index: int, step: StepBase, fill: Filler
) -> Reply | None:
    """A step's USSD screen at its longest (None: the step shows none of its own): the
    closing text, or a question as small as paging can make it."""
    if step.kind == "final":
        return Reply(worst(step.message(), LANG, fill), end=True)
    if isinstance(step, InputStep):
        return _smallest_screen(definition, step, fill, with_back=index > 0)
    return None


def _smallest_screen(
    definition: ServiceDefinition,
    step: InputStep,
    fill: Filler,
    *,
    with_back: bool,
    error: bool = True,
) -> Reply:
    """The step's screen as small as paging can make it, in the worst case (with its
    longest error message above the question unless `error` is false)."""
    text = worst(step.prompt, LANG, fill)
    if step.confirms_answers:
        text = "\n".join([text, *_answer_lines(definition, step, fill)])
    # A step that refuses no answer shows no error.
    refusal = worst_error(definition, step, LANG, fill) if error and step.rejections() else ""
    if refusal:
        text = f"{refusal}\n{text}"
    ctx = StepContext(LANG, date(2026, 12, 31), definition.phone_region, {}, _texts(fill))
    options = [ReplyOption(str(i + 1), o.label) for i, o in enumerate(step.choices(ctx))]
    if not options:
        return Reply(text)  # free answers show no "0. Back" line
    back = ReplyOption(BACK_KEY, localise(builtin(definition, "back"), LANG), nav=True)
    navs = (back,) if with_back else ()
    everything = Reply(text, (*options, *navs))
    if fits(everything, USSD) or len(options) == 1:
        return everything
    more = ReplyOption(MORE_KEY, localise(builtin(definition, "more"), LANG), nav=True)
    return Reply(text, (options[0], more, *navs))


def _texts(fill: Filler) -> Callable[[Text | None], str]:
    return lambda text: worst(text, LANG, fill)


def _answer_lines(definition: ServiceDefinition, step: InputStep, fill: Filler) -> list[str]:
    """The answers a summary lists, each at its longest."""
    steps = {s.id: s for s in reversed(definition.step_list)}
    names = step.edits([s.id for s in definition.step_list if s.kind == "input"])
    lines = []
    for name in names:
        shown = steps.get(name)
        if isinstance(shown, InputStep) and shown.answer_is_saved():
            label = worst(shown.label, LANG, fill) or name.replace("_", " ").capitalize()
            lines.append(f"{label}: {'x' * fill.lengths.get(name, 0)}")
    return lines
