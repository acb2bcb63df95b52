"""Every template and condition of a definition, with where it is written.

Shared by the syntax and variable checks so that both see the same sources: the texts of
`definition_texts` (each language separately), each step's other templates (a lookup's
URL, query and body, a document's holder: `StepBase.templates`), and branch conditions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from dialogs.compiler import definition_texts
from dialogs.definition import ServiceDefinition

SourceKind = Literal["template", "url", "condition"]


@dataclass(frozen=True, slots=True)
class Source:
    """One template or condition. `step` is the index of its step (None: service-wide)."""

    path: tuple[str | int, ...]
    text: str
    step: int | None
    kind: SourceKind


def sources(definition: ServiceDefinition) -> Iterator[Source]:
    for path, text in definition_texts(definition):
        owner = path[1] if path[0] == "steps" and isinstance(path[1], int) else None
        if isinstance(text, str):
            yield Source(path, text, owner, "template")
        else:
            for lang, variant in text.items():
                yield Source((*path, lang), variant, owner, "template")
    for index, step in enumerate(definition.step_list):
        here: tuple[str | int, ...] = ("steps", index)
        for path, source, kind in step.templates():
            yield Source((*here, *path), source, index, kind)
        if isinstance(step.next, list):
            for number, branch in enumerate(step.next):
                if branch.when:
                    yield Source((*here, "next", number, "if"), branch.when, index, "condition")
