"""E363: a secret written into a lookup's `headers`.

A definition is read by every author and reviewer and kept in version control; a registry's
token belongs in the gateway's environment, named by `env:NAME`, which the gateway reads
when it calls. A header whose name says it carries a credential (Authorization, X-Api-Key,
anything with token, key, secret, password or auth in it), or whose value reads like one
(`Bearer ...`), must be such a reference. Plain headers (Accept: application/json) are fine.
"""

from __future__ import annotations

import re

from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.steps.lookup import LookupStep

CODES = ("E363",)

_SECRET_NAME = re.compile(r"auth|token|key|secret|password|passwd|cookie|signature", re.I)
_CREDENTIAL = re.compile(r"^\s*(?:bearer|basic|digest|token)\s+\S", re.I)
_REFERENCE = re.compile(r"^env:[A-Za-z_][A-Za-z0-9_]*$")


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    problems: list[Problem] = []
    for index, step in enumerate(definition.step_list):
        if not isinstance(step, LookupStep):
            continue
        for name, value in step.headers.items():
            if _REFERENCE.match(value) or not value.strip():
                continue
            if _SECRET_NAME.search(name) or _CREDENTIAL.match(value):
                variable = _variable(step.id, name)
                problems.append(
                    loaded.at(
                        ["steps", index, "headers", name],
                        "E363",
                        f"header {name!r} holds a written value: a secret in a definition "
                        "is readable by everyone who reads the file",
                        f"Write `{name}: env:{variable}` and set {variable} in the gateway's "
                        "environment to the whole value (e.g. `Bearer ...`).",
                    )
                )
    return problems


def _variable(step_id: str, header: str) -> str:
    """A name for the environment variable to suggest: `CITIZEN_X_API_KEY`."""
    return re.sub(r"[^A-Z0-9]+", "_", f"{step_id}_{header}".upper()).strip("_")
