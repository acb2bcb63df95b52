"""E230/E231/E308: two options of a choice with the same value, or the same label in a
language; an option without a label.

The first one would always win: the other can never be chosen, by number or by words. An
option whose label is blank shows as an empty line: citizens cannot tell what it means.
"""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.choice import ChoiceStep, OptionDef
from dialogs.text import DEFAULT_LANGUAGE, fold, localise

CODES = ("E230", "E231", "E308")


def _label(option: OptionDef, lang: str) -> str:
    # Compared as the parser compares answers: case, accents and punctuation folded.
    return fold(localise(option.label, lang))


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    problems: list[Problem] = []
    for index, step in enumerate(definition.step_list):
        if not isinstance(step, ChoiceStep):
            continue
        values: set[str] = set()
        labels: dict[str, set[str]] = {lang: set() for lang in definition.languages}
        for number, option in enumerate(step.options):
            path: list[str | int] = ["steps", index, "options", number]
            if option.value in values:
                problems.append(
                    loaded.at(
                        [*path, "value"],
                        "E230",
                        f"option value {option.value!r} is used twice in {step.id!r}",
                        "Give every option its own `value`.",
                    )
                )
            values.add(option.value)
            if not localise(option.label, DEFAULT_LANGUAGE).strip():
                problems.append(
                    loaded.at(
                        [*path, "label"],
                        "E308",
                        f"option {option.value!r} of {step.id!r} has no label in "
                        f"{DEFAULT_LANGUAGE!r}: citizens would see an empty line",
                        "Write the words citizens choose it by in `label:`.",
                    )
                )
                continue  # not also "the same label as" another blank one
            twice = [lang for lang, seen in labels.items() if _label(option, lang) in seen]
            for lang, seen in labels.items():
                seen.add(_label(option, lang))
            if twice:
                problems.append(
                    loaded.at(
                        [*path, "label"],
                        "E231",
                        f"option label {localise(option.label, twice[0])!r} ({twice[0]}) is "
                        f"used twice in {step.id!r}",
                        "Citizens could not tell the options apart: reword one.",
                    )
                )
    return problems
