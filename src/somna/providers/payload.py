"""Strict readers for vendor JSON, shared by the mappers: each failure names the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

from somna.providers.exceptions import MappingError

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


class Fields:
    """Typed access to one payload object; errors say which provider and which field."""

    def __init__(self, provider: str, payload: Any, where: str = "record") -> None:
        if not isinstance(payload, Mapping):
            raise MappingError(provider, f"{provider} {where} is not a JSON object")
        self.provider = provider
        self.data: Mapping[str, Any] = payload
        self.where = where

    def _fail(self, name: str, expected: str) -> MappingError:
        return MappingError(
            self.provider, f"{self.provider} {self.where}.{name}: expected {expected}"
        )

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self._fail(name, "a string")

    def opt_text(self, name: str) -> str | None:
        return None if self.data.get(name) is None else self.text(name)

    def integer(self, name: str) -> int:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(name, "a number")
        return int(value)

    def opt_integer(self, name: str) -> int | None:
        return None if self.data.get(name) is None else self.integer(name)

    def number(self, name: str) -> float:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(name, "a number")
        return float(value)

    def opt_number(self, name: str) -> float | None:
        return None if self.data.get(name) is None else self.number(name)

    def flag(self, name: str, default: bool | None = None) -> bool:
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        if value is None and default is not None:
            return default
        raise self._fail(name, "true or false")

    def moment(self, name: str) -> datetime:
        return parse_datetime(self.provider, self.data.get(name), f"{self.where}.{name}")

    def opt_moment(self, name: str) -> datetime | None:
        return None if self.data.get(name) is None else self.moment(name)

    def child(self, name: str) -> Fields:
        return Fields(self.provider, self.data.get(name), f"{self.where}.{name}")

    def opt_child(self, name: str) -> Fields | None:
        return None if self.data.get(name) is None else self.child(name)

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if not isinstance(value, list):
            raise self._fail(name, "a list")
        return value


def parse_datetime(provider: str, value: Any, field: str) -> datetime:
    """ISO 8601 with ``Z`` or an offset, any fraction; naive values are taken as UTC."""
    if not isinstance(value, str):
        raise MappingError(provider, f"{provider} {field}: expected a date-time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise MappingError(provider, f"{provider} {field}: not an ISO 8601 date-time") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_offset_minutes(provider: str, value: Any) -> int | None:
    """``-05:00`` → -300, ``Z`` → 0; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(provider, f"{provider} timezone_offset: expected a string")
    if value in ("Z", "z"):
        return 0
    match = _OFFSET.match(value.strip())
    if match is None:
        raise MappingError(provider, f"{provider} timezone_offset: {value!r} is not ±hh:mm")
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes)
    if total > 18 * 60:
        raise MappingError(provider, f"{provider} timezone_offset: {value!r} is out of range")
    return -total if sign == "-" else total


def offset_minutes_of(moment: datetime) -> int | None:
    delta = moment.utcoffset()
    return None if delta is None else int(delta.total_seconds() // 60)


def local_date(moment: datetime, offset_minutes: int | None, zone: tzinfo | None = None) -> date:
    """The calendar date at ``moment`` where the person was: the payload's own offset first,
    then the person's zone, then UTC."""
    if offset_minutes is not None:
        return moment.astimezone(timezone(timedelta(minutes=offset_minutes))).date()
    if zone is not None:
        return moment.astimezone(zone).date()
    return moment.astimezone(UTC).date()


def ms_to_seconds(value: int | None) -> int | None:
    return None if value is None else round(value / 1000)
