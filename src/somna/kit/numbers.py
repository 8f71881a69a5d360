"""How numbers Somna computes are written in answers, one rule per kind, as annotated types
any schema or result dataclass can use:

- ``Score``: 0-100, one decimal (sleep score, consistency, SRI, risk).
- ``Percent``: 0-100, one decimal (``*_pct``; efficiency is always a percentage).
- ``OneDecimal``: other computed measures named with their unit (``*_minutes``, ``*_hours``).
- ``Seconds``: durations as whole seconds (``*_seconds``).
- ``Measures``: a mapping of named figures (an insight's evidence), every float to 0.1.

Only the written form changes: the values stay exact inside the maths. Values a provider sent
are not given these types; they pass through as the provider sent them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, PlainSerializer


def one_decimal(value: float) -> float:
    return round(float(value), 1)


def whole(value: float) -> int:
    return round(value)


OneDecimal = Annotated[float, PlainSerializer(one_decimal, return_type=float)]
Score = Annotated[
    float, PlainSerializer(one_decimal, return_type=float), Field(description="0-100, to 0.1.")
]
Percent = Annotated[
    float, PlainSerializer(one_decimal, return_type=float), Field(description="0-100 %, to 0.1.")
]
Seconds = Annotated[float, PlainSerializer(whole, return_type=int)]


def rounded_measures(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: one_decimal(value) if isinstance(value, float) else value
        for key, value in values.items()
    }


Measures = Annotated[dict[str, Any], PlainSerializer(rounded_measures, return_type=dict[str, Any])]
