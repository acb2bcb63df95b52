"""E201/E202: every `goto`, `next`, `on_error` and summary or document field names a step,
and step ids are unique."""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.lookup import LookupStep
from dialogs.steps.submit import SubmitStep
from dialogs.steps.summary import SummaryStep

CODES = ("E201", "E202")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    known = [s.id for s in steps]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if step.id in seen:
            problems.append(
                loaded.at(
                    ["steps", index, "id"],
                    "E202",
                    f"step id {step.id!r} is used twice",
                    "Give every step its own id.",
                )
            )
        seen.add(step.id)
        names: list[tuple[tuple[str | int, ...], str]] = []
        if isinstance(step.next, str):
            names.append((("next",), step.next))
        elif isinstance(step.next, list):
            names += [(("next", i, "goto"), b.goto) for i, b in enumerate(step.next)]
        if isinstance(step, LookupStep):
            names.append((("on_error",), step.on_error))
        if isinstance(step, SummaryStep):
            names += [(("fields", i), n) for i, n in enumerate(step.fields or [])]
        if isinstance(step, SubmitStep):
            names += [(("fields", i), n) for i, n in enumerate(step.fields or [])]
            if step.document is not None:
                names += [
                    (("document", "fields", i), n) for i, n in enumerate(step.document.fields)
                ]
        for path, name in names:
            if name not in known:
                close = [k for k in known if k.startswith(name[:3])] or known[:5]
                problems.append(
                    loaded.at(
                        ["steps", index, *path],
                        "E201",
                        f"unknown step {name!r}",
                        "Steps here: " + ", ".join(close),
                    )
                )
    return problems
