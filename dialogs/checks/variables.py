"""W210/E211/E212: what templates and conditions read, and whether it can be there.

- E212: a top-level name outside the render context (`answer.x`): always renders empty.
- E211: `answers.x` or `labels.x` where no step `x` saves an answer.
- W210: `answers.x` that may not be set yet on some path to the step (a branch skipped the
  question, a lookup failed); see `_flow.definitely_set`.

E211 and E212 point at the wrong name inside the text and suggest the name it is most
likely a misspelling of. Presence tests are not warned about (see `_names`): a name that a
text tests for presence anywhere is skipped in that whole text, as its author has thought
of it missing and the usual idiom shows the value inside the `if`.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.checks._flow import after, definitely_set, saves_answer
from dialogs.checks._names import did_you_mean, reads
from dialogs.checks._sources import Source, problem_at, sources
from dialogs.expressions import CONTEXT_NAMES, TEXT_ENV, ExpressionError, references
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import StepBase

CODES = ("W210", "E211", "E212")

ANSWER_ROOTS = ("answers", "labels")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    by_id: dict[str, StepBase] = {}
    for step in steps:
        by_id.setdefault(step.id, step)
    answered = [s.id for s in steps if saves_answer(s)]
    before = definitely_set(definition)
    problems: list[Problem] = []
    for source in sources(definition):
        try:
            names = references(source.text, expression=source.kind == "condition").names
            found = reads(source, ANSWER_ROOTS)
        except (ExpressionError, TemplateSyntaxError):
            continue  # E221/E222
        allowed = _allowed_names(source)
        for name in sorted(names - allowed):
            problems.append(
                problem_at(
                    loaded,
                    source,
                    (name,),
                    "E212",
                    f"unknown name {name!r}: it will always be empty",
                    did_you_mean(name, allowed)
                    + "Names: "
                    + ", ".join(sorted(CONTEXT_NAMES))
                    + ".",
                )
            )
        tested = {read.path[0] for read in found if read.presence}
        unsure: set[str] = set()
        for root, name in sorted({(read.root, read.path[0]) for read in found}):
            if name not in by_id or not saves_answer(by_id[name]):
                owner = by_id.get(name)
                problems.append(_no_answer(loaded, source, root, name, owner, answered))
            elif name not in tested:
                unsure.add(name)
        known = _set_here(source, steps, before)
        if known is None:
            continue  # an unreachable step (W203) has no paths to reason about
        for name in sorted(unsure - known):
            problems.append(
                loaded.at(
                    source.path,
                    "W210",
                    f"answers.{name} may not be set here: a path to this point skips {name!r}",
                    f"Test it first (`{{% if answers.{name} %}}`, `answers.{name} or ...`) "
                    "or ask it on every path.",
                )
            )
    return problems


def _allowed_names(source: Source) -> set[str]:
    allowed = set(CONTEXT_NAMES) | set(TEXT_ENV.globals)
    if source.path[0] == "texts" and str(source.path[1]) in BUILTIN_TEXTS:
        # An overridden built-in message may use the parameters the original uses.
        original = BUILTIN_TEXTS[str(source.path[1])]["en"]
        allowed |= references(original).names
    return allowed


def _set_here(
    source: Source, steps: list[StepBase], before: list[frozenset[str] | None]
) -> frozenset[str] | None:
    if source.step is None:
        return frozenset()  # service-wide texts show anywhere, even before any answer
    known = before[source.step]
    if known is None or source.kind != "condition":
        return known
    # A branch is chosen after the step's own answer is saved.
    return after(steps, [b or frozenset() for b in before], source.step, "next")


def _no_answer(
    loaded: Loaded,
    source: Source,
    root: str,
    name: str,
    step: StepBase | None,
    answered: list[str],
) -> Problem:
    if step is None:
        message = f"{root}.{name}: there is no step {name!r}"
        hint = did_you_mean(name, answered, root + ".{}")
    else:
        message = f"{root}.{name}: step {name!r} ({getattr(step, 'type', '')}) saves no answer"
        hint = ""
    return problem_at(
        loaded,
        source,
        (root, name),
        "E211",
        message,
        hint + "Name the id of a question or a lookup.",
    )
