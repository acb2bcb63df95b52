"""E201/E202: every `goto`, `next`, `on_error` and summary or document field names a step,
and step ids are unique."""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.problems import Problem

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
        names += step.step_names()  # `on_error`, the answers a step lists or submits
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
