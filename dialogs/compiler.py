"""Compiles a service definition once into an immutable, runnable service.

States are steps; transitions are the moves the engine takes: the answers' ways on
(`next`, with the branches' conditions), a lookup's `fail` and a summary's `edit`. One
`transitions` Machine is built per service version and is the source of every move: the
engine reads a table derived from it once here (through `get_triggers` and
`get_transitions`), and `gateway graph` draws it. "Back" and "restart" are not moves of the
service: the engine knows their target from the conversation (its trail, the start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from transitions import Machine
from transitions.core import Condition as MachineCondition

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.definition import ServiceDefinition
from dialogs.expressions import (
    Condition,
    Template,
    compile_condition,
    compile_template,
)
from dialogs.steps import StepBase
from dialogs.steps.base import Branch
from dialogs.text import Text, localise, variants

NEXT, FAIL, EDIT = "next", "fail", "edit"

Guard = Callable[[Mapping[str, Any]], bool | None]
"""A move's condition over the render context (the machine calls it with the trigger's
argument, the context)."""


@dataclass(frozen=True, slots=True)
class Way:
    """One transition as the engine takes it: its destination and the guards that must
    all hold (none: always)."""

    dest: str
    guards: tuple[Guard, ...] = ()


def branches_of(step: StepBase, following: str | None) -> list[Branch]:
    """The ways on from a step, in the order they are tried."""
    if step.kind == "final":
        return []
    if step.next is None:
        return [Branch(goto=following)] if following else []
    if isinstance(step.next, str):
        return [Branch(goto=step.next)]
    return list(step.next)


def _guard(condition: Condition) -> Guard:
    def holds(context: Mapping[str, Any]) -> bool:
        return condition(context)

    holds.__name__ = condition.source  # how transitions' diagrams label the move
    return holds


def definition_texts(definition: ServiceDefinition) -> Iterator[tuple[tuple[str | int, ...], Text]]:
    """Every citizen-facing text of a definition with its path in the file."""
    for name in ("title", "description", "help"):
        value = getattr(definition, name)
        if value is not None:
            yield (name,), value
    for key, value in definition.texts.items():
        yield ("texts", key), value
    for index, step in enumerate(definition.step_list):
        for path, value in step.every_text():
            yield ("steps", index, *path), value


@dataclass(frozen=True, eq=False)
class CompiledService:
    """A service version ready to run: steps, templates, and its machine of moves."""

    definition: ServiceDefinition
    steps: Mapping[str, StepBase]
    order: tuple[str, ...]
    machine: Machine
    ways: Mapping[tuple[str, str], tuple[Way, ...]]  # (trigger, step) -> ways, in order
    edit_targets: Mapping[str, tuple[str, ...]]  # summary -> answers to change, in order
    templates: Mapping[str, Template]
    url_templates: Mapping[str, Template]

    def __repr__(self) -> str:
        return f"<CompiledService {self.id} v{self.version}: {len(self.order)} steps>"

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def version(self) -> int:
        return self.definition.version

    @property
    def start(self) -> str:
        return self.order[0]

    @property
    def branches(self) -> Mapping[str, tuple[Branch, ...]]:
        """Each step's `next` ways as the definition writes them, read back from the machine."""
        return {
            name: tuple(
                Branch(goto=way.dest, when=way.guards[0].__name__ if way.guards else None)
                for way in self.ways.get((NEXT, name), ())
            )
            for name in self.order
        }

    def fire(
        self, trigger: str, source: str, context: Mapping[str, Any], target: str | None = None
    ) -> str | None:
        """The step `trigger` leads to from `source` (only to `target`, when given), or None.

        The ways are tried in the machine's order and the first whose guards all hold wins,
        as the machine's own trigger does; the table saves building its event data.
        """
        for way in self.ways.get((trigger, source), ()):
            if target is not None and way.dest != target:
                continue
            if all(guard(context) for guard in way.guards):
                return way.dest
        return None

    def render(self, text: Text | None, lang: str, context: Mapping[str, Any]) -> str:
        """A definition (or built-in) text in `lang`, with its template filled in."""
        source = localise(text, lang)
        template = self.templates.get(source) or template_for(source)
        if template.render_fn is None:
            return source.strip()
        return template.render(context).strip()

    def render_url(self, source: str, context: Mapping[str, Any]) -> str:
        return self.url_templates[source].render(context)

    def builtin(self, key: str) -> Text:
        """A built-in message, as overridden by the service's `texts:` when it is."""
        return self.definition.texts.get(key) or BUILTIN_TEXTS[key]


