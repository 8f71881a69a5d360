"""Lists page by page: items across every page, ``.data``, ``.next_cursor``, ``iter_pages``,
``async for``, and DataFrames with one row per session."""

from __future__ import annotations

from datetime import date

import pandas as pd
import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from somna_client import AsyncSomna, Somna, SyncPage
from somna_client.models import SleepSessionRead
from tests.sdk.support import person_with_nights
from tests.support.auth import Org

NIGHTS = 9  # with limit=2: five pages


async def test_iterating_a_list_walks_every_page(
    client: Somna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, NIGHTS)
    page = client.sleep.list(str(person.id), limit=2)
    assert isinstance(page, SyncPage)
    assert len(page.data) == 2
    assert page.next_cursor is not None
    assert all(isinstance(item, SleepSessionRead) for item in page.data)

    nights = list(page)
    assert len(nights) == NIGHTS
    assert len({night.id for night in nights}) == NIGHTS
    assert [night.local_date for night in nights] == sorted(
        (night.local_date for night in nights), reverse=True
    )
    pages = list(page.iter_pages())
    assert [len(item.data) for item in pages] == [2, 2, 2, 2, 1]
    assert pages[-1].next_cursor is None


async def test_the_window_narrows_the_list(
    client: Somna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, NIGHTS)
    window = client.sleep.list(
        str(person.id), start_date=date(2026, 3, 3), end_date="2026-03-05", limit=2
    )
    assert sorted(str(night.local_date) for night in window) == [
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
    ]


async def test_async_for_walks_every_page(
    aclient: AsyncSomna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, NIGHTS)
    seen = [night.id async for night in aclient.sleep.list(str(person.id), limit=2)]
    assert len(set(seen)) == NIGHTS

    first = await aclient.sleep.list(str(person.id), limit=4)
    assert len(first.data) == 4
    assert first.next_cursor
    sizes = [len(page.data) async for page in first.iter_pages()]
    assert sizes == [4, 4, 1]
    assert len([night async for night in first]) == NIGHTS


async def test_dataframes_have_one_typed_row_per_session(
    client: Somna, aclient: AsyncSomna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, NIGHTS)
    frame = client.sleep.list(str(person.id), limit=2).to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == NIGHTS
    assert pd.api.types.is_datetime64_any_dtype(frame["start_at"])
    assert str(frame["start_at"].dt.tz) == "UTC"
    assert pd.api.types.is_integer_dtype(frame["asleep_seconds"])
    assert sorted(frame["asleep_seconds"].tolist()) == [6 * 3600 + i * 60 for i in range(NIGHTS)]

    polars_frame = await aclient.sleep.list(str(person.id), limit=3).to_polars()
    assert isinstance(polars_frame, pl.DataFrame)
    assert polars_frame.height == NIGHTS
    assert polars_frame.schema["asleep_seconds"] == pl.Int64
    assert isinstance(polars_frame.schema["start_at"], pl.Datetime)


async def test_a_person_without_nights_gives_empty_frames_with_the_columns(
    client: Somna, aclient: AsyncSomna, db_session: AsyncSession, org: Org
) -> None:
    """Code that selects columns works whether or not the person has slept yet."""
    person = await person_with_nights(db_session, org, 0)
    frame = client.sleep.list(str(person.id)).to_pandas()
    assert len(frame) == 0
    assert {"local_date", "asleep_seconds", "efficiency_pct"} <= set(frame.columns)
    polars_frame = await aclient.sleep.list(str(person.id)).to_polars()
    assert polars_frame.height == 0
    assert {"local_date", "asleep_seconds"} <= set(polars_frame.columns)
