"""What a start or reload of the services did with each service (`ReloadReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from dialogs.problems import Problem

Outcome = Literal["published", "unchanged", "refused", "withdrawn", "kept"]
REFUSED: frozenset[Outcome] = frozenset({"refused", "kept"})
DATABASE = "(database)"  # the `file` of a change to a version the database governs


@dataclass(frozen=True, slots=True)
class ServiceChange:
    """What a reload did with one service."""

    service: str
    outcome: Outcome
    version: int | None  # published after the reload (None: not published)
    previous: int | None  # published before
    file: str = ""
    reason: str = ""
    problems: tuple[Problem, ...] = ()

    def data(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "outcome": self.outcome,
            "version": self.version,
            "previous": self.previous,
            "file": self.file,
            "reason": self.reason,
            "problems": [p.data() for p in self.problems],
        }


@dataclass(slots=True)
class ReloadReport:
    """Every service's outcome; `generation` once other processes were told."""

    changes: list[ServiceChange] = field(default_factory=list)
    generation: int | None = None
    digest: str = ""  # of the folder as read

    @property
    def changed(self) -> bool:
        return any(c.outcome in ("published", "withdrawn") for c in self.changes)

    @property
    def refused(self) -> list[ServiceChange]:
        """Definitions of the folder that were not applied (the running ones go on)."""
        return [c for c in self.changes if c.outcome in REFUSED]

    def outcome(self, service: str) -> ServiceChange | None:
        return next((c for c in self.changes if c.service == service), None)

    def data(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "refused": [c.service for c in self.refused],
            "generation": self.generation,
            "services": [c.data() for c in self.changes],
        }
