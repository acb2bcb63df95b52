"""E343/W343/W344: `submission.<field>` read where the submission cannot have it.

- E343: `submission.link` after a submission that issues no document now (mode `review`:
  an officer decides later; or no `document:`). Its link is None and the text shows
  "None" to the citizen.
- W343: the same on some paths only (one way leads through an instant submission, another
  through a review).
- W344: `submission.<field>` read where no submission may have been made yet (before the
  submit step, on a way around it, in its own `wait` text): it shows empty.

What can be there is worked out from the steps: the submission a text sees is the latest
on the way to it, and each submit step says which fields its submission has
(`StepBase.submission_fields`). A name the text tests for presence anywhere (`{% if
submission.link %}`) is its author's care of the value missing: not reported in that
text. Service-wide texts (`help:`, `texts:`) are shown anywhere and are not judged.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError

from dialogs.checks._flow import edges, reachable
from dialogs.checks._names import reads
from dialogs.checks._sources import Source, problem_at, sources
from dialogs.definition import ServiceDefinition
from dialogs.expressions import ExpressionError
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.submit import SUBMISSION_FIELDS

CODES = ("E343", "W343", "W344")

NONE = -1
"""In a set of latest submissions: no submission yet."""


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    fields = [step.submission_fields() for step in steps]
    latest = _latest(definition, fields)
    problems: list[Problem] = []
    for source in sources(definition):
        if source.step is None or source.step not in latest:
            continue  # service-wide, or unreachable (W203)
        here = latest[source.step]
        if source.kind == "condition":  # a branch is chosen after the step ran
            own = fields[source.step]
            here = here if own is None else frozenset({source.step})
        try:
            found = reads(source, ("submission",))
        except (ExpressionError, TemplateSyntaxError):
            continue  # E221/E222
        # A name tested for presence anywhere in the text is its author's care (the value
        # is shown inside the `if`), as for answers (`variables`).
        tested = {r.path[0] for r in found if r.presence}
        for name in sorted({r.path[0] for r in found} & SUBMISSION_FIELDS - tested):
            problem = _judge(loaded, source, name, here, fields)
            if problem is not None:
                problems.append(problem)
    return problems


def _judge(
    loaded: Loaded,
    source: Source,
    name: str,
    here: frozenset[int],
    fields: list[frozenset[str] | None],
) -> Problem | None:
    written = f"submission.{name}"
    tested = f"`{{% if {written} %}}...{{% endif %}}`"
    made = sorted(i for i in here if i != NONE)
    if NONE in here:
        where = "on some paths to here" if made else "here"
        return problem_at(
            loaded,
            source,
            ("submission", name),
            "W344",
            f"{written} is read before any submission {where}: it shows empty",
            f"Read it after the submit step, or only inside {tested}.",
        )
    without = [i for i in made if name not in (fields[i] or frozenset())]
    if not without:
        return None
    steps = loaded.definition.step_list if loaded.definition else []
    named = ", ".join(repr(steps[i].id) for i in without)
    return problem_at(
        loaded,
        source,
        ("submission", name),
        "E343" if len(without) == len(made) else "W343",
        f"{written} is None after submit step {named}: it issues no document now "
        '(mode review, or no `document:`), so the citizen would read "None"',
        "Say how the document will come (e.g. by SMS once approved), show it only inside "
        f"{tested}, or issue it at once (`mode: instant` with a `document:`).",
    )


def _latest(
    definition: ServiceDefinition, fields: list[frozenset[str] | None]
) -> dict[int, frozenset[int]]:
    """For each reachable step, the submit steps whose submission may be the latest on
    arriving there (NONE: none yet). A may-analysis: sets only grow, so loops settle."""
    alive = reachable(definition)
    graph = [e for e in edges(definition) if e.source in alive]
    arriving: dict[int, frozenset[int]] = {i: frozenset() for i in alive}
    arriving[0] = frozenset({NONE})
    changed = True
    while changed:
        changed = False
        for edge in graph:
            # Leaving a submit step along its `next` way, its submission is the latest.
            made = fields[edge.source] is not None and edge.kind == "next"
            leaving = frozenset({edge.source}) if made else arriving[edge.source]
            if not leaving <= arriving[edge.target]:
                arriving[edge.target] |= leaving
                changed = True
    return arriving
