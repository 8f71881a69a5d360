"""Reads for a person's analytics: records in a date window, the data version, stored
burnout scores and cached insights, and the organisation's people."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Select,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

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
