"""Periods of local dates, taken the same way by every route: ``start_date`` and ``end_date``,
inclusive, with the end not before the start (422 naming ``end_date`` otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar

from fastapi import Query
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from somna.errors import Unprocessable

StartDateQuery = Annotated[date | None, Query(description="First local date, inclusive.")]
EndDateQuery = Annotated[date | None, Query(description="Last local date, inclusive.")]
StartAlias = Annotated[
    date | None, Query(description="Alias of `start_date`, kept for older clients.")
]
EndAlias = Annotated[date | None, Query(description="Alias of `end_date`, kept for older clients.")]


@dataclass(frozen=True, slots=True)
class LocalDates:
    """An inclusive window of local dates; either end may be open."""

    start: date | None = None
    end: date | None = None


def reversed_period(start_field: str = "start_date", end_field: str = "end_date") -> Unprocessable:
    return Unprocessable(
        f"`{end_field}` is before `{start_field}`.",
        field=end_field,
        location="query",
        kind="reversed_period",
    )


def _one_of(name: str, alias: str, value: date | None, alias_value: date | None) -> date | None:
    if value is not None and alias_value is not None and value != alias_value:
        raise Unprocessable(
            f"`{alias}` is an alias of `{name}`; send one of them.",
            field=alias,
            location="query",
            kind="conflicting_alias",
        )
    return value if value is not None else alias_value


async def local_dates(
    start_date: StartDateQuery = None,
    end_date: EndDateQuery = None,
    start: StartAlias = None,
    end: EndAlias = None,
) -> LocalDates:
    """``start_date``/``end_date`` (or their aliases ``start``/``end``) as one window."""
    first = _one_of("start_date", "start", start_date, start)
    last = _one_of("end_date", "end", end_date, end)
    if first is not None and last is not None and last < first:
        # Name the parameters as the caller sent them.
        raise reversed_period(
            "start_date" if start_date is not None else "start",
            "end_date" if end_date is not None else "end",
        )
    return LocalDates(first, last)


class PeriodBody(BaseModel):
    """Mixin for bodies taking a period; ``max_span_days`` bounds it when set."""

    max_span_days: ClassVar[int | None] = None

    start_date: date | None = Field(None, description="First local date, inclusive.")
    end_date: date | None = Field(None, description="Last local date, inclusive.")

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start: Any = info.data.get("start_date")
        if end is None or not isinstance(start, date):
            return end
        if end < start:
            raise PydanticCustomError("reversed_period", "`end_date` is before `start_date`")
        span = (end - start).days + 1
        if cls.max_span_days is not None and span > cls.max_span_days:
            raise PydanticCustomError(
                "period_too_long",
                "The period spans {days} days; at most {max_days} are allowed",
                {"days": span, "max_days": cls.max_span_days},
            )
        return end

    @property
    def period(self) -> LocalDates:
        return LocalDates(self.start_date, self.end_date)
