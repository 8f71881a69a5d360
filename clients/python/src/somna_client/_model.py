"""The base of every response model: typed fields, and unknown fields kept rather than lost."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class SomnaModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON-ready data (dates and times as ISO strings)."""
        return self.model_dump(mode="json")
