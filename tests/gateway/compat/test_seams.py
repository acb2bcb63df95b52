"""Only the seams touch the library internals the gateway leans on for speed.

The seams (gateway/compat/, state/redis_compat.py) are where an upgrade is checked
(their contract tests) and bounded (pyproject.toml); the same trick anywhere else would
escape both. Read from the source, as tests/test_architecture.py reads `dialogs`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("gateway", "state", "nlu", "dialogs")
SEAMS = ("gateway/compat/", "state/redis_compat.py")
# Library classes whose subclasses override internals: redis-py's pool and connections,
# FastAPI's route, arq's worker.
LIBRARY_BASES = frozenset(
    {
        "ConnectionPool",
        "AbstractConnection",
        "Connection",
        "SSLConnection",
        "UnixDomainSocketConnection",
        "APIRoute",
        "Worker",
    }
)


def base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def leans(tree: ast.AST) -> list[str]:
    """What `tree` does that only a seam may do."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {base_name(base) for base in node.bases} & LIBRARY_BASES
            found += [f"class {node.name}({base})" for base in sorted(bases)]
        elif isinstance(node, ast.ImportFrom) and node.module == "arq.connections":
            if any(alias.name == "create_pool" for alias in node.names):
                found.append("arq's create_pool (its pool is streamlined by the seam)")
        elif isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, ast.Attribute)]
            if any(target.attr == "__class__" for target in targets):
                found.append("an object's class changed")
        elif isinstance(node, ast.Constant) and node.value == "EVALSHA":
            found.append("EVALSHA sent by hand")
    return found


def test_only_the_seams_touch_library_internals() -> None:
    offenders = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name.startswith(SEAMS):
                continue
            found = leans(ast.parse(path.read_text(encoding="utf-8")))
            if found:
                offenders[name] = found
    assert offenders == {}


def test_the_seams_are_what_the_check_looks_for() -> None:
    """The check above would pass on nothing if it no longer recognised the tricks."""
    for seam in ("gateway/compat/fastapi.py", "gateway/compat/arq.py", "state/redis_compat.py"):
        assert leans(ast.parse((ROOT / seam).read_text(encoding="utf-8"))), seam
