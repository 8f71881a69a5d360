"""Pure parts of exports: flattening, column order, file names, cell values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from somna.exports.columns import (
    SEED_COLUMNS,
    SLEEP_COLUMNS,
    csv_cell,
    expanded,
    expanded_header,
    flatten,
)
from somna.exports.exporter import normalise_formats
from somna.exports.files import (
    combined_csv_name,
    parquet_name,
    person_json_name,
    safe_email,
    stamp_of,
)
from somna.kit.crypto import sha256_hex
from tests.exports.support import asleep_result, whoop_sleep


def test_flatten_makes_dotted_paths_and_keeps_lists_whole() -> None:
    payload = {"a": 1, "b": {"c": {"d": 2}, "e": [1, 2]}, "f": {}, "g": None}
    assert flatten(payload) == {"a": 1, "b.c.d": 2, "b.e": [1, 2], "f": {}, "g": None}


def test_every_seed_column_comes_out_of_a_whoop_sleep() -> None:
    columns = expanded(whoop_sleep(0))
    assert set(SEED_COLUMNS) <= set(columns)
    assert columns["score.stage_summary.total_light_sleep_time_milli"] == 14_905_851
    assert columns["score.sleep_needed.need_from_recent_nap_milli"] == -12_312


def test_top_level_fields_named_like_canonical_columns_are_prefixed() -> None:
    columns = expanded(whoop_sleep(0))
    # WHOOP's own id and user_id would hide Somna's record id and person id.
    assert columns["raw.id"] == whoop_sleep(0)["id"]
    assert columns["raw.user_id"] == 10129
    assert "id" not in columns
    assert "user_id" not in columns
    assert columns["cycle_id"] == 90000  # no clash: kept as is
    assert not set(columns) & set(SLEEP_COLUMNS)


def test_header_puts_the_seed_columns_first_then_the_rest_sorted() -> None:
    seen = set(expanded(whoop_sleep(0))) | set(expanded(asleep_result(0)))
    header = expanded_header(seen)
    assert header[: len(SEED_COLUMNS)] == list(SEED_COLUMNS)
    rest = header[len(SEED_COLUMNS) :]
    assert rest == sorted(rest)
    assert "stat.time_in_deep" in rest
    assert "session.sleep_stages" in rest
    assert len(header) == len(set(header))
    # The seed's columns are there even when no WHOOP record is.
    assert expanded_header(set(expanded(asleep_result(0))))[:15] == list(SEED_COLUMNS)


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("wanda.whoop@example.com", "wanda.whoop@example.com"),
        ("a+tag@example.com", "a+tag@example.com"),
        ("o'neil@example.com", "o_neil@example.com-" + sha256_hex("o'neil@example.com")[:8]),
    ],
)
def test_plain_emails_are_their_own_file_name(email: str, expected: str) -> None:
    assert safe_email(email) == expected


@pytest.mark.parametrize(
    "email",
    ["asleep/user@example.com", "..\\evil@x.org", "sp ace@x.org", "x" * 300 + "@a.b", "Ann@x.org"],
)
def test_unsafe_emails_are_cleaned_and_made_unique(email: str) -> None:
    name = safe_email(email)
    assert "/" not in name
    assert "\\" not in name
    assert " " not in name
    assert not name.startswith(".")
    assert len(name) <= 130
    # Another address that cleans to the same text still gets another name.
    assert safe_email(email.replace("@", "_@", 1)) != name


def test_addresses_differing_only_in_case_get_different_names() -> None:
    # Case-insensitive file systems would otherwise write both people to one file.
    assert safe_email("ann@x.org") == "ann@x.org"
    assert safe_email("Ann@x.org").startswith("ann@x.org-")


def test_file_names_follow_the_seed_layout() -> None:
    stamp = stamp_of(datetime(2026, 11, 24, 2, 30, tzinfo=timezone(timedelta(hours=1))))
    assert stamp == "20261124T013000Z"
    assert person_json_name("a@b.co", stamp) == "json/sleep_data_batch_a@b.co_20261124T013000Z.json"
    assert combined_csv_name(stamp) == (
        "combined_csv/combined_sleep_data_expanded_20261124T013000Z.csv"
    )
    assert parquet_name("cycles", stamp) == "parquet/cycles_20261124T013000Z.parquet"


def test_csv_cells() -> None:
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(0.1 + 0.2) == "0.30000000000000004"  # exact, not rounded
    assert csv_cell(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02T03:04:00+00:00"
    assert csv_cell(date(2026, 1, 2)) == "2026-01-02"
    assert csv_cell([0, 1, {"b": 1, "a": 2}]) == '[0,1,{"a":2,"b":1}]'


def test_formats_are_checked_and_ordered() -> None:
    assert normalise_formats(["parquet", " CSV", "json", "csv"]) == ("json", "csv", "parquet")
    with pytest.raises(ValueError, match="unknown format xml"):
        normalise_formats(["json", "xml"])
    with pytest.raises(ValueError, match="at least one"):
        normalise_formats(["", " "])
