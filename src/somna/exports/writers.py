"""The files of one export, written as rows stream in; every file is atomic.

All of it is blocking file I/O, so the service calls these methods in a worker thread. One
:class:`ExportWriter` is used by one export run at a time and is not thread-safe.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from somna.exports.columns import (
    COLLECTIONS,
    PEOPLE_SCHEMA,
    SLEEP,
    SLEEP_COLUMNS,
    Collection,
    arrow_schema,
    arrow_value,
    csv_cell,
    expanded,
    json_default,
    record_columns,
)
from somna.exports.daily import (
    DAILY_COLUMNS,
    DAILY_SCHEMA,
    daily_csv_name,
    daily_parquet_name,
)
from somna.exports.files import (
    AtomicTarget,
    combined_csv_name,
    parquet_name,
    person_json_name,
)

EXPORT_FORMAT = "somna.export.person"
EXPORT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ExportedFile:
    name: str  # relative to the export folder, with "/" separators
    format: str
    rows: int
    bytes: int


def person_document(person: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": person["id"],
        "email": person["email"],
        "timezone": person["timezone"],
        "metadata": person["metadata"],
        "created_at": person["created_at"],
        "updated_at": person["updated_at"],
    }


def json_record(collection: Collection, row: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the person's JSON holds it; a sleep's hypnogram shaped as the API shows it."""
    record = {name: row[name] for name in record_columns(collection)[2:]}
    if collection is SLEEP:
        stages, epoch = record.pop("hypnogram"), record.pop("hypnogram_epoch_seconds")
        record["hypnogram"] = {"epoch_seconds": epoch, "stages": stages} if stages else None
    record["raw"] = row["raw"]
    return record


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_default)


class _PersonJson:
    """One person's JSON document, written section by section (constant memory)."""

    def __init__(self, target: AtomicTarget, header: Mapping[str, Any]) -> None:
        self.target = target
        self.handle: IO[str] = target.temp.open("w", encoding="utf-8")
        self.handle.write("{" + _dumps(dict(header))[1:-1])
        self.rows = 0
        self._first = True

    def begin(self, collection: str) -> None:
        self.handle.write(f',\n"{collection}":[')
        self._first = True

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        for record in records:
            self.handle.write(("\n" if self._first else ",\n") + _dumps(record))
            self._first = False
        self.rows += len(records)

    def end(self) -> None:
        self.handle.write("\n]" if not self._first else "]")

    def close(self, counts: Mapping[str, int]) -> None:
        self.handle.write(',\n"counts":' + _dumps(dict(counts)) + "}\n")
        self.handle.close()


