"""E380-E384, W380: a conversation tests file (`<id>.tests.yaml`) checked against the
definitions, before anything is played.

A test naming a service, a step or an option that does not exist would only fail when it
runs, with a message about the conversation rather than about the test; `gateway check`
reports it at its line instead, with what was probably meant.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dialogs.case_format import TestFile, did_you_mean, read_tests
from dialogs.definition import ServiceDefinition
from dialogs.loader import Locator
from dialogs.messages import LookupRequest
from dialogs.problems import Problem
from dialogs.steps import EffectStep, StepBase

CODES = (
    "E380",  # unknown service
    "E381",  # unknown step (`at:`, `lookups:`, `answers:`, `submitted_answers:`)
    "E382",  # `lookups:` names a step that asks no registry
    "E383",  # an expected answer of a choice that is none of its options
    "E384",  # unknown channel (reported when the file is read: `read_tests`)
    "W380",  # a case that checks nothing
)

Definitions = Mapping[str, ServiceDefinition | None]
"""The definitions by service id; None for one whose file could not be read (its own
problems say why, so its tests are not checked against it)."""


def check_tests(text: str, file: str, definitions: Definitions) -> list[Problem]:
    """Every problem of a tests file: reading it, then what it names in its service."""
    tests, locator, problems = read_tests(text, file)
    if tests is None:
        return problems
    return sorted(_TestsFile(tests, locator, file).problems(definitions))


class _TestsFile:
    """A parsed tests file with where its values are written."""

    def __init__(self, tests: TestFile, locator: Locator, file: str) -> None:
        self.tests = tests
        self.locator = locator
        self.file = file

    def at(
        self, path: tuple[str | int, ...], code: str, message: str, hint: str, *, key: bool = False
    ) -> Problem:
        line, col = self.locator.find(path, key=key)
        return Problem(self.file, line, col, code, message, hint)

    def problems(self, definitions: Definitions) -> Iterator[Problem]:
        for index, case in enumerate(self.tests.cases):
            if not case.expects():
                yield self.at(
                    ("cases", index, "name"),
                    "W380",
                    f"case {case.name!r} checks nothing, so it passes whatever happens",
                    "Add `screen_contains:`, `options:` or `at:` to a step, or `answers:`, "
                    "`ended:` or `submitted:` to the case (`gateway test` fails it).",
                )
        service = self.tests.service
        if service not in definitions:
            yield self.at(
                ("service",),
                "E380",
                f"unknown service {service!r}",
                did_you_mean(service, definitions, "Services here"),
            )
            return
        definition = definitions[service]
        if definition is not None:
            yield from self._names(definition)

    def _names(self, definition: ServiceDefinition) -> Iterator[Problem]:
        steps = {step.id: step for step in definition.step_list}
        for index, case in enumerate(self.tests.cases):
            where: tuple[str | int, ...] = ("cases", index)
            for number, exchange in enumerate(case.steps):
                if exchange.at is not None and exchange.at not in steps:
                    path = (*where, "steps", number, "at")
                    yield self._unknown_step(path, exchange.at, steps)
            for name in case.lookups:
                path = (*where, "lookups", name)
                if name not in steps:
                    yield self._unknown_step(path, name, steps, key=True)
                elif not _asks_registry(steps[name]):
                    lookups = [n for n, s in steps.items() if _asks_registry(s)]
                    yield self.at(
                        path,
                        "E382",
                        f"step {name!r} is not a lookup: nothing of it can be mocked",
                        did_you_mean(name, lookups, "Lookups of the service")
                        or "The service asks no registry: remove `lookups:`.",
                        key=True,
                    )
            for field in ("answers", "submitted_answers"):
                expected: dict[str, Any] = getattr(case, field)
                for name, value in expected.items():
                    path = (*where, field, name)
                    if name not in steps:
                        yield self._unknown_step(path, name, steps, key=True)
                    else:
                        yield from self._option(path, steps[name], value)

    def _unknown_step(
        self,
        path: tuple[str | int, ...],
        name: str,
        steps: Mapping[str, StepBase],
        *,
        key: bool = False,
    ) -> Problem:
        return self.at(
            path,
            "E381",
            f"unknown step {name!r} in service {self.tests.service!r}",
            did_you_mean(name, steps, "Steps"),
            key=key,
        )

    def _option(self, path: tuple[str | int, ...], step: StepBase, value: Any) -> Iterator[Problem]:
        values = step.answer_values()
        if values is None or value in values:
            return
        yield self.at(
            path,
            "E383",
            f"step {step.id!r} has no option {value!r}",
            did_you_mean(str(value), values, "Values (saved, not the labels shown)"),
        )


def _asks_registry(step: StepBase) -> bool:
    return isinstance(step, EffectStep) and step.effect_type is LookupRequest
