"""E340/E341/E342: a field of `submission`, `service` or a lookup's reply that is never
there, so the text always shows it empty.

- E340: `submission.<field>` other than what a submission keeps (`SUBMISSION_FIELDS`:
  reference, status, link, held), e.g. `submission.refrence`.
- E341: `service.<field>` other than what the engine puts in the context (id, version,
  title).
- E342: `answers.<lookup>.<field>` that the lookup does not keep: not in its `fields:`
  (or its `registered_phone`, checked and then dropped). A lookup without `fields:` keeps
  the whole reply, whose keys only the registry knows: not checked.

Each points at the wrong name inside the text and suggests the closest right one. A name
that is never there is reported even inside `{% if %}`: the branch can never be taken.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError

from dialogs.checks._names import Read, did_you_mean, reads
from dialogs.checks._sources import Source, problem_at, sources
from dialogs.expressions import ExpressionError
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps import StepBase
from dialogs.steps.submit import SUBMISSION_FIELDS

CODES = ("E340", "E341", "E342")

SERVICE_FIELDS = frozenset({"id", "version", "title"})
"""What `service` holds in the render context (`dialogs.engine.turn.Turn._build_context`)."""

ROOTS = ("submission", "service", "answers")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    by_id: dict[str, StepBase] = {}
    for step in definition.step_list:
        by_id.setdefault(step.id, step)
    problems: list[Problem] = []
    for source in sources(definition):
        try:
            found = reads(source, ROOTS)
        except (ExpressionError, TemplateSyntaxError):
            continue  # E221/E222
        seen: set[tuple[str, ...]] = set()
        for read in sorted(found, key=lambda r: (r.root, r.path)):
            chain = (read.root, *read.path[:2])
            if chain not in seen:
                seen.add(chain)
                problem = _check(loaded, source, read, by_id)
                if problem is not None:
                    problems.append(problem)
    return problems


def _check(
    loaded: Loaded, source: Source, read: Read, by_id: dict[str, StepBase]
) -> Problem | None:
    name = read.path[0]
    if read.root == "submission" and name not in SUBMISSION_FIELDS:
        return problem_at(
            loaded,
            source,
            ("submission", name),
            "E340",
            f"submission.{name}: a submission has no field {name!r}, it will always be empty",
            did_you_mean(name, SUBMISSION_FIELDS, "submission.{}")
            + "Fields: "
            + ", ".join(sorted(SUBMISSION_FIELDS))
            + ".",
        )
    if read.root == "service" and name not in SERVICE_FIELDS:
        return problem_at(
            loaded,
            source,
            ("service", name),
            "E341",
            f"service.{name}: the service has no field {name!r}, it will always be empty",
            did_you_mean(name, SERVICE_FIELDS, "service.{}")
            + "Fields: "
            + ", ".join(sorted(SERVICE_FIELDS))
            + ".",
        )
    if read.root == "answers" and len(read.path) > 1 and name in by_id:
        return _not_kept(loaded, source, by_id[name], read.path[1])
    return None


def _not_kept(loaded: Loaded, source: Source, step: StepBase, field: str) -> Problem | None:
    kept = step.answer_fields()
    if kept is None or field in kept:
        return None
    written = f"answers.{step.id}.{field}"
    listed = ", ".join(sorted(kept)) or "none"
    dropped = field == getattr(step, "registered_phone", None)
    return problem_at(
        loaded,
        source,
        ("answers", step.id, field),
        "E342",
        f"{written}: step {step.id!r} keeps no field {field!r}, it will always be empty"
        + (" (its `registered_phone` is checked, then dropped)" if dropped else ""),
        did_you_mean(field, kept, f"answers.{step.id}.{{}}")
        + f"It keeps: {listed}."
        + (
            " The registered number is only compared with the citizen's, never shown."
            if dropped
            else f" Add {field!r} to its `fields:` if the registry sends it."
        ),
    )
