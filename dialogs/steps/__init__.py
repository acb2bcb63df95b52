"""The registry of step types: one module per type, looked up by its `type:` name.

A type carries its own behaviour (`dialogs.steps.base.StepBase`, and
`dialogs.steps.effect.EffectStep` for steps that wait on an effect): adding one is its
module, a line in `_TYPES` and its fixture (`tests/dialogs/fixtures/steps/<type>.yaml`).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.steps.base import InputStep, StepBase
from dialogs.steps.choice import ChoiceStep
from dialogs.steps.date import DateStep
from dialogs.steps.effect import EffectStep
from dialogs.steps.email import EmailStep
from dialogs.steps.end import EndStep
from dialogs.steps.info import InfoStep
from dialogs.steps.lookup import LookupStep
from dialogs.steps.national_id import NationalIdStep
from dialogs.steps.number import NumberStep
from dialogs.steps.phone import PhoneStep
from dialogs.steps.submit import SubmitStep
from dialogs.steps.summary import SummaryStep
from dialogs.steps.text import TextStep
from dialogs.steps.yes_no import YesNoStep

_TYPES: tuple[type[StepBase], ...] = (
    TextStep,
    NumberStep,
    DateStep,
    PhoneStep,
    NationalIdStep,
    EmailStep,
    YesNoStep,
    ChoiceStep,
    InfoStep,
    SummaryStep,
    LookupStep,
    SubmitStep,
    EndStep,
)


def _type_name(cls: type[StepBase]) -> str:
    annotation = cls.model_fields["type"].annotation
    return str(annotation.__args__[0])  # type: ignore[union-attr]


STEP_TYPES: dict[str, type[StepBase]] = {_type_name(cls): cls for cls in _TYPES}
"""Step type name (as written in `type:`) -> its model."""


def _add_builtin_texts() -> None:
    """The built-in messages step types bring (a reason to refuse an answer) join the
    engine's own, so that services override and the checker sizes them alike."""
    for cls in _TYPES:
        for key, text in cls.builtin_texts.items():
            if BUILTIN_TEXTS.setdefault(key, text) != text:
                raise ValueError(f"step type {_type_name(cls)!r} redefines the message {key!r}")


_add_builtin_texts()

Step = Annotated[Union[_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
"""Any step, told apart by its `type:` field."""

AnyStep = Any  # the static type of a parsed step: one of STEP_TYPES' values

__all__ = ["STEP_TYPES", "AnyStep", "EffectStep", "InputStep", "Step", "StepBase"]
