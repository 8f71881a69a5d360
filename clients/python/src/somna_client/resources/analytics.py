"""Per-person analytics: statistics, score, reports, trends, burnout and insights."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from somna_client._operations import (
    C,
    Resource,
    Spec,
    api_path,
    model,
    operation,
    person_path,
    query,
    window,
)
from somna_client.models import (
    AverageStatsResponse,
    BurnoutResponse,
    CircadianResponse,
    DaysResponse,
    InsightsResponse,
    MonthlyTrendsResponse,
    ReadinessResponse,
    SleepScoreResponse,
    UsageReport,
    WeeklyReportResponse,
)


@operation("GET", "/users/{user_id}/stats/average")
def _average_stats(
    user_id: str,
    *,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    include_naps: bool | None = None,
) -> Spec[AverageStatsResponse]:
    """Averages over a window of local dates (Asleep's average-stats, every provider)."""
    params = query(start_date=start_date, end_date=end_date, include_naps=include_naps)
    return Spec(
        "GET", person_path(user_id, "/stats/average"), model(AverageStatsResponse), params=params
    )


@operation("GET", "/users/{user_id}/sleep-score")
def _sleep_score(user_id: str, *, days: int | None = None) -> Spec[SleepScoreResponse]:
    """The 0-100 sleep score over the last ``days`` nights, with its components."""
    return Spec(
        "GET",
        person_path(user_id, "/sleep-score"),
        model(SleepScoreResponse),
        params=query(days=days),
    )


@operation("GET", "/users/{user_id}/reports/weekly")
def _weekly_report(user_id: str, *, week: date | str | None = None) -> Spec[WeeklyReportResponse]:
    """The report for the week containing ``week`` (default: the last full week)."""
    return Spec(
        "GET",
        person_path(user_id, "/reports/weekly"),
        model(WeeklyReportResponse),
        params=query(week=week),
    )


@operation("GET", "/users/{user_id}/trends/monthly")
def _monthly_trends(user_id: str, *, months: int | None = None) -> Spec[MonthlyTrendsResponse]:
    """Month-by-month trends over the last ``months`` months."""
    return Spec(
        "GET",
        person_path(user_id, "/trends/monthly"),
        model(MonthlyTrendsResponse),
        params=query(months=months),
    )


@operation("GET", "/users/{user_id}/burnout")
def _burnout(user_id: str, *, history_days: int | None = None) -> Spec[BurnoutResponse]:
    """The burnout-risk estimate and its history."""
    return Spec(
        "GET",
        person_path(user_id, "/burnout"),
        model(BurnoutResponse),
        params=query(history_days=history_days),
    )


@operation("GET", "/users/{user_id}/insights")
def _insights(user_id: str, *, days: int | None = None) -> Spec[InsightsResponse]:
    """Plain-language insights from the last ``days`` nights."""
    return Spec(
        "GET", person_path(user_id, "/insights"), model(InsightsResponse), params=query(days=days)
    )


def _sources(sources: Sequence[str] | None) -> str | None:
    """A provider order that also filters (``["asleep", "whoop"]``), as ``?sources=`` takes it."""
    return ",".join(sources) if sources is not None else None


@operation("GET", "/users/{user_id}/circadian")
def _circadian(
    user_id: str,
    *,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    sources: Sequence[str] | None = None,
) -> Spec[CircadianResponse]:
    """Sleep timing on workdays and free days, social jetlag and chronotype (MSFsc)."""
    params = {**window(start_date, end_date), **query(sources=_sources(sources))}
    return Spec("GET", person_path(user_id, "/circadian"), model(CircadianResponse), params=params)


@operation("GET", "/users/{user_id}/readiness")
def _readiness(
    user_id: str,
    *,
    date: date | str | None = None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    sources: Sequence[str] | None = None,
) -> Spec[ReadinessResponse]:
    """Readiness 0-100 with its HRV and resting-HR baselines: one ``date`` or a series."""
    params = {
        **window(start_date, end_date),
        **query(date=date, sources=_sources(sources)),
    }
    return Spec("GET", person_path(user_id, "/readiness"), model(ReadinessResponse), params=params)


@operation("GET", "/users/{user_id}/days")
def _days(
    user_id: str,
    *,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    sources: Sequence[str] | None = None,
) -> Spec[DaysResponse]:
    """One row per local date of the window: counted night, naps, debt, readiness, mood."""
    params = {**window(start_date, end_date), **query(sources=_sources(sources))}
    return Spec("GET", person_path(user_id, "/days"), model(DaysResponse), params=params)


@operation("GET", "/analytics/packages/{package_name}/usage")
def _package_usage(
    package_name: str,
    *,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    group_by: str | None = None,
) -> Spec[UsageReport]:
    """Usage analytics of one package (events sent through ``client.events``); ``start`` and
    ``end`` are instants (or whole dates), as the usage-analytics routes take them."""
    path = api_path("/analytics/packages/{name}/usage", name=package_name)
    return Spec(
        "GET",
        path,
        model(UsageReport),
        params=query(start=start, end=end, group_by=group_by),
    )


class Analytics(Resource[C]):
    average_stats = _average_stats
    sleep_score = _sleep_score
    weekly_report = _weekly_report
    monthly_trends = _monthly_trends
    burnout = _burnout
    insights = _insights
    circadian = _circadian
    readiness = _readiness
    days = _days
    package_usage = _package_usage
