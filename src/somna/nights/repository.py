"""Per-night derived columns and the "counted" flag the store keeps on ``sleep_sessions``.

Statistics over many people read ``night_sleep_seconds``, ``night_efficiency_pct``,
``night_midpoint_minutes`` and ``counted`` (docs/analytics.md, "Cohort and organisation
statistics"). The store writes the first three with every record (``night_columns``) and
calls ``CountedNights.refresh`` after every write and delete; the people, organisation,
connection and privacy services call it when what counts may change. Both use the pure
calculations, so there is one definition of a night's sleep, efficiency, midpoint and of
which record counts. This is write-path code: it lives with the records it keeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.calculations.local_time import period_zone
from somna.calculations.regularity import midpoint_clock_seconds, minutes_after_noon
from somna.calculations.sources import organization_orders
from somna.models import (
    Organization,
    Person,
    SleepSession,
    UserPreferences,
)


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
