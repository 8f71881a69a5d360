"""What an export holds: the collections, their canonical columns, and the expanded columns.

Canonical columns come from the tables, so a column added to a model reaches every format
without touching this file. The combined CSV adds the provider payload flattened into dotted
columns (``score.stage_summary.total_light_sleep_time_milli``), as the batch fetcher of
``001_ca77632fd1922a06.txt`` does: the seed's columns first, in its order, then every other
flattened path of every provider, sorted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import JSON, Column, Table

from somna.kit.models import UtcDateTime
from somna.models import BodyMeasurement, Cycle, Person, Recovery, SleepSession, Workout

FORMATS = ("json", "csv", "parquet")


@dataclass(frozen=True)
class Collection:
    """One kind of record: its name in files and counts, its table, and its time order."""

    name: str
    table: Table
    order_by: str
    # Local dates bound the export window where the table has them; instants otherwise.
    date_column: str | None


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


SLEEP = Collection("sleep_sessions", _table(SleepSession), "start_at", "local_date")
COLLECTIONS: tuple[Collection, ...] = (
    SLEEP,
    Collection("recovery", _table(Recovery), "recorded_at", "local_date"),
    Collection("cycles", _table(Cycle), "start_at", "local_date"),
    Collection("workouts", _table(Workout), "start_at", "local_date"),
    Collection("body_measurements", _table(BodyMeasurement), "measured_at", None),
)
PEOPLE_TABLE = _table(Person)

# The nested fields 001_ca77632fd1922a06.txt expands into columns, in its order.
SEED_COLUMNS: tuple[str, ...] = (
    "score.stage_summary.total_in_bed_time_milli",
    "score.stage_summary.total_awake_time_milli",
    "score.stage_summary.total_light_sleep_time_milli",
    "score.stage_summary.total_slow_wave_sleep_time_milli",
    "score.stage_summary.total_rem_sleep_time_milli",
    "score.stage_summary.sleep_cycle_count",
    "score.stage_summary.disturbance_count",
    "score.sleep_needed.baseline_milli",
    "score.sleep_needed.need_from_sleep_debt_milli",
    "score.sleep_needed.need_from_recent_strain_milli",
    "score.sleep_needed.need_from_recent_nap_milli",
    "score.respiratory_rate",
    "score.sleep_performance_percentage",
    "score.sleep_consistency_percentage",
    "score.sleep_efficiency_percentage",
)

_HEAD = ("id", "provider", "provider_record_id", "score_state", "provider_updated_at")
_TAIL = ("created_at", "updated_at")
# person_id is written as user_id (the API's name); the connection is an internal link.
_LEFT_OUT = frozenset({"raw", "person_id", "connection_id", *_HEAD, *_TAIL})
PERSON_COLUMNS = ("user_id", "user_email")


def record_columns(collection: Collection) -> tuple[str, ...]:
    """The canonical columns of a collection's rows in CSV and Parquet."""
    own = [column.name for column in collection.table.columns if column.name not in _LEFT_OUT]
    return (*PERSON_COLUMNS, *_HEAD, *own, *_TAIL)


SLEEP_COLUMNS = record_columns(SLEEP)
_SLEEP_COLUMN_SET = frozenset(SLEEP_COLUMNS)


# --- the expanded columns -------------------------------------------------------------------


def flatten(payload: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys; lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def expanded(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as expanded columns. A top-level field named like a canonical column
    (WHOOP's ``id`` or ``user_id``) is written as ``raw.<name>`` so neither hides the other."""
    return {
        (f"raw.{name}" if name in _SLEEP_COLUMN_SET else name): value
        for name, value in flatten(payload).items()
    }


def expanded_header(seen: Iterable[str]) -> list[str]:
    """The seed's columns (always, in its order), then every other path seen, sorted."""
    fixed = set(SEED_COLUMNS)
    return [*SEED_COLUMNS, *sorted(set(seen) - fixed)]


# --- values per format ----------------------------------------------------------------------


def json_default(value: Any) -> Any:
    """For ``json.dumps``: the types the database hands back that JSON lacks."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=json_default)


def csv_cell(value: Any) -> str:
    """One CSV cell: empty for null, ISO times, JSON for lists and objects, exact floats."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # round-trips exactly, unlike str() on older Pythons or %g
    if isinstance(value, dict | list):
        return compact_json(value)
    return str(value)


def _arrow_type(column: Column[Any]) -> pa.DataType:
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(kind, JSON):
        return pa.string()  # JSON text; payload shapes differ between providers
    python_type = kind.python_type
    if python_type is bool:
        return pa.bool_()
    if python_type is int:
        return pa.int64()
    if python_type is float:
        return pa.float64()
    if python_type is date:
        return pa.date32()
    return pa.string()  # str and uuid.UUID


def arrow_schema(collection: Collection) -> pa.Schema:
    """Typed columns of a collection's Parquet file, plus its payload as JSON text."""
    fields = [pa.field("user_id", pa.string(), nullable=False), pa.field("user_email", pa.string())]
    for name in record_columns(collection)[len(PERSON_COLUMNS) :]:
        column = collection.table.c[name]
        fields.append(pa.field(name, _arrow_type(column), nullable=bool(column.nullable)))
    fields.append(pa.field("raw", pa.string()))
    return pa.schema(fields)


PEOPLE_SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("email", pa.string(), nullable=False),
        pa.field("timezone", pa.string()),
        pa.field("metadata", pa.string()),
        pa.field("created_at", pa.timestamp("us", tz="UTC")),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


def arrow_value(value: Any) -> Any:
    """A database value as pyarrow takes it for the types of :func:`_arrow_type`."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return compact_json(value)
    return value
