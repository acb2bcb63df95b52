"""Problems found in a definition, printed as `file:line:col: CODE message`.

Codes starting with E are errors (the service cannot be published); W are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One finding of the loader or the checker, located in the source file."""

    file: str
    line: int
    col: int
    code: str
    message: str
    hint: str = ""

    @property
    def severity(self) -> Severity:
        return "error" if self.code.startswith("E") else "warning"

    def data(self) -> dict[str, Any]:
        """As the API reports it (the admin routes, `/api/v1/services/problems`)."""
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }

    def format(self) -> str:
        text = f"{self.file}:{self.line}:{self.col}: {self.code} {self.severity}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)
