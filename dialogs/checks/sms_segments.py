"""W260/W400: an SMS that needs more parts than `limits.sms_max_segments`, in any language.

Every part is paid for by the government, and a language written in a non-GSM script
(Dzongkha) pays for UCS-2: 70 characters in one part, 67 in each of several, against 160
and 153 in English. So every language of the service is counted on its own and each one
over the budget is reported, naming it. Counted in the worst case: the longest error
message above the prompt, answers at their longest, and answers typed freely (names,
registry data) in a non-GSM script, which makes the whole SMS UCS-2.

- W260: the text alone (prompt or closing message, with the error) is over the budget,
  at the line of the text in that language.
- W400: the text fits, but the question as first shown, with its options, does not:
  the engine pages a list at the SMS profile's own limit, larger than the default
  budget, so a long list in a non-GSM script costs more parts than the budget. At the
  step's line.
"""

from __future__ import annotations

from datetime import date

from dialogs.checks._worst import Filler, builtin, filler, worst, worst_error
from dialogs.definition import ServiceDefinition
from dialogs.gsm import SmsSize, sms_size
from dialogs.loader import Loaded
from dialogs.media import PROFILES, Medium
from dialogs.messages import Reply, ReplyOption
from dialogs.paging import paginate
from dialogs.problems import Problem
from dialogs.render import renderer_for
from dialogs.steps import InputStep
from dialogs.steps.base import StepBase, StepContext

CODES = ("W260", "W400")

SMS = PROFILES[Medium.SMS]


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    limit = definition.limits.sms_max_segments
    fills = {lang: filler(definition, lang, unicode=True) for lang in definition.languages}
    problems: list[Problem] = []
    for index, step in enumerate(definition.step_list):
        message = step.message()  # a question or a closing message
        if message is None:
            continue
        for lang, fill in fills.items():
            prompt = text = worst(message, lang, fill)
            if isinstance(step, InputStep):
                error = worst_error(definition, step, lang, fill)
                text = f"{error}\n{text}" if error else text
            size = sms_size(text)
            if size.segments > limit:
                problems.append(
                    loaded.at(
                        ["steps", index, "prompt", lang],
                        "W260",
                        f"{step.id!r} needs {_parts(size, lang, limit)}",
                        f"Shorten the {lang} prompt or the error message.",
                    )
                )
                continue
            screen = _screen(definition, step, prompt, lang, fill)
            if screen is not None and screen.segments > limit:
                problems.append(
                    loaded.at(
                        ["steps", index],
                        "W400",
                        f"{step.id!r} with its options needs {_parts(screen, lang, limit)}",
                        f"Shorten the {lang} prompt or option labels, or split the list "
                        "into two questions (e.g. a region first).",
                    )
                )
    return problems


def _screen(
    definition: ServiceDefinition, step: StepBase, text: str, lang: str, fill: Filler
) -> SmsSize | None:
    """The largest SMS of the step's screen with its options, as the engine pages it
    (None: a step without options)."""
    if not isinstance(step, InputStep):
        return None
    ctx = StepContext(
        lang, date(2026, 12, 31), definition.phone_region, {}, lambda t: worst(t, lang, fill)
    )
    choices = step.choices(ctx)
    if not choices:
        return None
    options = tuple(ReplyOption(str(n), o.label) for n, o in enumerate(choices, start=1))
    more = worst(builtin(definition, "more"), lang, fill)
    renderer = renderer_for(Medium.SMS)
    pages = paginate(Reply(text, options), SMS, more)
    sizes = [sms_size(renderer.render(page).text) for page in pages]
    return max(sizes, key=lambda size: size.segments)


def _parts(size: SmsSize, lang: str, limit: int) -> str:
    return (
        f"{size.segments} SMS parts in language {lang!r} ({size.units} {size.encoding} "
        f"characters; limits.sms_max_segments is {limit})"
    )
