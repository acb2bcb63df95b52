"""The JSON Schema of the definition format, for editors (VS Code YAML) and docs."""

from __future__ import annotations

import json
from typing import Any

from dialogs.definition import ServiceDefinition


def json_schema() -> dict[str, Any]:
    """The schema of `services/<id>.yaml`, with the `$schema` dialect declared."""
    schema = ServiceDefinition.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
