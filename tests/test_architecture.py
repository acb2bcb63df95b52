"""Dependencies point one way: `dialogs` does no I/O and imports no other package of ours."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_DIALOGS = {
    "gateway",
    "nlu",
    "state",
    "httpx",
    "requests",
    "socket",
    "urllib.request",
    "redis",
    "sqlalchemy",
    "subprocess",
    "asyncio",
    "pathlib",
    "os",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_dialogs_imports_no_io_and_none_of_our_other_packages() -> None:
    offenders = {}
    for path in sorted((ROOT / "dialogs").rglob("*.py")):
        bad = {
            name
            for name in imported_modules(path)
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_DIALOGS)
        }
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_dialogs_never_opens_files() -> None:
    for path in sorted((ROOT / "dialogs").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        opened = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "open"]
        assert opened == [], path
