"""Reads for analytics: a person's records in a date window, the data version, cached burnout
scores and insights, the per-night derived columns and "counted" flags the store keeps, and
the grouped cohort query over them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    Uuid,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics import calculations as calc
from somna.analytics.calculations.local_time import period_zone
from somna.analytics.calculations.regularity import midpoint_clock_seconds, minutes_after_noon
from somna.analytics.calculations.sources import organization_orders
from somna.models import (
    BurnoutScore,
    Insight,
    MoodRating,
    Organization,
    Person,
    Recovery,
    SleepSession,
    UserPreferences,
)

# The columns ``SleepPeriod.from_row`` reads: never the raw payload, which can be large.
_SLEEP_COLUMNS = (
    SleepSession.id,
    SleepSession.provider,
    SleepSession.start_at,
    SleepSession.end_at,
    SleepSession.timezone_offset_minutes,
    SleepSession.is_nap,
    SleepSession.hypnogram,
    SleepSession.hypnogram_epoch_seconds,
    SleepSession.in_bed_seconds,
    SleepSession.asleep_seconds,
    SleepSession.light_seconds,
    SleepSession.deep_seconds,
    SleepSession.rem_seconds,
    SleepSession.latency_seconds,
    SleepSession.waso_seconds,
    SleepSession.waso_count,
    SleepSession.cycle_count,
    SleepSession.efficiency_pct,
)


class AnalyticsRepository:
    """Read-mostly queries of the analytics service; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def preferences(self, person_id: uuid.UUID) -> UserPreferences | None:
        return await self.session.get(UserPreferences, person_id)

    async def sleep_rows(self, person_id: uuid.UUID, first: date, last: date) -> Sequence[Any]:
        """Sleeps (nights and naps) whose stored local date lies in ``first..last``."""
        statement = (
            select(*_SLEEP_COLUMNS)
            .where(
                SleepSession.person_id == person_id,
                SleepSession.local_date >= first,
                SleepSession.local_date <= last,
            )
            .order_by(SleepSession.start_at)
        )
        return (await self.session.execute(statement)).all()

    async def record_dates(self, person_id: uuid.UUID) -> tuple[date | None, date | None]:
        """The first and last local date of the person's sleep and recovery records."""
        sleep = select(func.min(SleepSession.local_date), func.max(SleepSession.local_date)).where(
            SleepSession.person_id == person_id
        )
        recovery = select(func.min(Recovery.local_date), func.max(Recovery.local_date)).where(
            Recovery.person_id == person_id
        )
        firsts: list[date] = []
        lasts: list[date] = []
        for statement in (sleep, recovery):
            low, high = (await self.session.execute(statement)).one()
            firsts += [low] if low is not None else []
            lasts += [high] if high is not None else []
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)

    async def recovery_rows(self, person_id: uuid.UUID, first: date, last: date) -> Sequence[Any]:
        statement = select(
            Recovery.local_date, Recovery.provider, Recovery.hrv_rmssd_ms, Recovery.resting_hr_bpm
        ).where(
            Recovery.person_id == person_id,
            Recovery.local_date >= first,
            Recovery.local_date <= last,
        )
        return (await self.session.execute(statement)).all()

    async def mood_rows(self, person_id: uuid.UUID, first: date, last: date) -> Sequence[Any]:
        statement = select(MoodRating.local_date, MoodRating.score).where(
            MoodRating.person_id == person_id,
            MoodRating.local_date >= first,
            MoodRating.local_date <= last,
        )
        return (await self.session.execute(statement)).all()

    async def data_version(self, person_id: uuid.UUID, *parts: object) -> str:
        """A short hash that changes whenever the person's data or preferences change: counts
        catch deletions, the latest ``updated_at`` catches inserts and re-scored records."""

        def stats(model: Any, stamp: Any) -> list[Any]:
            where = model.person_id == person_id
            return [
                select(func.count()).select_from(model).where(where).scalar_subquery(),
                select(func.max(stamp)).where(where).scalar_subquery(),
            ]

        statement = select(
            *stats(SleepSession, SleepSession.updated_at),
            *stats(Recovery, Recovery.updated_at),
            *stats(MoodRating, MoodRating.created_at),
            *stats(UserPreferences, UserPreferences.updated_at),
        )
        row = (await self.session.execute(statement)).one()
        text = "|".join(str(value) for value in (*row, *parts))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    # Burnout scores ---------------------------------------------------------------------

    async def latest_burnout(self, person_id: uuid.UUID, model_version: str) -> BurnoutScore | None:
        """The stored result of the newest date: the person's current level, as last computed."""
        statement = (
            select(BurnoutScore)
            .where(BurnoutScore.person_id == person_id, BurnoutScore.model_version == model_version)
            .order_by(BurnoutScore.as_of_date.desc())
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def save_burnout(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or refresh one row per (person, date, model version)."""
        if not rows:
            return
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = insert(BurnoutScore).values([{"id": uuid.uuid4(), **row} for row in rows])
        statement = statement.on_conflict_do_update(
            index_elements=["person_id", "as_of_date", "model_version"],
            set_={
                name: statement.excluded[name]
                for name in ("risk_score", "level", "factors", "missing", "computed_at")
            },
        )
        await self.session.execute(statement)

    # Insights ---------------------------------------------------------------------------

    async def cached_insights(
        self, person_id: uuid.UUID, generator: str, data_version: str, now: datetime
    ) -> list[Insight]:
        """The newest batch generated for this data version that has not expired."""
        rows = list(
            await self.session.scalars(
                select(Insight)
                .where(
                    Insight.person_id == person_id,
                    Insight.generator == generator,
                    Insight.data_version == data_version,
                    Insight.expires_at > now,
                )
                .order_by(Insight.generated_at.desc(), Insight.position)
            )
        )
        if not rows:
            return []
        newest = rows[0].generated_at
        return [row for row in rows if row.generated_at == newest]

    async def replace_insights(self, person_id: uuid.UUID, rows: Sequence[Insight]) -> None:
        await self.session.execute(delete(Insight).where(Insight.person_id == person_id))
        self.session.add_all(rows)
        await self.session.flush()

    # Organisations and cohorts ----------------------------------------------------------

    async def organization(self, organization_id: uuid.UUID) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def people_of_organization(self, organization_id: uuid.UUID) -> Sequence[Any]:
        """The organisation's people with their preferences (goal, priority, workdays)."""
        statement = (
            _people_with_preferences()
            .where(Person.organization_id == organization_id, Person.delete_after.is_(None))
            .order_by(Person.email, Person.id)
        )
        return (await self.session.execute(statement)).all()

    async def people_by_ids(
        self, organization_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
    ) -> Sequence[Any]:
        statement = _people_with_preferences().where(
            Person.organization_id == organization_id,
            Person.id.in_(list(person_ids)),
            Person.delete_after.is_(None),
        )
        return (await self.session.execute(statement)).all()


def _people_with_preferences() -> Select[*tuple[Any, ...]]:
    p = UserPreferences
    return select(
        Person.id,
        Person.email,
        p.person_id.label("preferences_id"),
        p.sleep_goal_hours,
        p.source_priority,
        p.extra,
    ).outerjoin(p, p.person_id == Person.id)


# Per-night derived columns and the "counted" flag -----------------------------------------
#
# Statistics over many people read ``night_sleep_seconds``, ``night_efficiency_pct``,
# ``night_midpoint_minutes`` and ``counted`` (docs/analytics.md, "Cohort and organisation
# statistics"). The store writes the first three with every record (``night_columns``) and
# calls ``CountedNights.refresh`` after every write and delete; the people service calls it
# when a person's source priority changes. Both use the pure calculations, so there is one
# definition of a night's sleep, efficiency, midpoint and of which record counts.


def night_columns(period: calc.SleepPeriod) -> dict[str, Any]:
    """The derived values of one record: sleep seconds and efficiency as ``night_metrics``
    counts them, and the sleep midpoint (``midpoint_clock_seconds``) in minutes after local
    noon, on the clock of the record's own UTC offset (UTC without one)."""
    metrics = calc.night_metrics(period)
    night = calc.Night(period, calc.wake_date(period, None), period_zone(period, None))
    return {
        "night_sleep_seconds": metrics.tst_seconds,
        "night_efficiency_pct": metrics.efficiency_pct,
        "night_midpoint_minutes": minutes_after_noon(midpoint_clock_seconds(night)),
    }


def counted_record_ids(periods: Iterable[calc.SleepPeriod], priority: Sequence[str]) -> set[str]:
    """The records that count (one per overlap group, naps among naps) for this priority."""
    resolved = calc.resolve_sleep(periods, priority=priority)
    return {night.record.record_id for night in (*resolved.nights, *resolved.naps)}


def source_priority(
    preferences: UserPreferences | None, organization_default: Any = None
) -> tuple[str, ...]:
    """The person's ordered provider list, else the organisation's default (its settings'
    ``source_priority``), as the analytics service reads it."""
    value = preferences.source_priority if preferences is not None else None
    if not value:
        value = organization_default
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


# What the overlap resolution needs of a record (the hypnogram only to tell whether it has one).
_RESOLUTION_COLUMNS = (
    SleepSession.id,
    SleepSession.provider,
    SleepSession.start_at,
    SleepSession.end_at,
    SleepSession.is_nap,
    SleepSession.asleep_seconds,
    SleepSession.hypnogram,
    SleepSession.hypnogram_epoch_seconds,
    SleepSession.counted,
)
_UPDATE_CHUNK = 500


_LOCK_PERSON = (
    select(Person.id).where(Person.id == bindparam("person")).with_for_update(key_share=True)
)
_SLEEP_ORDER = (
    select(UserPreferences.source_priority, Organization.settings)
    .select_from(Person)
    .join(Organization, Organization.id == Person.organization_id)
    .outerjoin(UserPreferences, UserPreferences.person_id == Person.id)
    .where(Person.id == bindparam("person"))
)


class CountedNights:
    """Keeps ``sleep_sessions.counted`` true for exactly the records ``resolve_sleep`` keeps."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def refresh(
        self,
        person_id: uuid.UUID,
        spans: Sequence[tuple[datetime, datetime]] | None = None,
        *,
        locked: bool = False,
    ) -> int:
        """Recompute the flags of the person's records overlapping ``spans`` (every record
        when ``None``); returns how many flags changed. Call it after writing or deleting
        records (with their old and new spans) or changing the source priority; ``locked``
        when this transaction took :meth:`lock` already."""
        if not locked:
            await self.lock(person_id)
        rows = await self._rows(person_id, spans)
        # The order ranks providers against each other only: among one provider's records it
        # changes nothing, so it is read only when the records come from several (a round
        # trip saved on most pages a sync writes).
        several = len({row.provider for row in rows}) > 1
        priority = await self._sleep_order(person_id) if several else ()
        periods = [
            calc.SleepPeriod(
                record_id=str(row.id),
                provider=row.provider,
                start_at=row.start_at,
                end_at=row.end_at,
                is_nap=row.is_nap,
                asleep_seconds=row.asleep_seconds,
                hypnogram=row.hypnogram,
                hypnogram_epoch_seconds=row.hypnogram_epoch_seconds,
            )
            for row in rows
        ]
        keep = counted_record_ids(periods, priority)
        changes: dict[bool, list[uuid.UUID]] = {True: [], False: []}
        for row in rows:
            counted = str(row.id) in keep
            if counted != row.counted:
                changes[counted].append(row.id)
        for value, ids in changes.items():
            for start in range(0, len(ids), _UPDATE_CHUNK):
                await self.session.execute(
                    update(SleepSession)
                    .where(SleepSession.id.in_(ids[start : start + _UPDATE_CHUNK]))
                    .values(counted=value)
                    .execution_options(synchronize_session=False)
                )
        return len(changes[True]) + len(changes[False])

    async def _sleep_order(self, person_id: uuid.UUID) -> tuple[str, ...]:
        """The person's own order (``source_priority``), else the organisation's sleep order
        (``settings.source_priority``): one statement, as it is read on every page."""
        row = (await self.session.execute(_SLEEP_ORDER, {"person": person_id})).first()
        if row is None:
            return ()
        own, settings = row
        if isinstance(own, list) and own:
            return tuple(str(item) for item in own)
        setting = settings.get("source_priority") if isinstance(settings, dict) else None
        return organization_orders(setting).get("sleep", ())

    async def lock(self, person_id: uuid.UUID) -> None:
        """Hold the person's row until commit (PostgreSQL; SQLite has one writer anyway).

        Writers of one person's sleep records take it before writing, so two providers'
        records of one night stored at once are resolved one after the other: the second
        refresh then sees the first record, and neither counts beside the other. ``NO KEY``
        so that rows referring to the person can still be inserted meanwhile."""
        if self.session.get_bind().dialect.name == "sqlite":
            return  # the statement would be a plain read there: save the round trip
        await self.session.execute(_LOCK_PERSON, {"person": person_id})

    async def _rows(
        self, person_id: uuid.UUID, spans: Sequence[tuple[datetime, datetime]] | None
    ) -> Sequence[Any]:
        """The person's records in a window wide enough that every overlap group touching
        ``spans`` is whole: widened until no fetched record reaches past its edges (a record
        outside the window then cannot overlap one inside)."""
        statement = select(*_RESOLUTION_COLUMNS).where(SleepSession.person_id == person_id)
        if spans is None:
            return (await self.session.execute(statement)).all()
        if not spans:
            return []
        low = min(start for start, _ in spans)
        high = max(end for _, end in spans)
        while True:
            rows = (
                await self.session.execute(
                    statement.where(SleepSession.end_at >= low, SleepSession.start_at <= high)
                )
            ).all()
            first = min((row.start_at for row in rows), default=low)
            last = max((row.end_at for row in rows), default=high)
            if first >= low and last <= high:
                return rows
            low, high = min(low, first), max(high, last)


# The grouped cohort query ----------------------------------------------------------------
#
# One statement for any number of people: the counted, slept main sleeps of the period,
# summed per (person, provider) over the derived columns. Sums, not means, come back, so
# means and the midpoint SD (``midpoint_sd_from_sums``) follow in Python. The partial index
# ``ix_sleep_sessions_counted_nights`` holds every column read, so on PostgreSQL this is an
# index-only scan and a hash aggregate.


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