class ExportWriter:
    """Every file of one export under ``root``: person JSON, the combined CSV, Parquet."""

    def __init__(
        self,
        root: Path,
        *,
        stamp: str,
        exported_at: datetime,
        window: tuple[date | None, date | None],
        formats: Sequence[str],
        expanded_columns: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.stamp = stamp
        self.exported_at = exported_at
        self.window = window
        self.formats = frozenset(formats)
        self.csv_header = [*SLEEP_COLUMNS, *expanded_columns]
        self.files: list[ExportedFile] = []
        self._open: list[AtomicTarget] = []
        self._person: _PersonJson | None = None
        self._csv: tuple[AtomicTarget, IO[str], Any] | None = None
        self._csv_rows = 0
        self._parquet: dict[str, tuple[AtomicTarget, pq.ParquetWriter, pa.Schema]] = {}
        self._parquet_rows: dict[str, int] = {}
        self._daily_csv: tuple[AtomicTarget, IO[str], Any] | None = None
        self._daily_csv_rows = 0

    def _target(self, name: str) -> AtomicTarget:
        target = AtomicTarget(self.root, name)
        self._open.append(target)
        return target

    def open(self) -> None:
        if "csv" in self.formats:
            target = self._target(combined_csv_name(self.stamp))
            handle = target.temp.open("w", encoding="utf-8", newline="")
            writer = csv.writer(handle)
            writer.writerow(self.csv_header)
            self._csv = (target, handle, writer)
            daily = self._target(daily_csv_name(self.stamp))
            daily_handle = daily.temp.open("w", encoding="utf-8", newline="")
            daily_writer = csv.writer(daily_handle)
            daily_writer.writerow(DAILY_COLUMNS)
            self._daily_csv = (daily, daily_handle, daily_writer)
        if "parquet" in self.formats:
            schemas = [("people", PEOPLE_SCHEMA)] + [(c.name, arrow_schema(c)) for c in COLLECTIONS]
            for name, schema in schemas:
                target = self._target(parquet_name(name, self.stamp))
                writer = pq.ParquetWriter(str(target.temp), schema)
                self._parquet[name] = (target, writer, schema)
                self._parquet_rows[name] = 0
            target = self._target(daily_parquet_name(self.stamp))
            self._parquet["daily"] = (target, pq.ParquetWriter(str(target.temp), DAILY_SCHEMA),
                                      DAILY_SCHEMA)  # fmt: skip
            self._parquet_rows["daily"] = 0

    # --- per person ---------------------------------------------------------------------

    def start_person(self, person: Mapping[str, Any]) -> None:
        if "parquet" in self.formats:
            self._parquet_batch(
                "people",
                [
                    {
                        "user_id": str(person["id"]),
                        "email": person["email"],
                        "timezone": person["timezone"],
                        "metadata": arrow_value(person["metadata"]),
                        "created_at": person["created_at"],
                        "updated_at": person["updated_at"],
                    }
                ],
            )
        if "json" in self.formats:
            start, end = self.window
            header = {
                "format": EXPORT_FORMAT,
                "version": EXPORT_FORMAT_VERSION,
                "exported_at": self.exported_at,
                "user": person_document(person),
                "window": {"start": start, "end": end},
            }
            self._person = _PersonJson(
                self._target(person_json_name(person["email"], self.stamp)), header
            )

    def begin_collection(self, collection: Collection) -> None:
        if self._person is not None:
            self._person.begin(collection.name)

    def write_records(
        self, collection: Collection, person: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        if self._person is not None:
            self._person.write([json_record(collection, row) for row in rows])
        if self._csv is not None and collection is SLEEP:
            self._csv_rows_for(person, rows)
        if collection.name in self._parquet:
            columns = record_columns(collection)[2:]
            self._parquet_batch(
                collection.name,
                [
                    {
                        "user_id": str(person["id"]),
                        "user_email": person["email"],
                        **{name: arrow_value(row[name]) for name in columns},
                        "raw": arrow_value(row["raw"]),
                    }
                    for row in rows
                ],
            )

    def end_collection(self) -> None:
        if self._person is not None:
            self._person.end()

    def write_daily(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """The person's daily summary rows (exports/daily.py) into the daily CSV and Parquet."""
        if self._daily_csv is not None:
            writer = self._daily_csv[2]
            for row in rows:
                writer.writerow([csv_cell(row.get(name)) for name in DAILY_COLUMNS])
            self._daily_csv_rows += len(rows)
        if "daily" in self._parquet and rows:
            self._parquet_batch("daily", [dict(row) for row in rows])

    def finish_person(self, counts: Mapping[str, int]) -> None:
        if self._person is None:
            return
        person, self._person = self._person, None
        person.close(counts)
        self._commit(person.target, "json", person.rows)

    # --- internals ----------------------------------------------------------------------

    def _csv_rows_for(self, person: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> None:
        assert self._csv is not None
        _, _, writer = self._csv
        for row in rows:
            values = {"user_id": person["id"], "user_email": person["email"], **row}
            values.update(expanded(row["raw"] or {}))
            writer.writerow([csv_cell(values.get(name)) for name in self.csv_header])
        self._csv_rows += len(rows)

    def _parquet_batch(self, name: str, rows: list[dict[str, Any]]) -> None:
        _, writer, schema = self._parquet[name]
        writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
        self._parquet_rows[name] += len(rows)

    def _commit(self, target: AtomicTarget, file_format: str, rows: int) -> None:
        size = target.commit()
        self._open.remove(target)
        self.files.append(ExportedFile(target.name, file_format, rows, size))

    def close(self) -> list[ExportedFile]:
        """Finish and rename every shared file into place; returns every file written."""
        if self._csv is not None:
            target, handle, _ = self._csv
            handle.close()
            self._csv = None
            self._commit(target, "csv", self._csv_rows)
        if self._daily_csv is not None:
            target, handle, _ = self._daily_csv
            handle.close()
            self._daily_csv = None
            self._commit(target, "csv", self._daily_csv_rows)
        for name, (target, writer, _) in list(self._parquet.items()):
            writer.close()
            del self._parquet[name]
            self._commit(target, "parquet", self._parquet_rows[name])
        return sorted(self.files, key=lambda item: item.name)

    def abort(self) -> None:
        """After a failure: close what is open and remove every temporary file."""
        if self._person is not None:
            self._person.handle.close()
            self._person = None
        if self._csv is not None:
            self._csv[1].close()
            self._csv = None
        if self._daily_csv is not None:
            self._daily_csv[1].close()
            self._daily_csv = None
        for _, writer, _ in self._parquet.values():
            # A half-written Parquet file is thrown away anyway; closing only frees the handle.
            with contextlib.suppress(Exception):
                writer.close()
        self._parquet.clear()
        for target in self._open:
            target.discard()
        self._open.clear()
