"""Organisation and cohort statistics, part two: social jetlag, chronotype, sleep debt and
readiness per person and their distributions, from two more grouped statements (daily sleep
of the last 14 dates, recovery sums of the last 67) and the weekday groups of the first.

Constant in the number of people: every statement groups over all of them at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.analytics.cohort_repository import CohortQueries
from somna.calculations.circadian import format_hhmm
from somna.calculations.cohort_measures import (
    PersonMeasures,
    RecoverySums,
    WeekdaySums,
    minutes_after_noon_of,
    person_measures,
)
from somna.calculations.readiness import NORMAL_DAYS, RECENT_DAYS
from somna.calculations.stats import DAY_SECONDS, Distribution, distribution

RECOVERY_DAYS = RECENT_DAYS + NORMAL_DAYS


@dataclass(frozen=True, slots=True)
class ClockDistribution:
    """A distribution of clock times (``HH:MM``), taken over minutes after noon so that
    01:00 and 23:00 are two hours apart."""

    n: int
    mean: str | None
    median: str | None
    p10: str | None
    p90: str | None


@dataclass(frozen=True, slots=True)
class MeasureDistributions:
    social_jetlag_minutes: Distribution
    msf_sc: ClockDistribution
    sleep_debt_hours: Distribution
    readiness: Distribution


@dataclass(frozen=True, slots=True)
class Scope:
    """Whom the statements ask about: an organisation or chosen people."""

    organization_id: uuid.UUID | None = None
    person_ids: Sequence[uuid.UUID] = ()
    providers: Sequence[str] | None = None  # a query's ``sources``


async def read_rows(
    session: AsyncSession, last: date, scope: Scope
) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]]]:
    """The daily-sleep and recovery statements."""
    queries = CohortQueries(session)
    who: dict[str, Any] = {
        "organization_id": scope.organization_id,
        "person_ids": scope.person_ids,
    }
    daily = await queries.daily_sleep(calc.debt.window(last), providers=scope.providers, **who)
    recovery = await queries.recovery_sums(
        last - timedelta(days=RECOVERY_DAYS - 1), last - timedelta(days=RECENT_DAYS - 1), last,
        **who,
    )  # fmt: skip
    return daily, recovery


def measures_by_person(
    *,
    last: date,
    people: Sequence[Row[Any]],
    weekday_sums: Iterable[Row[Any]],
    daily_rows: Iterable[Row[Any]],
    recovery_rows: Iterable[Row[Any]],
    priority_of: Any,
) -> dict[str, PersonMeasures]:
    """Every person's measures; ``priority_of(person_row)`` gives their ``SourcePriority``.

    The rows are read as plain tuples, once each: over 10,000 people these loops run on
    30,000 rows, and named-attribute access on every row cost more than the arithmetic."""
    priorities = {p.id: priority_of(p) for p in people}
    weekdays = _weekday_sums(weekday_sums, priorities)
    daily = _daily_sleep(daily_rows, priorities, calc.debt.window(last))
    recovery = _recovery_sums(recovery_rows, priorities)
    out: dict[str, PersonMeasures] = {}
    no_readings: tuple[_ByProvider, _ByProvider] = ({}, {})
    for person in people:
        priority = priorities[person.id]
        hrv, resting_hr = recovery.get(person.id, no_readings)
        out[str(person.id)] = person_measures(
            as_of=last,
            by_weekday=weekdays.get(person.id, {}),
            daily_sleep=daily.get(person.id, {}),
            hrv=hrv,
            resting_hr=resting_hr,
            workdays=workdays_of_row(person),
            goal_hours=person.sleep_goal_hours if person.preferences_id is not None else None,
            hrv_order=priority.order("hrv"),
            resting_hr_order=priority.order("resting_hr"),
        )
    return out


_ByProvider = dict[str, tuple[RecoverySums, RecoverySums]]


def _weekday_sums(
    rows: Iterable[Row[Any]], priorities: dict[Any, Any]
) -> dict[Any, dict[int, WeekdaySums]]:
    """Per person, the sums of each ISO weekday, from (person, provider, weekday) groups
    (SQLite) or from one row per (person, provider) with four columns per weekday."""
    out: dict[Any, dict[int, WeekdaySums]] = {}
    pivoted: bool | None = None
    for row in rows:
        if pivoted is None:
            fields = row._fields
            pivoted = "weekday" not in fields
            first = fields.index("nights_1") if pivoted else 0
            weekday_at = 0 if pivoted else fields.index("weekday")
        values = tuple(row)
        person_id, provider = values[0], values[1]
        if not priorities[person_id].allows(provider):
            continue
        by_weekday = out.setdefault(person_id, {})
        if not pivoted:
            sums = by_weekday.setdefault(int(values[weekday_at]), WeekdaySums())
            sums.add(row.nights, row.mid_sum, row.tst_n, row.tst_sum)
            continue
        for k in range(7):
            nights, mid_sum, tst_n, tst_sum = values[first + 4 * k : first + 4 * k + 4]
            if nights:
                by_weekday.setdefault(k + 1, WeekdaySums()).add(nights, mid_sum, tst_n, tst_sum)
    return out


def _daily_sleep(
    rows: Iterable[Row[Any]], priorities: dict[Any, Any], dates: Sequence[date]
) -> dict[Any, dict[date, float]]:
    """Per person, total sleep per date from one row per (person, provider), a column per
    date (providers added up: with a query's ``sources`` one provider per person is left)."""
    out: dict[Any, dict[date, float]] = {}
    for row in rows:
        values = tuple(row)
        person_id, provider = values[0], values[1]
        if not priorities[person_id].allows(provider):
            continue
        found = {
            day: seconds
            for day, seconds in zip(dates, values[2:], strict=True)
            if seconds is not None
        }
        known = out.get(person_id)
        if known is None:
            out[person_id] = found
        else:
            for day, seconds in found.items():
                known[day] = known.get(day, 0.0) + seconds
    return out


def _recovery_sums(
    rows: Iterable[Row[Any]], priorities: dict[Any, Any]
) -> dict[Any, tuple[_ByProvider, _ByProvider]]:
    """Per person, per provider, the (recent, normal) sums of ln HRV and of resting HR."""
    out: dict[Any, tuple[_ByProvider, _ByProvider]] = {}
    for row in rows:
        person_id, provider, recent, hrv_n, hrv_sum, hrv_sq, rhr_n, rhr_sum, rhr_sq = tuple(row)
        if not priorities[person_id].allows(provider):
            continue
        hrv, resting_hr = out.setdefault(person_id, ({}, {}))
        for metric, n, total, squares in (
            (hrv, hrv_n, hrv_sum, hrv_sq),
            (resting_hr, rhr_n, rhr_sum, rhr_sq),
        ):
            windows = metric.get(provider)
            if windows is None:
                windows = metric[provider] = (RecoverySums(), RecoverySums())
            windows[0 if recent else 1].add(n, total, squares)
    return out


def workdays_of_row(person: Row[Any]) -> frozenset[int]:
    extra = person.extra if isinstance(person.extra, dict) else {}
    value = extra.get("workdays")
    if isinstance(value, list) and all(isinstance(d, int) and 1 <= d <= 7 for d in value):
        return frozenset(value)
    return calc.DEFAULT_WORKDAYS


def distributions(measures: Iterable[PersonMeasures]) -> MeasureDistributions:
    values = list(measures)
    return MeasureDistributions(
        social_jetlag_minutes=distribution(m.social_jetlag_minutes for m in values),
        msf_sc=clock_distribution(m.msf_sc_clock_seconds for m in values),
        sleep_debt_hours=distribution(m.sleep_debt_hours for m in values),
        readiness=distribution(m.readiness for m in values),
    )


def clock_distribution(clocks: Iterable[float | None]) -> ClockDistribution:
    d = distribution(None if c is None else minutes_after_noon_of(c) for c in clocks)

    def clock(minutes: float | None) -> str | None:
        return None if minutes is None else format_hhmm(DAY_SECONDS / 2 + minutes * 60)

    return ClockDistribution(d.n, clock(d.mean), clock(d.median), clock(d.p10), clock(d.p90))


def first_named_provider(rows: Iterable[Row[Any]], order: Sequence[str]) -> dict[Any, str]:
    """Per person id, the first provider of ``order`` that has rows: with a query's
    ``sources`` the statements read every named provider's main sleeps, and one night must
    count once."""
    ranks = {provider: i for i, provider in enumerate(order)}
    best: dict[Any, str] = {}
    for row in rows:
        key, provider = row.person_id, row.provider
        if key not in best or ranks.get(provider, len(ranks)) < ranks.get(best[key], len(ranks)):
            best[key] = provider
    return best


def keep_first_provider(rows: Sequence[Row[Any]], chosen: dict[Any, str]) -> list[Row[Any]]:
    return [row for row in rows if chosen.get(row.person_id) == row.provider]
