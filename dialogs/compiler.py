"""Compiles a service definition once into an immutable, runnable service.

States are steps; transitions are the answers' ways on (`next`, branches), a lookup's
`fail`, a summary's `edit` and the `back` and `restart` commands. One `transitions`
Machine is built per service version and shared by every conversation: a step is taken by
firing an event on a throwaway cursor object that is never registered with the machine
(registering models per request is what makes `transitions` slow).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from transitions import EventData, Machine

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
from dialogs.steps.choice import ChoiceStep
from dialogs.steps.lookup import LookupStep
from dialogs.steps.submit import SubmitStep
from dialogs.steps.summary import SummaryStep
from dialogs.text import Text, localise, variants

NEXT, FAIL, EDIT, BACK, RESTART = "next", "fail", "edit", "back", "restart"


class _Cursor:
    """The machine's model for one transition: a step name and the render context."""

    __slots__ = ("context", "state")

    def __init__(self, state: str, context: Mapping[str, Any]) -> None:
        self.state = state
        self.context = context


def branches_of(step: StepBase, following: str | None) -> list[Branch]:
    """The ways on from a step, in the order they are tried."""
    if step.kind == "final":
        return []
    if step.next is None:
        return [Branch(goto=following)] if following else []
    if isinstance(step.next, str):
        return [Branch(goto=step.next)]
    return list(step.next)


def _guard(condition: Condition) -> Any:
    def check(event: EventData) -> bool:
        return condition(event.kwargs["context"])

    return check


def _target_is(dest: str) -> Any:
    def check(event: EventData) -> bool:
        return bool(event.kwargs.get("target") == dest)

    return check


def definition_texts(definition: ServiceDefinition) -> Iterator[tuple[tuple[str | int, ...], Text]]:
    """Every citizen-facing text of a definition with its path in the file."""
    for name in ("title", "description", "help"):
        value = getattr(definition, name)
        if value is not None:
            yield (name,), value
    for key, value in definition.texts.items():
        yield ("texts", key), value
    for index, step in enumerate(definition.step_list):
        for name, value in step.texts():
            yield ("steps", index, name), value
        if isinstance(step, ChoiceStep):
            for option_index, option in enumerate(step.options):
                yield ("steps", index, "options", option_index, "label"), option.label
        if isinstance(step, SubmitStep) and step.document is not None:
            yield ("steps", index, "document", "title"), step.document.title
            yield ("steps", index, "document", "issuer"), step.document.issuer


@dataclass(frozen=True, eq=False)
class CompiledService:
    """A service version ready to run: steps, branches, templates and its machine."""

    definition: ServiceDefinition
    steps: Mapping[str, StepBase]
    order: tuple[str, ...]
    branches: Mapping[str, tuple[Branch, ...]]
    machine: Machine
    templates: Mapping[str, Template]
    url_templates: Mapping[str, Template]
    edit_targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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

    def fire(
        self, trigger: str, source: str, context: Mapping[str, Any], target: str | None = None
    ) -> str | None:
        """The step an event leads to from `source`, or None when no transition applies.

        The machine's transitions for (event, source) are tried in order and the first whose
        conditions hold wins, as `Event.trigger` does. Its state-change machinery (callbacks,
        queueing, logging) is skipped: steps have no callbacks, and it tripled a step's cost.
        """
        event = self.machine.events.get(trigger)
        candidates = event.transitions.get(source) if event is not None else None
        if not candidates:
            return None
        data: EventData | None = None
        for transition in candidates:
            if not transition.conditions:
                return str(transition.dest)
            if data is None:  # only conditions need the event data
                data = EventData(
                    self.machine.get_state(source),
                    event,
                    self.machine,
                    _Cursor(source, context),
                    args=(),
                    kwargs={"context": context, "target": target},
                )
            if all(condition.check(data) for condition in transition.conditions):
                return str(transition.dest)
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
    steps = {step.id: step for step in step_list}
    machine = Machine(
        model=None,
        states=list(order),
        initial=order[0],
        send_event=True,
        auto_transitions=False,
        ignore_invalid_triggers=True,
    )
    branches: dict[str, tuple[Branch, ...]] = {}
    predecessors: dict[str, set[str]] = {name: set() for name in order}
    for index, step in enumerate(step_list):
        following = order[index + 1] if index + 1 < len(order) else None
        branches[step.id] = tuple(branches_of(step, following))
        for branch in branches[step.id]:
            conditions = [_guard(compile_condition(branch.when))] if branch.when else []
            machine.add_transition(NEXT, step.id, branch.goto, conditions=conditions)
            predecessors[branch.goto].add(step.id)
        if isinstance(step, LookupStep):
            machine.add_transition(FAIL, step.id, step.on_error)
            predecessors[step.on_error].add(step.id)
    edit_targets: dict[str, tuple[str, ...]] = {}
    for step in step_list:
        if isinstance(step, SummaryStep):
            fields = tuple(step.fields or [s.id for s in step_list if _is_answer(s)])
            edit_targets[step.id] = fields
            for name in fields:
                machine.add_transition(EDIT, step.id, name, conditions=[_target_is(name)])
    for name in order:
        for earlier in order:
            if earlier != name:
                machine.add_transition(BACK, name, earlier, conditions=[_target_is(earlier)])
    machine.add_transition(RESTART, "*", order[0])

    templates: dict[str, Template] = {}
    for _, text in definition_texts(definition):
        for source in variants(text):
            templates[source] = compile_template(source)
    url_templates: dict[str, Template] = {}
    for step in step_list:
        if isinstance(step, LookupStep):
            url_templates[step.url] = compile_template(step.url, url=True)
            for value in [*step.query.values(), *(step.body or {}).values()]:
                templates[value] = compile_template(value)
    return CompiledService(
        definition=definition,
        steps=MappingProxyType(steps),
        order=order,
        branches=MappingProxyType(branches),
        machine=machine,
        templates=MappingProxyType(templates),
        url_templates=MappingProxyType(url_templates),
        edit_targets=MappingProxyType(edit_targets),
    )


def _is_answer(step: StepBase) -> bool:
    return step.kind == "input" and step.answer_is_saved()