_BUILTIN_TEMPLATES: dict[str, Template] = {}


def template_for(source: str) -> Template:
    """A compiled template for a text not in a service (built-in messages), cached."""
    template = _BUILTIN_TEMPLATES.get(source)
    if template is None:
        template = compile_template(source)
        if len(_BUILTIN_TEMPLATES) < 10_000:  # built-in texts are a small, fixed set
            _BUILTIN_TEMPLATES[source] = template
    return template


def compile_service(definition: ServiceDefinition) -> CompiledService:
    """Compile a valid definition (run the checker first: this raises on broken ones)."""
    step_list = definition.step_list
    order = tuple(step.id for step in step_list)
    templates: dict[str, Template] = {}
    for _, text in definition_texts(definition):
        for source in variants(text):
            templates[source] = compile_template(source)
    url_templates: dict[str, Template] = {}
    for step in step_list:
        for _, source, kind in step.templates():
            if kind == "url":
                url_templates[source] = compile_template(source, url=True)
            else:
                templates[source] = compile_template(source)
    machine = _machine(step_list, order)
    ways = _ways(machine, order)
    edits = {
        source: tuple(w.dest for w in found)
        for (move, source), found in ways.items()
        if move == EDIT
    }
    return CompiledService(
        definition=definition,
        steps=MappingProxyType({step.id: step for step in step_list}),
        order=order,
        machine=machine,
        ways=MappingProxyType(ways),
        edit_targets=MappingProxyType(edits),
        templates=MappingProxyType(templates),
        url_templates=MappingProxyType(url_templates),
    )


def _machine(step_list: list[StepBase], order: tuple[str, ...]) -> Machine:
    """The service's moves: each step's `next` ways with their conditions, its `fail`
    way (a lookup's `on_error`), its `edit` to each answer it offers to change (a
    summary's)."""
    machine = Machine(model=None, states=list(order), initial=order[0], auto_transitions=False)
    for index, step in enumerate(step_list):
        following = order[index + 1] if index + 1 < len(order) else None
        for branch in branches_of(step, following):
            condition = _guard(compile_condition(branch.when)) if branch.when else None
            machine.add_transition(NEXT, step.id, branch.goto, conditions=condition)
        failure = step.fails_to()
        if failure is not None:
            machine.add_transition(FAIL, step.id, failure)
    answers = [step.id for step in step_list if step.kind == "input" and step.answer_is_saved()]
    for step in step_list:
        for name in step.edits(answers):
            machine.add_transition(EDIT, step.id, name)
    return machine


def _ways(machine: Machine, order: tuple[str, ...]) -> dict[tuple[str, str], tuple[Way, ...]]:
    """The machine's transitions as a table, read once through its public API."""
    ways: dict[tuple[str, str], tuple[Way, ...]] = {}
    for source in order:
        for trigger in machine.get_triggers(source):
            ways[(trigger, source)] = tuple(
                Way(transition.dest, tuple(map(_holds, transition.conditions)))
                for transition in machine.get_transitions(trigger, source)
                if transition.dest is not None  # none here: every move goes to a step
            )
    return ways


def _holds(condition: MachineCondition) -> Guard:
    """A transitions `Condition` as a guard: its `func` must return its `target`."""
    func = condition.func
    if isinstance(func, str):  # a model's method by name: this machine has no model
        raise TypeError(f"condition {func!r} names no function")
    if condition.target:
        return func
    return lambda context: not func(context)
