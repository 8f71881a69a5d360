"""Organisation and cohort statistics: distributions over many people from a constant number
of grouped statements, whatever their number (docs/analytics.md, "Cohort and organisation
statistics")."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.analytics import cohort_measures
from somna.analytics.cohort_repository import CohortQueries
from somna.analytics.exceptions import CohortNotFound
from somna.analytics.person_context import organization_settings
from somna.analytics.repository import AnalyticsRepository
from somna.analytics.schemas import (
    CohortResponse,
    CohortRow,
    Period,
)
from somna.auth.principal import Principal
from somna.calculations.circadian import format_hhmm
from somna.calculations.cohort_measures import PersonMeasures
from somna.errors import NotFound
from somna.models import Organization


async def organization_statistics(
    session: AsyncSession,
    principal: Principal,
    organization_id: uuid.UUID,
    days: int,
    now: datetime,
    sources: tuple[str, ...] | None = None,
) -> CohortResponse:
    """Distributions over everyone in the organisation: a constant number of statements
    whatever its size."""
    repository = AnalyticsRepository(session)
    organization = None
    if principal.can_access_organization(organization_id):
        organization = await repository.organization(organization_id)
    if organization is None:
        raise NotFound("No such organisation.", extra={"organization_id": str(organization_id)})
    first, last, zone_name = organization_window(organization, days, now)
    people = await repository.people_of_organization(organization_id)
    sums = await CohortQueries(session).night_sums(
        first, last, organization_id=organization_id, by_weekday=True, providers=sources
    )
    scope = cohort_measures.Scope(organization_id=organization_id, providers=sources)
    extra = await cohort_measures.read_rows(session, last, scope)
    return _cohort_response(
        organization, first, last, zone_name, days, people, sums, extra, sources, not_found=[]
    )


async def cohort_analysis(
    session: AsyncSession,
    principal: Principal,
    user_ids: list[uuid.UUID],
    days: int,
    now: datetime,
    sources: tuple[str, ...] | None = None,
) -> CohortResponse:
    """The same statistics for chosen people of the caller's organisation; ids that are not
    (or not in this organisation) are listed under ``not_found`` and contribute nothing."""
    repository = AnalyticsRepository(session)
    organization = await repository.organization(principal.organization_id)
    if organization is None:
        raise NotFound("No such organisation.")
    wanted = list(dict.fromkeys(user_ids))
    people = await repository.people_by_ids(organization.id, wanted)
    known = {row.id for row in people}
    missing = [person_id for person_id in wanted if person_id not in known]
    if not people:
        raise CohortNotFound(
            "None of these users exists in this organisation.",
            extra={"not_found": [str(p) for p in missing]},
        )
    order = {person_id: i for i, person_id in enumerate(wanted)}
    people = sorted(people, key=lambda row: order[row.id])
    first, last, zone_name = organization_window(organization, days, now)
    sums = await CohortQueries(session).night_sums(
        first, last, person_ids=list(known), by_weekday=True, providers=sources
    )
    extra = await cohort_measures.read_rows(
        session, last, cohort_measures.Scope(person_ids=list(known), providers=sources)
    )
    return _cohort_response(
        organization, first, last, zone_name, days, people, sums, extra, sources,
        not_found=missing,
    )  # fmt: skip


def organization_window(
    organization: Organization, days: int, now: datetime
) -> tuple[date, date, str]:
    """The last ``days`` dates in the organisation's default zone."""
    settings = organization.settings if isinstance(organization.settings, dict) else {}
    zone = calc.parse_zone(str(settings.get("timezone") or ""))
    last = calc.local_today(now, zone)
    return last - timedelta(days=days - 1), last, str(zone) if zone is not None else "UTC"


def _cohort_response(
    organization: Organization,
    first: date,
    last: date,
    zone_name: str,
    days: int,
    people: Sequence[Row[Any]],
    sums: Sequence[Row[Any]],
    extra: tuple[Sequence[Row[Any]], Sequence[Row[Any]]],
    sources: tuple[str, ...] | None,
    *,
    not_found: list[uuid.UUID],
) -> CohortResponse:
    setting = organization_settings(organization).get("source_priority")

    def priority_of(person: Row[Any]) -> calc.SourcePriority:
        return calc.source_priority(
            query=sources, person=person.source_priority, organization=setting
        )

    with collector_paused():
        allowed, daily = list(sums), list(extra[0])
        if sources is not None:
            # Every named provider's main sleeps were read: one provider per person counts.
            chosen = cohort_measures.first_named_provider(sums, sources)
            allowed = cohort_measures.keep_first_provider(allowed, chosen)
            daily = cohort_measures.keep_first_provider(daily, chosen)
        response = build_cohort_response(
            organization.id, first, last, zone_name, days, people, allowed, not_found=not_found
        )
        measures = cohort_measures.measures_by_person(
            last=last,
            people=people,
            weekday_sums=allowed,
            daily_rows=daily,
            recovery_rows=extra[1],
            priority_of=priority_of,
        )
        return _with_measures(response, measures, extra[1], sources)


