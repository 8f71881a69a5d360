"""Cohort and organisation statistics over per-person summaries.

The service fills one ``PersonSummary`` per person from a single grouped query (or with
``summarise_person`` from counted nights); this module scores each row once and takes mean,
median, p10 and p90 of duration, efficiency, score and regularity. One pass to build the rows
and one sort per metric: 10,000 people take milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from somna.calculations.inputs import PersonSummary
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night
from somna.calculations.regularity import Regularity, midpoint_clock_seconds
from somna.calculations.regularity import midpoint_sd_minutes as _midpoint_sd
from somna.calculations.score import score_from_summary
from somna.calculations.stats import (
    Distribution,
    SecondsDistribution,
    distribution,
    mean,
    seconds_distribution,
)
from somna.calculations.sufficiency import for_score


@dataclass(frozen=True, slots=True)
class PersonRow:
    person_id: str
    nights: int
    mean_duration_seconds: float | None
    mean_efficiency_pct: float | None
    score: float | None
    regularity: float | None  # the 0-100 consistency component
    regularity_method: str | None
    sufficient: bool = True  # enough nights for the window (as the personal score)
    reason: str | None = None  # why score and regularity are withheld


@dataclass(frozen=True, slots=True)
class CohortStatistics:
    people: int
    people_with_data: int
    total_nights: int
    duration_seconds: SecondsDistribution
    efficiency_pct: Distribution
    score: Distribution
    regularity: Distribution
    rows: tuple[PersonRow, ...]


def person_row(summary: PersonSummary, days: int | None = None) -> PersonRow:
    """One person's row; over a window of ``days`` the score and regularity are withheld
    below the personal score's minimum of nights."""
    score = score_from_summary(summary)
    enough = for_score(summary.nights, days) if days is not None and summary.nights else None
    if enough is not None and not enough.sufficient:
        return PersonRow(
            person_id=summary.person_id,
            nights=summary.nights,
            mean_duration_seconds=summary.mean_duration_seconds,
            mean_efficiency_pct=summary.mean_efficiency_pct,
            score=None,
            regularity=None,
            regularity_method=None,
            sufficient=False,
            reason=enough.reason,
        )
    return PersonRow(
        person_id=summary.person_id,
        nights=summary.nights,
        mean_duration_seconds=summary.mean_duration_seconds,
        mean_efficiency_pct=summary.mean_efficiency_pct,
        score=score.overall,
        regularity=score.consistency.score,
        regularity_method=score.consistency_method,
        sufficient=summary.nights > 0,
        reason=None,
    )


def cohort_statistics(
    summaries: Iterable[PersonSummary], *, days: int | None = None
) -> CohortStatistics:
    """Distributions across people (each person weighs once, whatever their night count).
    With ``days``, people below the score's minimum of nights have no score or regularity."""
    rows = tuple(person_row(s, days) for s in summaries)
    with_data = [r for r in rows if r.nights > 0]
    return CohortStatistics(
        people=len(rows),
        people_with_data=len(with_data),
        total_nights=sum(r.nights for r in rows),
        duration_seconds=seconds_distribution(r.mean_duration_seconds for r in with_data),
        efficiency_pct=distribution(r.mean_efficiency_pct for r in with_data),
        score=distribution(r.score for r in with_data),
        regularity=distribution(r.regularity for r in with_data),
        rows=rows,
    )


def summarise_person(
    person_id: str, nights: Sequence[Night], regularity: Regularity | None = None
) -> PersonSummary:
    """The same summary computed in Python from counted nights (the per-person endpoints);
    sessions without sleep are left out, as in Asleep's averages."""
    slept = [(n, m) for n in nights if (m := night_metrics(n.record)).slept]
    metrics = [m for _, m in slept]
    sd = _midpoint_sd([midpoint_clock_seconds(n) for n, _ in slept])
    return PersonSummary(
        person_id=person_id,
        nights=len(slept),
        mean_duration_seconds=mean(m.tst_seconds for m in metrics),
        mean_efficiency_pct=mean(m.efficiency_pct for m in metrics),
        midpoint_sd_minutes=sd,
        sri=None if regularity is None else regularity.sri,
    )
