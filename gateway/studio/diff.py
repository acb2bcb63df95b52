"""A draft against the live version, in words a publisher reads before publishing: which
steps were added, removed, moved or changed, and for a changed step which settings and
which texts (per language, old and new).

Pure: two definitions in, a typed result out; `sentences()` says it in plain English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dialogs.definition import ServiceDefinition
from dialogs.steps import StepBase
from dialogs.text import DEFAULT_LANGUAGE, Text

FieldPath = tuple[str | int, ...]
TOP_TEXTS = ("title", "description", "help")  # said on their own lines
TOP_NAMED = ("version", "languages", "steps", *TOP_TEXTS)  # not among `settings`


@dataclass(frozen=True, slots=True)
class TextChange:
    """One text in one language: None when it is not given on that side."""

    field: str  # where in the step (or service), dotted: `prompt`, `options.1.label`
    language: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Placed:
    """A step added or moved, and the step it now follows (None: it comes first)."""

    step: str
    after: str | None


@dataclass(frozen=True, slots=True)
class StepChange:
    step: str
    settings: tuple[str, ...]  # what changed other than texts (`max`, `next`, `options`)
    texts: tuple[TextChange, ...]


@dataclass(frozen=True, slots=True)
class DefinitionDiff:
    """What publishing the draft changes."""

    old_version: int | None  # None: nothing is live, everything is added
    new_version: int
    languages: tuple[tuple[str, ...], tuple[str, ...]] | None  # (old, new) when changed
    texts: tuple[TextChange, ...]  # the service's own: title, description, help
    settings: tuple[str, ...]  # other top-level fields changed (`texts`, `keywords`...)
    added: tuple[Placed, ...]
    removed: tuple[str, ...]
    moved: tuple[Placed, ...]
    changed: tuple[StepChange, ...]

    @property
    def unchanged(self) -> bool:
        return not (
            self.languages or self.texts or self.settings or self.added or self.removed
        ) and not (self.moved or self.changed or self.old_version != self.new_version)

    def sentences(self) -> list[str]:
        said: list[str] = []
        if self.old_version is None:
            said.append(f"A new service (version {self.new_version}): nothing is live yet")
        elif self.old_version != self.new_version:
            said.append(f"Version {self.old_version} → {self.new_version}")
        if self.languages is not None:
            old, new = self.languages
            said.append(f"Languages changed: {', '.join(old)} → {', '.join(new)}")
        said += [_said(change, "the service") for change in self.texts]
        said += [f"Setting {name} of the service changed" for name in self.settings]
        said += [f"Step {p.step} added {_where(p.after)}" for p in self.added]
        said += [f"Step {step} removed" for step in self.removed]
        said += [f"Step {p.step} moved {_where(p.after)}" for p in self.moved]
        for change in self.changed:
            said += [f"Setting {name} of step {change.step} changed" for name in change.settings]
            said += [_said(text, f"step {change.step}") for text in change.texts]
        return said


def compare(draft: ServiceDefinition, live: ServiceDefinition | None) -> DefinitionDiff:
    """What the draft changes in the live definition (None: nothing is live)."""
    new_steps = {s.id: s for s in draft.step_list}
    new_order = [s.id for s in draft.step_list]
    if live is None:
        return DefinitionDiff(
            old_version=None,
            new_version=draft.version,
            languages=None,
            texts=(),
            settings=(),
            added=tuple(_placed(new_order, new_order)),
            removed=(),
            moved=(),
            changed=(),
        )
    old_steps = {s.id: s for s in live.step_list}
    old_order = [s.id for s in live.step_list]
    kept = [name for name in new_order if name in old_steps]
    in_place = set(_longest_common(kept, [name for name in old_order if name in new_steps]))
    languages = sorted({*draft.languages, *live.languages}, key=_english_first)
    return DefinitionDiff(
        old_version=live.version,
        new_version=draft.version,
        languages=(
            None
            if draft.languages == live.languages
            else (tuple(live.languages), tuple(draft.languages))
        ),
        texts=tuple(
            change
            for name in TOP_TEXTS
            for change in _texts(name, getattr(live, name), getattr(draft, name), languages)
        ),
        settings=_settings(
            live.model_dump(mode="json", exclude=set(TOP_NAMED)),
            draft.model_dump(mode="json", exclude=set(TOP_NAMED)),
        ),
        added=tuple(_placed(new_order, [n for n in new_order if n not in old_steps])),
        removed=tuple(name for name in old_order if name not in new_steps),
        moved=tuple(_placed(new_order, [n for n in kept if n not in in_place])),
        changed=tuple(
            change
            for name in kept
            if (change := _step_change(old_steps[name], new_steps[name], languages)) is not None
        ),
    )


def _step_change(old: StepBase, new: StepBase, languages: Sequence[str]) -> StepChange | None:
    old_texts, new_texts = dict(old.every_text()), dict(new.every_text())
    texts = tuple(
        change
        for path in _union(old_texts, new_texts)
        for change in _texts(_dotted(path), old_texts.get(path), new_texts.get(path), languages)
    )
    settings = _settings(_without(old, old_texts), _without(new, new_texts))
    return StepChange(new.id, settings, texts) if texts or settings else None


def _without(step: StepBase, texts: Iterable[FieldPath]) -> dict[str, Any]:
    """The step's fields with its texts left out: a changed text is said once, as text."""
    data: dict[str, Any] = step.model_dump(mode="json")
    for path in texts:
        _drop(data, path)
    return data


