"""W260: a question whose SMS would need more parts than `limits.sms_max_segments`.

Every part is paid for by the government. Counted per language in the worst case: the
longest error message above the prompt, answers at their longest, and answers typed
freely (names, registry data) in a non-GSM script, which makes the whole SMS UCS-2.
Options are left out: the engine pages long lists by itself.
"""

from __future__ import annotations

from dialogs.checks._worst import filler, worst, worst_error
from dialogs.gsm import sms_size
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import InputStep

CODES = ("W260",)


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
            text = worst(message, lang, fill)
            if isinstance(step, InputStep):
                error = worst_error(definition, step, lang, fill)
                text = f"{error}\n{text}" if error else text
            size = sms_size(text)
            if size.segments > limit:
                problems.append(
                    loaded.at(
                        ["steps", index, "prompt", lang],
                        "W260",
                        f"{step.id!r} needs {size.segments} SMS parts in {lang} "
                        f"({size.units} {size.encoding} characters; "
                        f"limits.sms_max_segments is {limit})",
                        "Shorten the prompt or the error message.",
                    )
                )
                break  # one warning per step is enough to act on
    return problems
