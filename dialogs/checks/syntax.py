"""E220/E221/E222: a `pattern` that is not a regular expression, a branch condition or a
template that does not compile. The compiler would raise on them, so they are errors."""

from __future__ import annotations

import re

from dialogs.checks._sources import sources
from dialogs.expressions import ExpressionError, compile_condition, compile_template
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.text import TextStep

CODES = ("E220", "E221", "E222")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    problems: list[Problem] = []
    for index, step in enumerate(definition.step_list):
        if isinstance(step, TextStep) and step.pattern is not None:
            try:
                re.compile(step.pattern)
            except re.error as exc:
                problems.append(
                    loaded.at(
                        ["steps", index, "pattern"],
                        "E220",
                        f"invalid regular expression: {exc.msg}",
                        "Python syntax; quote the pattern and escape `\\` as `\\\\` in YAML.",
                    )
                )
    for source in sources(definition):
        try:
            if source.kind == "condition":
                compile_condition(source.text)
            else:
                compile_template(source.text, url=source.kind == "url")
        except ExpressionError as exc:
            condition = source.kind == "condition"
            problems.append(
                loaded.at(
                    source.path,
                    "E221" if condition else "E222",
                    f"invalid {'condition' if condition else 'template'}: {exc}",
                    'Write e.g. `answers.business_type == "medium"`.'
                    if condition
                    else "Insert answers as `{{ answers.step_id }}`; close every `{% if %}`.",
                )
            )
    return problems