def _drop(data: Any, path: FieldPath) -> None:
    *parents, last = path
    for part in parents:
        data = _at(data, part)
    if isinstance(data, dict):
        data.pop(last, None)
    elif isinstance(data, list) and isinstance(last, int) and 0 <= last < len(data):
        data[last] = None  # not removed: the other items keep their indexes


def _at(data: Any, part: str | int) -> Any:
    """The value at `part` of a dumped step, None when there is none."""
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None


def _settings(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in _union(old, new) if old.get(name) != new.get(name))


def _texts(
    field: str, old: Text | None, new: Text | None, languages: Sequence[str]
) -> list[TextChange]:
    old_by, new_by = _by_language(old), _by_language(new)
    return [
        TextChange(field, lang, old_by.get(lang), new_by.get(lang))
        for lang in sorted({*old_by, *new_by}, key=_order(languages))
        if old_by.get(lang) != new_by.get(lang)
    ]


def _by_language(text: Text | None) -> dict[str, str]:
    if text is None:
        return {}
    return {DEFAULT_LANGUAGE: text} if isinstance(text, str) else dict(text)


def _placed(order: Sequence[str], steps: Iterable[str]) -> list[Placed]:
    position = {name: index for index, name in enumerate(order)}
    return [Placed(n, order[position[n] - 1] if position[n] else None) for n in steps]


def _longest_common(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """The longest subsequence of both orders: the steps that stayed in place (the others
    moved). A service has tens of steps: the quadratic table is small."""
    lengths = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            lengths[i][j] = (
                lengths[i + 1][j + 1] + 1
                if a[i] == b[j]
                else max(lengths[i + 1][j], lengths[i][j + 1])
            )
    common, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            common.append(a[i])
            i, j = i + 1, j + 1
        # On a tie the live order's step is the one moved: of two swapped steps, the
        # earlier one moved down (an author cuts a step and pastes it lower).
        elif lengths[i + 1][j] > lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return common


def _union(old: Iterable[Any], new: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys([*old, *new]))


def _dotted(path: FieldPath) -> str:
    return ".".join(str(part) for part in path)


def _english_first(lang: str) -> tuple[bool, str]:
    return lang != DEFAULT_LANGUAGE, lang


def _order(languages: Sequence[str]) -> Callable[[str], tuple[int, str]]:
    """Languages in the service's order, then any others (a text in an undeclared one)."""
    return lambda lang: (languages.index(lang) if lang in languages else len(languages), lang)


def _where(after: str | None) -> str:
    return "at the start" if after is None else f"after {after}"


def _quoted(text: str | None) -> str:
    return "(none)" if text is None else repr(text)


def _said(change: TextChange, whose: str) -> str:
    name = change.field.replace("_", " ").capitalize()
    if change.old is None:
        return f"{name} of {whose} ({change.language}) added: {_quoted(change.new)}"
    if change.new is None:
        return f"{name} of {whose} ({change.language}) removed: {_quoted(change.old)}"
    return (
        f"{name} of {whose} ({change.language}) changed: "
        f"{_quoted(change.old)} → {_quoted(change.new)}"
    )
