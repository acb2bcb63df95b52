"""E206: a summary or a document lists a step that has no answer to show.

Only questions that save an answer can be shown back (label and value) or changed from a
summary; an info, summary, lookup, submit or end step would show nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from dialogs.definition import ServiceDefinition
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import StepBase

CODES = ("E206",)

Path = tuple[str | int, ...]


def _listed(definition: ServiceDefinition) -> Iterator[tuple[Path, str]]:
    for index, step in enumerate(definition.step_list):
        for path, name in step.shown_answers():
            yield ("steps", index, *path), name


def _shows_an_answer(step: StepBase) -> bool:
    return step.kind == "input" and step.answer_is_saved()


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps: dict[str, StepBase] = {}
    for step in definition.step_list:
        steps.setdefault(step.id, step)
    return [
        loaded.at(
            path,
            "E206",
            f"{name!r} is a {getattr(steps[name], 'type', 'step')} step: it has no answer to show",
            "List only steps that ask a question (text, number, choice, ...).",
        )
        for path, name in _listed(definition)
        if name in steps and not _shows_an_answer(steps[name])  # unknown names: E201
    ]
