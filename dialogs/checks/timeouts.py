"""E245: a lookup that may wait longer than a USSD aggregator waits for our answer.

The aggregator drops the session first (`limits.ussd_answer_seconds`): the citizen loses
the conversation, whatever the registry says later.
"""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.lookup import LookupStep

CODES = ("E245",)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    limit = definition.limits.ussd_answer_seconds
    return [
        loaded.at(
            ["steps", index, "timeout"],
            "E245",
            f"lookup {step.id!r} may wait {step.timeout:g} s, longer than the "
            f"{limit:g} s a USSD aggregator waits (limits.ussd_answer_seconds)",
            f"Set `timeout:` to at most {limit:g}.",
        )
        for index, step in enumerate(definition.step_list)
        if isinstance(step, LookupStep) and step.timeout > limit
    ]