def _with_measures(
    response: CohortResponse,
    measures: dict[str, PersonMeasures],
    recovery_rows: Sequence[Row[Any]],
    sources: tuple[str, ...] | None,
) -> CohortResponse:
    """The response with each row's circadian, debt and readiness figures and their
    distributions over the people with data."""
    for row in response.rows:
        m = measures[str(row.user_id)]
        row.social_jetlag_minutes = m.social_jetlag_minutes
        row.relative_social_jetlag_minutes = m.relative_social_jetlag_minutes
        row.msf_sc = format_hhmm(m.msf_sc_clock_seconds)
        row.sleep_debt_hours = m.sleep_debt_hours
        row.readiness = m.readiness
    spread = cohort_measures.distributions(measures.values())
    response.social_jetlag_minutes = spread.social_jetlag_minutes
    response.msf_sc = spread.msf_sc
    response.sleep_debt_hours = spread.sleep_debt_hours
    response.readiness = spread.readiness
    used = [r.provider for r in recovery_rows if sources is None or r.provider in sources]
    order = tuple(sources or ())
    recovery = calc.named_sources(used, order)
    response.sources = {
        "sleep": calc.named_sources(response.sources_used, order),
        "hrv": recovery if any(r.hrv_n for r in recovery_rows) else None,
        "resting_hr": recovery if any(r.rhr_n for r in recovery_rows) else None,
    }
    return response


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a synchronous burst of allocations.

    Rows for 10,000 people allocate a few hundred thousand short-lived objects with no
    cycles; the collections they trigger walk the whole heap and cost as much again as the
    work (0.65 s against 0.48 s for 10,000 people, measured in process). No ``await`` runs
    inside, so nothing else runs meanwhile; reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_cohort_response(
    organization_id: uuid.UUID,
    first: date,
    last: date,
    zone_name: str,
    days: int,
    people: Sequence[Row[Any]],
    sums: Sequence[Row[Any]],
    *,
    not_found: list[uuid.UUID],
) -> CohortResponse:
    totals: dict[str, _Sums] = {}
    for row in sums:
        totals.setdefault(str(row.person_id), _Sums()).add(row)
    empty = _Sums()
    statistics = calc.cohort_statistics(
        (totals.get(str(p.id), empty).summary(str(p.id)) for p in people), days=days
    )
    emails = {str(p.id): p.email for p in people}
    rows = [
        CohortRow(
            user_id=uuid.UUID(row.person_id),
            email=emails[row.person_id],
            nights=row.nights,
            mean_duration_seconds=row.mean_duration_seconds,
            mean_efficiency_pct=row.mean_efficiency_pct,
            score=row.score,
            regularity=row.regularity,
            regularity_method=row.regularity_method,
            sufficient=row.sufficient,
            reason=row.reason,
            sources_used=sorted(totals.get(row.person_id, empty).providers),
        )
        for row in statistics.rows
    ]
    return CohortResponse(
        organization_id=organization_id,
        period=Period(start_date=first, end_date=last, days=days, timezone=zone_name),
        people=statistics.people,
        people_with_data=statistics.people_with_data,
        total_nights=statistics.total_nights,
        duration_seconds=statistics.duration_seconds,
        efficiency_pct=statistics.efficiency_pct,
        score=statistics.score,
        regularity=statistics.regularity,
        sources_used=sorted({provider for s in totals.values() for provider in s.providers}),
        not_found=not_found,
        rows=rows,
    )


@dataclass(slots=True)
class _Sums:
    """One person's counted nights, summed over providers."""

    nights: int = 0
    tst_n: int = 0
    tst_sum: float = 0.0
    eff_n: int = 0
    eff_sum: float = 0.0
    mid_sum: float = 0.0
    mid_sq: float = 0.0
    providers: set[str] = field(default_factory=set)

    def add(self, row: Row[Any]) -> None:  # a (person, provider[, weekday]) group
        self.nights += row.nights
        self.tst_n += row.tst_n
        self.tst_sum += row.tst_sum or 0.0
        self.eff_n += row.eff_n
        self.eff_sum += row.eff_sum or 0.0
        self.mid_sum += row.mid_sum or 0.0
        self.mid_sq += row.mid_sq or 0.0
        self.providers.add(row.provider)

    def summary(self, person_id: str) -> calc.PersonSummary:
        return calc.PersonSummary(
            person_id=person_id,
            nights=self.nights,
            mean_duration_seconds=self.tst_sum / self.tst_n if self.tst_n else None,
            mean_efficiency_pct=self.eff_sum / self.eff_n if self.eff_n else None,
            midpoint_sd_minutes=calc.midpoint_sd_from_sums(self.nights, self.mid_sum, self.mid_sq),
        )
