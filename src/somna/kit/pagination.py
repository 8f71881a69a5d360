"""Opaque keyset cursors: ``limit`` and ``cursor`` in, ``data`` and ``next_cursor`` out.

A cursor encodes the sort key of the last row served; the next page starts strictly after it,
so pages stay stable while rows are inserted (no offsets that skip or repeat rows).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from somna.errors import SomnaError

ItemT = TypeVar("ItemT")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class InvalidCursor(SomnaError):
    status_code, error_code = 400, "invalid_cursor"


class Page(BaseModel, Generic[ItemT]):
    data: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": value.hex}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        text = value["t"]
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    if isinstance(value, dict) and "u" in value:
        return uuid.UUID(hex=value["u"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    payload = json.dumps([_encode_value(value) for value in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong width")
        return [_decode_value(value) for value in values]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(
            "The cursor is not one this API issued; start again without it.",
            extra={"field": "cursor"},
        ) from exc


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    keys: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = True,
) -> tuple[list[Any], str | None]:
    """One page of ``statement`` ordered by ``keys`` (the last key must be unique, e.g. id)."""
    if cursor is not None:
        after = decode_cursor(cursor, len(keys))
        row_key, cursor_key = tuple_(*keys), tuple_(*after)
        statement = statement.where(row_key < cursor_key if descending else row_key > cursor_key)
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = list((await session.scalars(statement.order_by(*order).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, key.key) for key in keys])
