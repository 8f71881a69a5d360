"""The grouped cohort statements: per-(person, provider) sums of counted nights, daily sleep
and recovery readings for many people at once.

One statement for any number of people: the counted, slept main sleeps of the period,
summed per (person, provider) over the derived columns. Sums, not means, come back, so
means and the midpoint SD (``midpoint_sd_from_sums``) follow in Python. The partial index
``ix_sleep_sessions_counted_nights`` holds every column read, so on PostgreSQL this is an
index-only scan and a hash aggregate.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import (
    Person,
    Recovery,
    SleepSession,
)


def cohort_statement(
    *,
    by_organization: bool,
    dialect: str = "postgresql",
    by_weekday: bool = False,
    by_provider_list: bool = False,
) -> Select[*tuple[Any, ...]]:
    """The grouped query, filtered by organisation or by a list of ids. ``by_weekday`` adds
    the nights, midpoint and sleep of each ISO weekday of the local date (Monday 1; circadian
    timing and the sleep need). On PostgreSQL as filtered aggregates of the one (person,
    provider) row (``nights_k``, ``mid_sum_k``, ``tst_n_k``, ``tst_sum_k``): seven times fewer
    rows to read in Python. On SQLite, where the weekday is a date-string parse that 28
    filtered aggregates would repeat per night (12 s over 10,000 people), by grouping on the
    weekday instead: up to seven rows per (person, provider), which the service adds up.
    ``by_provider_list`` reads the named providers' main sleeps whether they count or not
    (a query's ``?sources=``; the service keeps one provider per person)."""
    s = SleepSession
    midpoint = s.night_midpoint_minutes
    pivot = by_weekday and dialect == "postgresql"
    weekday = [_weekday(s.local_date, dialect).label("weekday")] if by_weekday else []
    weekday_columns: list[Any] = []
    if pivot:
        for k in range(1, 8):
            on = weekday[0].element == k
            weekday_columns += [
                func.count().filter(on).label(f"nights_{k}"),
                func.sum(midpoint).filter(on).label(f"mid_sum_{k}"),
                func.count(s.night_sleep_seconds).filter(on).label(f"tst_n_{k}"),
                func.sum(s.night_sleep_seconds).filter(on).label(f"tst_sum_{k}"),
            ]
        weekday = []
    statement = select(
        s.person_id,
        s.provider,
        *weekday,
        func.count().label("nights"),
        func.count(s.night_sleep_seconds).label("tst_n"),
        func.sum(s.night_sleep_seconds).label("tst_sum"),
        func.count(s.night_efficiency_pct).label("eff_n"),
        func.sum(s.night_efficiency_pct).label("eff_sum"),
        func.sum(midpoint).label("mid_sum"),
        func.sum(midpoint * midpoint).label("mid_sq"),
        *weekday_columns,
    ).where(
        # The partial index's predicate, term for term.
        _counted_or_named(by_provider_list),
        not_(s.is_nap),
        s.local_date >= bindparam("first", type_=Date()),
        s.local_date <= bindparam("last", type_=Date()),
        # Sessions without sleep are left out, as ``summarise_person`` does.
        or_(s.night_sleep_seconds.is_(None), s.night_sleep_seconds != 0),
    )
    statement = _for_people(statement, s.person_id, by_organization)
    return statement.group_by(s.person_id, s.provider, *weekday)


def _counted_or_named(by_provider_list: bool) -> Any:
    if by_provider_list:
        return SleepSession.provider.in_(bindparam("providers", expanding=True))
    return SleepSession.counted


def _weekday(column: Any, dialect: str) -> Any:
    """The ISO weekday (Monday 1) of a date column. On PostgreSQL by integer arithmetic on
    the day number (cheaper than ``extract(isodow)``); SQLite's ``%w`` gives Sunday as 0."""
    if dialect == "postgresql":
        a_monday = literal_column("DATE '1900-01-01'", Date())
        return cast(column - a_monday, Integer) % 7 + 1
    day = cast(func.strftime("%w", column), Integer)
    return case((day == 0, 7), else_=day)


def _for_people(
    statement: Select[*tuple[Any, ...]], person_id: Any, by_organization: bool
) -> Select[*tuple[Any, ...]]:
    if by_organization:
        return statement.join(Person, Person.id == person_id).where(
            Person.organization_id == bindparam("organization_id", type_=Uuid()),
            Person.delete_after.is_(None),  # hidden while their deletion is scheduled
        )
    return statement.where(person_id.in_(bindparam("person_ids", expanding=True, type_=Uuid())))


def daily_sleep_statement(
    *, by_organization: bool, days: int, by_provider_list: bool = False
) -> Select[*tuple[Any, ...]]:
    """Total sleep of the counted main sleeps per (person, provider) on each of ``days``
    local dates, bound as ``day_0`` (the oldest) to ``day_{days-1}``: one row per (person,
    provider) with a column ``sleep_k`` per date (null without a night that date), over the
    same partial index. Pivoted in SQL so the rows do not grow with the window."""
    s = SleepSession
    columns = [
        func.sum(
            case((s.local_date == bindparam(f"day_{k}", type_=Date()), s.night_sleep_seconds))
        ).label(f"sleep_{k}")
        for k in range(days)
    ]
    statement = select(s.person_id, s.provider, *columns).where(
        _counted_or_named(by_provider_list),
        not_(s.is_nap),
        s.local_date >= bindparam("day_0", type_=Date()),
        s.local_date <= bindparam(f"day_{days - 1}", type_=Date()),
        s.night_sleep_seconds.is_not(None),
    )
    statement = _for_people(statement, s.person_id, by_organization)
    return statement.group_by(s.person_id, s.provider)


def recovery_statement(*, by_organization: bool) -> Select[*tuple[Any, ...]]:
    """Per (person, provider, window) count, sum and sum of squares of ln rMSSD and of
    resting HR, the recent window being the dates from ``recent_first`` on."""
    r = Recovery
    ln_hrv = case((r.hrv_rmssd_ms > 0, func.ln(r.hrv_rmssd_ms)), else_=None)
    recent = case((r.local_date >= bindparam("recent_first", type_=Date()), 1), else_=0)
    statement = select(
        r.person_id,
        r.provider,
        recent.label("recent"),
        func.count(ln_hrv).label("hrv_n"),
        func.sum(ln_hrv).label("hrv_sum"),
        func.sum(ln_hrv * ln_hrv).label("hrv_sq"),
        func.count(r.resting_hr_bpm).label("rhr_n"),
        func.sum(r.resting_hr_bpm).label("rhr_sum"),
        func.sum(r.resting_hr_bpm * r.resting_hr_bpm).label("rhr_sq"),
    ).where(
        r.local_date >= bindparam("first", type_=Date()),
        r.local_date <= bindparam("last", type_=Date()),
    )
    statement = _for_people(statement, r.person_id, by_organization)
    return statement.group_by(r.person_id, r.provider, recent)


class CohortQueries:
    """Per-(person, provider) sums of counted nights for many people, in one statement."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def night_sums(
        self,
        first: date,
        last: date,
        *,
        organization_id: uuid.UUID | None = None,
        person_ids: Sequence[uuid.UUID] = (),
        by_weekday: bool = False,
        providers: Sequence[str] | None = None,
    ) -> Sequence[Any]:
        """The grouped sums (``cohort_statement``); the first of the cohort statements, so
        it also turns JIT off for the transaction on PostgreSQL."""
        dialect = self.session.get_bind().dialect.name
        params = self._params(first, last, organization_id, person_ids, providers)
        if params is None:
            return []
        if dialect == "postgresql":
            # For this transaction only: the plan's cost estimate over a million rows turns
            # JIT compilation on, which costs more than the whole index-only scan.
            await self.session.execute(text("SET LOCAL jit = off"))
        statement = cohort_statement(
            by_organization=organization_id is not None,
            dialect=dialect,
            by_weekday=by_weekday,
            by_provider_list=providers is not None,
        )
        return await self._rows(statement, params)

    async def daily_sleep(
        self,
        dates: Sequence[date],
        *,
        organization_id: uuid.UUID | None = None,
        person_ids: Sequence[uuid.UUID] = (),
        providers: Sequence[str] | None = None,
    ) -> Sequence[Any]:
        """``daily_sleep_statement`` over ``dates`` (consecutive, oldest first)."""
        params = self._params(dates[0], dates[-1], organization_id, person_ids, providers)
        if params is None:
            return []
        statement = daily_sleep_statement(
            by_organization=organization_id is not None,
            days=len(dates),
            by_provider_list=providers is not None,
        )
        del params["first"], params["last"]  # the dates are bound one by one
        days = {f"day_{k}": day for k, day in enumerate(dates)}
        return await self._rows(statement, params | days)

    async def recovery_sums(
        self,
        first: date,
        recent_first: date,
        last: date,
        *,
        organization_id: uuid.UUID | None = None,
        person_ids: Sequence[uuid.UUID] = (),
    ) -> Sequence[Any]:
        params = self._params(first, last, organization_id, person_ids)
        if params is None:
            return []
        statement = recovery_statement(by_organization=organization_id is not None)
        return await self._rows(statement, params | {"recent_first": recent_first})

    async def _rows(
        self, statement: Select[*tuple[Any, ...]], params: dict[str, Any]
    ) -> Sequence[Any]:
        """Run on the session's connection (Core): the ORM's per-row loading costs about
        0.1 s for the 30,000 rows the organisation statistics read, and no ORM entity
        comes back anyway."""
        connection = await self.session.connection()
        return (await connection.execute(statement, params)).all()

    @staticmethod
    def _params(
        first: date,
        last: date,
        organization_id: uuid.UUID | None,
        person_ids: Sequence[uuid.UUID],
        providers: Sequence[str] | None = None,
    ) -> dict[str, Any] | None:
        """The bound parameters, or ``None`` when there is nobody to ask about."""
        params: dict[str, Any] = {"first": first, "last": last}
        if providers is not None:
            params["providers"] = list(providers)
        if organization_id is not None:
            return params | {"organization_id": organization_id}
        if not person_ids:
            return None
        return params | {"person_ids": list(person_ids)}
