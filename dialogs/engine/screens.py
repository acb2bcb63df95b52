"""A service's screens: the current step's question, a summary's answers, the list of
answers to change, and how each answer is labelled and shown."""

from __future__ import annotations

from dialogs.compiler import CompiledService
from dialogs.engine import navigation
from dialogs.engine.turn import Turn
from dialogs.media import BACK_KEY
from dialogs.messages import Reply, ReplyOption
from dialogs.steps.base import InputStep


def question(turn: Turn, service: CompiledService) -> Reply | None:
    """The current step's question, with its choices (None: the step asks nothing)."""
    current = service.steps[turn.draft.step]
    if not isinstance(current, InputStep):
        return None
    body = turn.text(current.prompt)
    if current.confirms_answers:
        lines = [
            f"{field_label(turn, service, name)}: {display(turn, service, name)}"
            for name in summary_fields(turn, service, current)
        ]
        body = "\n".join([body, *lines])
    options = turn.numbered([option.label for option in current.choices(turn.step_context())])
    back = back_option(turn) if options else ()
    return Reply(body, options + back)


def fields(turn: Turn, service: CompiledService) -> Reply | None:
    """At a summary: which answer to change."""
    current = service.steps[turn.draft.step]
    if not (isinstance(current, InputStep) and current.confirms_answers):
        return question(turn, service)
    names = summary_fields(turn, service, current)
    options = turn.numbered([field_label(turn, service, name) for name in names])
    return Reply(turn.builtin("choose_field"), options + back_option(turn))


def back_option(turn: Turn) -> tuple[ReplyOption, ...]:
    if turn.profile.show_back and navigation.back_target(turn) is not None:
        return (ReplyOption(BACK_KEY, turn.builtin("back"), nav=True),)
    return ()


def summary_fields(turn: Turn, service: CompiledService, summary: InputStep) -> list[str]:
    """The answers a summary lists (and offers to change): those given."""
    names = service.edit_targets.get(summary.id, ())
    return [name for name in names if name in turn.draft.answers]


def field_label(turn: Turn, service: CompiledService, name: str) -> str:
    label = getattr(service.steps[name], "label", None)
    return turn.text(label) if label else name.replace("_", " ").capitalize()


def display(turn: Turn, service: CompiledService, name: str) -> str:
    """An answer as shown back to the citizen."""
    current = service.steps[name]
    value = turn.draft.answers.get(name)
    if isinstance(current, InputStep):
        return current.display(value, turn.step_context())
    return "" if value is None else str(value)
