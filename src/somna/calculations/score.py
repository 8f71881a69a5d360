"""The sleep score: 0-100 from efficiency, consistency and duration (weights of the 000 seed).

``overall = 0.4 * efficiency + 0.3 * consistency + 0.3 * duration``, each component 0-100:

* efficiency: mean SE mapped linearly, 100 at >= 85 % (Ohayon et al. 2017) to 0 at <= 65 %;
* consistency: ``Regularity.consistency`` (SRI, else midpoint spread);
* duration: mean nightly TST, 100 inside 7-9 h (AASM/SRS and NSF adults), falling linearly to
  0 at 4 h and at 12 h (docs/analytics.md, "Sleep score").

A component without data is left out and the remaining weights are scaled to sum to 1; the
answer lists the weights it used. No components at all means no score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from somna.calculations.inputs import PersonSummary
from somna.calculations.regularity import (
    MIN_MIDPOINT_NIGHTS,
    Method,
    consistency_score,
)
from somna.kit.numbers import OneDecimal, Score

WEIGHTS = {"efficiency": 0.4, "consistency": 0.3, "duration": 0.3}
EFFICIENCY_GOOD_PCT, EFFICIENCY_BAD_PCT = 85.0, 65.0
DURATION_LOW_H, DURATION_HIGH_H = 7.0, 9.0  # full marks inside this band
DURATION_ZERO_SHORT_H, DURATION_ZERO_LONG_H = 4.0, 12.0


@dataclass(frozen=True, slots=True)
class ScoreComponent:
    name: str
    score: Score | None  # 0-100
    weight: float  # as used (scaled when another component is missing)
    measure: OneDecimal | None  # the input: efficiency %, consistency 0-100, hours asleep
    unit: str


@dataclass(frozen=True, slots=True)
class SleepScore:
    overall: Score | None
    efficiency: ScoreComponent
    consistency: ScoreComponent
    duration: ScoreComponent
    consistency_method: Method | None
    nights: int
    sufficient: bool = True  # enough nights for the window (calculations.sufficiency)
    reason: str | None = None  # why ``overall`` is withheld


def withhold_score(score: SleepScore, reason: str) -> SleepScore:
    """The same score with every figure ``None``: too few nights to show one."""

    def empty(c: ScoreComponent) -> ScoreComponent:
        return replace(c, score=None, weight=0.0)

    return replace(
        score,
        overall=None,
        efficiency=empty(score.efficiency),
        consistency=empty(score.consistency),
        duration=empty(score.duration),
        consistency_method=None,
        sufficient=False,
        reason=reason,
    )


def linear(x: float, good: float, bad: float) -> float:
    """1 at ``good`` or better, 0 at ``bad`` or worse, linear between."""
    return max(0.0, min(1.0, (x - bad) / (good - bad)))


def efficiency_component(efficiency_pct: float) -> float:
    return 100 * linear(efficiency_pct, EFFICIENCY_GOOD_PCT, EFFICIENCY_BAD_PCT)


def duration_component(hours: float) -> float:
    if hours < DURATION_LOW_H:
        return 100 * linear(hours, DURATION_LOW_H, DURATION_ZERO_SHORT_H)
    if hours > DURATION_HIGH_H:
        return 100 * linear(hours, DURATION_HIGH_H, DURATION_ZERO_LONG_H)
    return 100.0


def sleep_score(
    *,
    mean_duration_seconds: float | None,
    mean_efficiency_pct: float | None,
    consistency: float | None,
    consistency_method: Method | None = None,
    nights: int = 0,
) -> SleepScore:
    """Combine the three components (see the module docstring)."""
    hours = None if mean_duration_seconds is None else mean_duration_seconds / 3600
    raw = {
        "efficiency": (
            None if mean_efficiency_pct is None else efficiency_component(mean_efficiency_pct),
            mean_efficiency_pct,
            "percent",
        ),
        "consistency": (consistency, consistency, "0-100"),
        "duration": (None if hours is None else duration_component(hours), hours, "hours"),
    }
    present = sum(WEIGHTS[name] for name, (score, _, _) in raw.items() if score is not None)
    parts = {
        name: ScoreComponent(
            name, score, WEIGHTS[name] / present if score is not None else 0.0, measure, unit
        )
        for name, (score, measure, unit) in raw.items()
    }
    overall = None
    if present:
        overall = sum(c.score * c.weight for c in parts.values() if c.score is not None)
    return SleepScore(
        overall=overall,
        efficiency=parts["efficiency"],
        consistency=parts["consistency"],
        duration=parts["duration"],
        consistency_method=consistency_method if consistency is not None else None,
        nights=nights,
    )


def score_from_summary(summary: PersonSummary) -> SleepScore:
    """The score of one person from the row a grouped query gives (cohort statistics)."""
    spread = summary.midpoint_sd_minutes if summary.nights >= MIN_MIDPOINT_NIGHTS else None
    consistency, method = consistency_score(summary.sri, spread)
    return sleep_score(
        mean_duration_seconds=summary.mean_duration_seconds,
        mean_efficiency_pct=summary.mean_efficiency_pct,
        consistency=consistency,
        consistency_method=method,
        nights=summary.nights,
    )
