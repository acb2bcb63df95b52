"""/openapi.json describes every answer of the JSON API: each response of `/api/...`,
`/readyz` and `/healthz`, success or error, has a schema that says what it holds (not `{}`,
not an object of anything) in each of its media types (JSON, or CSV and JSON lines for
the audit export), and every route that requires a role lists its refusals.

Read from the app as built, without starting it: no Redis, no database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.settings import Settings

JSON_API = ("/api/", "/readyz", "/healthz")
ADMIN_REFUSALS = {"401", "403", "429"}
PRIVATE = ["docs", "metrics", "problems"]


def openapi(services_dir: Path, private: list[str]) -> dict[str, Any]:
    settings = Settings(services_dir=services_dir, private_endpoints=private)
    spec: dict[str, Any] = create_app(settings).openapi()
    return spec


def resolved(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def described(schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether `schema` says what the answer holds: named fields, a list of described
    items, a map to described values, or a plain scalar."""
    schema = resolved(schema, spec)
    if "anyOf" in schema:
        return all(described(s, spec) for s in schema["anyOf"] if s.get("type") != "null")
    kind = schema.get("type")
    if kind == "array":
        return described(schema.get("items", {}), spec)
    if kind == "object":
        values = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (
            isinstance(values, dict) and described(values, spec)
        )
    return kind in {"string", "integer", "number", "boolean"}


def answered(response: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether a response has content, every media type of it described."""
    content: dict[str, Any] = response.get("content", {})
    return bool(content) and all(
        described(media.get("schema", {}), spec) for media in content.values()
    )


def json_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in spec["paths"].items()
        if path.startswith(JSON_API)
        for method, operation in methods.items()
    ]


@pytest.mark.parametrize("private", [[], PRIVATE], ids=["public", "private"])
def test_every_response_of_the_json_api_has_a_schema(
    services_dir: Path, private: list[str]
) -> None:
    spec = openapi(services_dir, private)
    operations = json_operations(spec)
    assert {"GET /healthz", "GET /readyz", "GET /api/v1/services"} <= {n for n, _ in operations}
    undescribed = [
        f"{name} -> {status}"
        for name, operation in operations
        for status, response in operation["responses"].items()
        if not answered(response, spec)
    ]
    assert not undescribed, "answers OpenAPI does not describe: " + ", ".join(undescribed)
    succeeding = {
        name
        for name, operation in operations
        if any(status.startswith("2") for status in operation["responses"])
    }
    assert succeeding == {name for name, _ in operations}, "an operation without a 2xx"


@pytest.mark.parametrize("private", [[], PRIVATE], ids=["public", "private"])
def test_routes_behind_the_admin_token_list_its_refusals(
    services_dir: Path, private: list[str]
) -> None:
    spec = openapi(services_dir, private)
    guarded = {
        f"{method.upper()} {path}": operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    }
    assert "POST /api/v1/submissions/{reference}/decision" in guarded
    assert ("GET /api/v1/services/problems" in guarded) == ("problems" in private)
    assert ("GET /metrics" in guarded) == ("metrics" in private)
    unlisted = {name: ADMIN_REFUSALS - set(op["responses"]) for name, op in guarded.items()}
    missing = {name: sorted(statuses) for name, statuses in unlisted.items() if statuses}
    assert not missing, f"refusals not listed: {missing}"
    retry_after = guarded["GET /api/v1/messages"]["responses"]["429"]["headers"]
    assert "Retry-After" in retry_after


def test_the_check_tells_a_described_answer_from_an_undescribed_one() -> None:
    spec = {"components": {"schemas": {"Named": {"type": "object", "properties": {"a": {}}}}}}
    named = {"$ref": "#/components/schemas/Named"}
    assert described(named, spec)
    assert described({"type": "array", "items": named}, spec)
    assert described({"type": "object", "additionalProperties": named}, spec)
    assert described({"anyOf": [named, {"type": "null"}]}, spec)
    assert not described({}, spec)  # a JSONResponse returned as it is
    assert not described({"type": "object", "additionalProperties": True}, spec)  # dict[str, Any]
    assert not described({"type": "array", "items": {}}, spec)  # list[Any]
