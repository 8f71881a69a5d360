"""Asleep session results → canonical sleep sessions. Pure: values in, values out.

``sleep_stages`` is one code per 30-second epoch from the session start. The 4-stage plan codes
0 Wake, 1 Light, 2 Deep, 3 REM (and -1 no data, seen in Asleep's own tooling). Under the 2-stage
plan 1 only means "asleep": the canonical stages cannot say "asleep, stage unknown" without
analytics counting it as not sleep, so such sessions keep their totals and raw stages but get no
canonical hypnogram. Asleep has no nap flag: a session is a nap when it is shorter than three
hours and its midpoint falls between 09:00 and 20:00 local time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any, Literal

from somna.providers.payload import Fields, local_date, offset_minutes_of
from somna.records.canonical import ScoreState, SleepSessionRecord, Stage

PROVIDER = "asleep"
EPOCH_SECONDS = 30
StagePlan = Literal["4-stage", "2-stage"]
FOUR_STAGE = {0: Stage.WAKE, 1: Stage.LIGHT, 2: Stage.DEEP, 3: Stage.REM, -1: Stage.UNKNOWN}
NAP_MAX_SECONDS = 3 * 3600
NAP_WINDOW = (time(9, 0), time(20, 0))
# Peculiarities under which Asleep has not (or not yet) produced a stat.
PENDING = frozenset({"IN_PROGRESS", "NO_REALTIME_POLLING"})


def hypnogram(stages: Sequence[Any]) -> str:
    """4-stage codes → canonical string; anything unexpected becomes ``U`` (unknown)."""
    return "".join(
        FOUR_STAGE.get(code, Stage.UNKNOWN).value
        if isinstance(code, int) and not isinstance(code, bool)
        else Stage.UNKNOWN.value
        for code in stages
    )


def _score_state(state: str, stat: Fields | None, peculiarities: set[str]) -> ScoreState:
    if state != "COMPLETE" or peculiarities & PENDING:
        return ScoreState.PENDING_SCORE
    return ScoreState.SCORED if stat is not None else ScoreState.UNSCORABLE


def _is_nap(start: datetime, end: datetime, in_bed: int) -> bool:
    if in_bed >= NAP_MAX_SECONDS:
        return False
    middle = (start + (end - start) / 2).timetz().replace(tzinfo=None)
    return NAP_WINDOW[0] <= middle < NAP_WINDOW[1]


def map_session(
    result: Mapping[str, Any], *, stage_plan: StagePlan = "4-stage"
) -> SleepSessionRecord:
    """The ``result`` of ``GET /data/v3/sessions/{id}`` → :class:`SleepSessionRecord`."""
    f = Fields(PROVIDER, result, "result")
    session = f.child("session")
    stat = f.opt_child("stat")
    peculiarities = {str(p) for p in (f.data.get("peculiarities") or []) if isinstance(p, str)}
    stages = session.data.get("sleep_stages")
    codes: list[Any] = stages if isinstance(stages, list) else []
    start = session.moment("start_time")
    end = session.opt_moment("end_time") or session.opt_moment("unexpected_end_time")
    if end is None:  # still open: as far as the analysed epochs reach
        end = start + timedelta(seconds=len(codes) * EPOCH_SECONDS)
    end = max(end, start)
    offset = offset_minutes_of(start)
    state = _score_state(session.text("state"), stat, peculiarities)
    values: dict[str, Any] = {}
    if stat is not None and state is ScoreState.SCORED:
        in_bed = stat.opt_integer("time_in_bed")
        asleep = stat.opt_integer("time_in_sleep")
        efficiency = stat.opt_number("sleep_efficiency")
        values = {
            "in_bed_seconds": in_bed,
            "asleep_seconds": asleep,
            "awake_seconds": None if in_bed is None or asleep is None else max(0, in_bed - asleep),
            "latency_seconds": stat.opt_integer("sleep_latency"),
            "waso_count": stat.opt_integer("waso_count"),
            "waso_seconds": stat.opt_integer("time_in_wake"),
            "cycle_count": stat.opt_integer("sleep_cycle_count"),
            "efficiency_pct": None
            if efficiency is None
            else min(100.0, max(0.0, efficiency * 100)),
        }
        if stage_plan == "4-stage":
            values |= {
                "light_seconds": stat.opt_integer("time_in_light"),
                "deep_seconds": stat.opt_integer("time_in_deep"),
                "rem_seconds": stat.opt_integer("time_in_rem"),
            }
    if codes and stage_plan == "4-stage":
        values["hypnogram"] = hypnogram(codes)
        values["hypnogram_epoch_seconds"] = EPOCH_SECONDS
    in_bed_total = values.get("in_bed_seconds") or int((end - start).total_seconds())
    return SleepSessionRecord(
        provider=PROVIDER,
        provider_record_id=session.text("id"),
        score_state=state,
        provider_updated_at=None,
        raw=dict(result),
        start_at=start,
        end_at=end,
        timezone_offset_minutes=offset,
        local_date=local_date(end, offset),
        is_nap=_is_nap(start, end, in_bed_total),
        source_label=PROVIDER,
        **values,
    )
