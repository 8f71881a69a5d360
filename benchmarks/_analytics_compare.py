"""The organisation statistics before issue 16 next to today's, in the benchmark's own
process against the same database (why: docs/benchmarks.md, "The previous version in the
same run")."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


async def previous_statistics(
    session: Any, organization_id: uuid.UUID, days: int, now: datetime
) -> Any:
    """``organization_statistics`` as it was before issue 16: the organisation, its people's
    ids and e-mails, the grouped sums per (person, provider) without the weekday column, and
    the rows and four distributions (duration, efficiency, score, regularity) built by the
    same ``build_cohort_response`` that the service still calls."""
    from sqlalchemy import select

    from somna.analytics import cohort_service
    from somna.analytics.cohort_repository import CohortQueries
    from somna.analytics.repository import AnalyticsRepository
    from somna.models import Person

    organization = await AnalyticsRepository(session).organization(organization_id)
    assert organization is not None
    first, last, zone_name = cohort_service.organization_window(organization, days, now)
    people = (
        await session.execute(
            select(Person.id, Person.email)
            .where(Person.organization_id == organization_id)
            .order_by(Person.email, Person.id)
        )
    ).all()
    sums = await CohortQueries(session).night_sums(first, last, organization_id=organization_id)
    with cohort_service.collector_paused():
        return cohort_service.build_cohort_response(
            organization_id, first, last, zone_name, days, people, sums, not_found=[]
        )


async def current_statistics(
    session: Any, organization_id: uuid.UUID, days: int, now: datetime
) -> Any:
    """Today's ``organization_statistics``, with the new distributions."""
    from somna.analytics import cohort_service
    from somna.auth.principal import Principal

    principal = Principal("api_key", organization_id, frozenset({"analytics:read"}))
    return await cohort_service.organization_statistics(
        session, principal, organization_id, days, now
    )


@dataclass(frozen=True)
class Comparison:
    previous_seconds: list[float]
    current_seconds: list[float]
    previous_statements: int
    current_statements: int


async def compare_in_process(url: str, organization_id: uuid.UUID, args: Any) -> Comparison:
    """Both versions against the same database, alternating (one warm-up each), each in a
    session of its own as a request has; the answer serialised to JSON as the API does."""
    from sqlalchemy import event

    from somna.db import create_engine, create_sessionmaker

    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    now = datetime.now(UTC)
    seconds: dict[str, list[float]] = {"previous": [], "current": []}
    counts: dict[str, int] = {}
    versions = {"previous": previous_statistics, "current": current_statistics}
    try:
        for round_ in range(args.repeat + 1):
            for name, version in versions.items():
                statements.clear()
                started = time.perf_counter()
                async with sessions() as session, session.begin():
                    response = await version(session, organization_id, args.nights, now)
                    response.model_dump_json()
                elapsed = time.perf_counter() - started
                counts[name] = len(statements)
                if round_:  # the first round warms caches
                    seconds[name].append(elapsed)
    finally:
        await engine.dispose()
    return Comparison(
        seconds["previous"], seconds["current"], counts["previous"], counts["current"]
    )
