"""Pure sleep and recovery calculations: values in, values out.

No database, no clock, no network: a service reads the store, builds the input dataclasses
(``inputs``), passes ``today`` / ``as_of`` in, and serialises the frozen dataclasses that come
back. Definitions, mappings, weights and thresholds, with their sources: docs/analytics.md.
"""

from somna.calculations import sufficiency
from somna.calculations.aggregate import (
    AverageStats,
    SessionStat,
    asleep_result,
    average_stats,
)
from somna.calculations.burnout import (
    DISCLAIMER,
    MODEL_VERSION,
    BurnoutInputs,
    BurnoutResult,
    Factor,
    burnout_history,
    burnout_risk,
)
from somna.calculations.circadian import Circadian, circadian
from somna.calculations.cohort import (
    CohortStatistics,
    PersonRow,
    cohort_statistics,
    summarise_person,
)
from somna.calculations.debt import (
    NEED_LOOKBACK_DAYS,
    SleepDebt,
    SleepNeed,
    sleep_debt,
    sleep_need,
)
from somna.calculations.hypnogram import HypnogramStats, hypnogram_statistics
from somna.calculations.inputs import (
    MoodEntry,
    PersonSummary,
    RecoveryReading,
    SleepPeriod,
)
from somna.calculations.insights import (
    Insight,
    InsightContext,
    InsightGenerator,
    RuleBasedInsights,
    insight_context,
)
from somna.calculations.local_time import (
    DEFAULT_WORKDAYS,
    check_period,
    is_free_day,
    last_months,
    local_today,
    parse_iso_week,
    parse_zone,
    wake_date,
)
from somna.calculations.metrics import NightMetrics, night_metrics
from somna.calculations.nights import Night, ResolvedSleep, resolve_sleep
from somna.calculations.regularity import (
    Regularity,
    midpoint_sd_from_sums,
    regularity,
    withhold_regularity,
)
from somna.calculations.reports import (
    MonthlyTrends,
    WeeklyReport,
    monthly_trends,
    weekly_report,
)
from somna.calculations.score import (
    SleepScore,
    score_from_summary,
    sleep_score,
    withhold_score,
)
from somna.calculations.sources import (
    DailyRecovery,
    SourcePriority,
    named_sources,
    pick_recovery,
    source_priority,
)

__all__ = [
    "DEFAULT_WORKDAYS",
    "DISCLAIMER",
    "MODEL_VERSION",
    "NEED_LOOKBACK_DAYS",
    "AverageStats",
    "BurnoutInputs",
    "BurnoutResult",
    "Circadian",
    "CohortStatistics",
    "DailyRecovery",
    "Factor",
    "HypnogramStats",
    "Insight",
    "InsightContext",
    "InsightGenerator",
    "MonthlyTrends",
    "MoodEntry",
    "Night",
    "NightMetrics",
    "PersonRow",
    "PersonSummary",
    "RecoveryReading",
    "Regularity",
    "ResolvedSleep",
    "RuleBasedInsights",
    "SessionStat",
    "SleepDebt",
    "SleepNeed",
    "SleepPeriod",
    "SleepScore",
    "SourcePriority",
    "WeeklyReport",
    "asleep_result",
    "average_stats",
    "burnout_history",
    "burnout_risk",
    "check_period",
    "circadian",
    "cohort_statistics",
    "hypnogram_statistics",
    "insight_context",
    "is_free_day",
    "last_months",
    "local_today",
    "midpoint_sd_from_sums",
    "monthly_trends",
    "named_sources",
    "night_metrics",
    "parse_iso_week",
    "parse_zone",
    "pick_recovery",
    "regularity",
    "resolve_sleep",
    "score_from_summary",
    "sleep_debt",
    "sleep_need",
    "sleep_score",
    "source_priority",
    "sufficiency",
    "summarise_person",
    "wake_date",
    "weekly_report",
    "withhold_regularity",
    "withhold_score",
]
