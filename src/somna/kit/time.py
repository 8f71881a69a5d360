"""One clock for the whole code base, always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def utc_now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Attach UTC to a naive value (as SQLite returns them) or convert an aware one."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name this machine knows (``Europe/Berlin``, ``UTC``)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The IANA zone of that name; UTC for an empty or unknown one (a stored preference may
    name a zone this machine's tz database lacks, and a page must still render)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _timezone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Berlin'")
    return value


# An IANA zone name in a request body, refused with a sentence when this machine lacks it.
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
