"""An application an officer returned for correction: the citizen's next conversation
goes straight to the answers the officer named, one after the other, then back to the
summary; confirming sends the corrected answers to the same application
(`Submission.amends`), which goes back to that officer.

The path to the summary is walked again from the stored answers, so "back" works as in
any conversation, and a corrected answer that changes a branch asks its new questions
(`navigation.enter` walks on past what is answered, stopping at the named steps).
"""

from __future__ import annotations

from dialogs.compiler import NEXT, CompiledService
from dialogs.engine import navigation
from dialogs.engine.turn import Turn
from dialogs.messages import Correction, Reply
from dialogs.session import Asking
from dialogs.steps.base import InputStep

MAX_PATH = 200  # as navigation.MAX_AUTO_STEPS: a definition that loops stops here


def start(turn: Turn, correction: Correction) -> bool:
    """Begin correcting `correction`; False when it cannot be (its service is gone, or
    none of the named steps is in the version it was made on)."""
    catalog = turn.catalog
    service = catalog.get(correction.service, correction.version) or catalog.get(correction.service)
    steps = tuple(name for name in correction.steps if service and name in service.steps)
    if service is None or not steps:
        return False
    turn.service = service
    draft = turn.draft
    draft.service, draft.version = service.id, service.version
    draft.answers, draft.submission, draft.prefill = dict(correction.answers), None, {}
    draft.ended, draft.rewound, draft.run = False, True, draft.run + 1
    draft.state, draft.page, draft.invalid = Asking(), 0, 0
    summary = _summary(service)
    path = _path(turn, service, until=summary)
    first = min(steps, key=lambda name: path.index(name) if name in path else len(path))
    draft.trail = path[: path.index(first)] if first in path else ()
    draft.return_to = summary
    draft.amends, draft.correcting = correction.reference, steps
    turn.event("correction_started", reference=correction.reference, steps=list(steps))
    values = {"reference": correction.reference, "note": correction.note}
    turn.say(Reply(turn.builtin("correction_asked", values)))  # above the first question
    navigation.enter(turn, service, first, revisit=False)
    return True


def _summary(service: CompiledService) -> str | None:
    """Where corrected answers are confirmed: the service's summary, if it has one."""
    for name in service.order:
        step = service.steps[name]
        if isinstance(step, InputStep) and step.confirms_answers:
            return name
    return None


def _path(turn: Turn, service: CompiledService, until: str | None) -> tuple[str, ...]:
    """The steps the stored answers lead through, from the start up to `until`."""
    path: list[str] = []
    name: str | None = service.start
    while name is not None and name != until and len(path) < MAX_PATH and name not in path:
        path.append(name)
        name = service.fire(NEXT, name, turn.context())
    return tuple(path)
