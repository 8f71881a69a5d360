"""WHOOP-style pagination: filters by time window, newest first, and a self-contained
``next_token`` that carries the filters, the page size and the position (so a client may send
only ``nextToken`` on later pages, or repeat its filters; both work)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_LIMIT = 25
DEFAULT_LIMIT = 10


class PageError(ValueError):
    """A bad query parameter; the sandbox answers 400."""


@dataclass(frozen=True, slots=True)
class Item:
    start: datetime
    end: datetime | None
    key: str  # tie-breaker within one start time
    render: Callable[[], dict[str, Any]]


def parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError as exc:
        raise PageError(f"{name} must be an ISO 8601 date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise PageError("nextToken is not a token this server issued") from exc
    if not isinstance(data, dict) or not isinstance(data.get("c"), list):
        raise PageError("nextToken is not a token this server issued")
    return data


def page(
    items: Sequence[Item],
    *,
    limit: str | None,
    start: str | None,
    end: str | None,
    next_token: str | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], str | None]:
    """The records of one page and the token of the next (None on the last page)."""
    state = _decode(next_token) if next_token else {}
    size = state.get("l", DEFAULT_LIMIT)
    if limit is not None:
        try:
            size = int(limit)
        except ValueError as exc:
            raise PageError("limit must be an integer") from exc
    if not 1 <= size <= MAX_LIMIT:
        raise PageError(f"limit must be between 1 and {MAX_LIMIT}")
    low_text = state.get("s") if next_token else start
    high_text = state.get("e") if next_token else end
    low = parse_time(low_text, "start") if low_text else None
    # Absent end means "now": pinned in the token, so later pages see the same window.
    high = parse_time(high_text, "end") if high_text else now
    if low is not None and high < low:
        raise PageError("end must not be before start")
    chosen = [
        item
        for item in items
        if item.start < high and (low is None or item.end is None or item.end >= low)
    ]
    chosen.sort(key=lambda item: (item.start, item.key), reverse=True)
    if next_token:
        cursor_start = parse_time(str(state["c"][0]), "nextToken")
        cursor_key = str(state["c"][1])
        chosen = [item for item in chosen if (item.start, item.key) < (cursor_start, cursor_key)]
    current, rest = chosen[:size], chosen[size:]
    token = None
    if rest:
        last = current[-1]
        token = _encode(
            {
                "s": low.isoformat() if low else None,
                "e": high.isoformat(),
                "l": size,
                "c": [last.start.isoformat(), last.key],
            }
        )
    return [item.render() for item in current], token
