"""Write ``somna_client/models.py`` from the server's OpenAPI document.

Run it (``make sdk-models``) after an API change; ``tests/sdk/test_drift.py`` fails while the
committed file differs from what this script makes, so the SDK's models cannot drift.
The models are deliberately tolerant: enums are plain strings and unknown fields are kept, so
an older SDK keeps working against a newer server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parents[1] / "src" / "somna_client" / "models.py"
HEADER = '''"""Typed response models of the Somna API, generated from its OpenAPI document.

Do not edit by hand: run ``make sdk-models``. Every model accepts fields it does not know.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from somna_client._model import SomnaModel

'''
SKIP = (
    "Page_",
    "HTTPValidationError",
    "ValidationError",
    "ErrorOut",
    "ValidationBody",
    "RateLimitBody",
    "DetailBody",
)


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def python_type(schema: dict[str, Any]) -> str:
    """The annotation for one JSON schema (``X | None`` for nullable ones)."""
    name = _ref(schema)
    if name is not None:
        return name
    if "anyOf" in schema or "oneOf" in schema:
        options = [python_type(item) for item in schema.get("anyOf", schema.get("oneOf", []))]
        unique = list(dict.fromkeys(options))
        if "None" in unique:
            unique = [item for item in unique if item != "None"] + ["None"]
        return " | ".join(unique) if len(unique) <= 3 else "Any"
    kind = schema.get("type")
    if kind == "string":
        return {"date-time": "datetime", "date": "date"}.get(schema.get("format", ""), "str")
    if kind == "array":
        return f"list[{python_type(schema.get('items', {}))}]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        value = python_type(extra) if isinstance(extra, dict) and extra else "Any"
        return f"dict[str, {value}]"
    return {"integer": "int", "number": "float", "boolean": "bool", "null": "None"}.get(
        str(kind), "Any"
    )


def _reachable(spec: dict[str, Any]) -> list[str]:
    """Schemas that some successful response uses, directly or through another schema."""
    schemas = spec["components"]["schemas"]
    seen: dict[str, None] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            name = _ref(node)
            if name is not None and name not in seen:
                seen[name] = None
                visit(schemas[name])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for operations in spec["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    visit(response.get("content", {}))
    return sorted(name for name in seen if not name.startswith(SKIP))


def render(spec: dict[str, Any]) -> str:
    schemas = spec["components"]["schemas"]
    blocks = []
    for name in _reachable(spec):
        schema = schemas[name]
        lines = [f"class {name}(SomnaModel):"]
        title = (schema.get("description") or "").strip().splitlines()
        if title:
            lines.append(f'    """{title[0].strip().rstrip(".")}."""')
            lines.append("")
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        for field, field_schema in properties.items():
            annotation = python_type(field_schema)
            nullable = annotation.endswith("| None") or annotation in ("Any", "None")
            if field in required and not nullable:
                lines.append(f"    {field}: {annotation}")
            elif field in required or nullable:
                lines.append(f"    {field}: {annotation} = None")
            else:
                lines.append(f"    {field}: {annotation} | None = None")
        if not properties:
            lines.append("    pass")
        blocks.append("\n".join(lines))
    return HEADER + "\n" + "\n\n\n".join(blocks) + "\n"


def server_openapi() -> dict[str, Any]:
    from pydantic import SecretStr

    from somna.app import create_app
    from somna.config import Settings

    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key=SecretStr("openapi-only-" + "x" * 40),
    )
    return create_app(settings).openapi()


def main() -> None:
    TARGET.write_text(render(server_openapi()))
    sys.stdout.write(f"wrote {TARGET}\n")


if __name__ == "__main__":
    main()
