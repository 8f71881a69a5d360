"""Typed response models of the Somna API, generated from its OpenAPI document.

Do not edit by hand: run ``make sdk-models``. Every model accepts fields it does not know.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from somna_client._model import SomnaModel


class AccountList(SomnaModel):
    data: list[AccountOut]
    next_cursor: str | None = None


class AccountOut(SomnaModel):
    id: str
    email: str
    role: str
    organization_id: str
    person_id: str | None = None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None = None


class AnalyticsHealth(SomnaModel):
    status: str
    service: str | None = None
    timestamp: str


class ApiIndex(SomnaModel):
    name: str
    version: str
    docs_url: str
    redoc_url: str
    openapi_url: str
    health_url: str
    sections: list[Section]


class AttemptRead(SomnaModel):
    at: datetime
    response_code: int | None = None
    latency_ms: int
    error: str | None = None


class AuditEventRead(SomnaModel):
    """One recorded access or administrative action."""

    id: str
    organization_id: str
    seq: int
    occurred_at: datetime
    actor_type: str
    actor_id: str | None = None
    channel: str
    action: str
    route: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    person_id: str | None = None
    client_address: str | None = None
    request_id: str | None = None
    outcome: str
    status_code: int | None = None
    prev_hash: str
    hash: str


class AuthorizationStart(SomnaModel):
    authorization_url: str
    state: str
    expires_at: datetime


class AverageStatsResponse(SomnaModel):
    """Asleep's ``average-stats`` result, computed over every provider."""

    user_id: str
    period: Period
    peculiarities: list[str]
    average_stats: dict[str, Any] | None = None
    never_slept_sessions: list[dict[str, Any]]
    slept_sessions: list[dict[str, Any]]
    sources_used: list[str]
    sources: dict[str, str | None]


class BaselineRead(SomnaModel):
    value: float | None = None
    rolling_mean: float | None = None
    normal_mean: float | None = None
    normal_low: float | None = None
    normal_high: float | None = None
    z: float | None = None
    within_normal_range: bool | None = None
    readings_recent: int
    readings_baseline: int
    warming_up: bool
    reason: str | None = None


class BatchResult(SomnaModel):
    success: bool
    created_count: int
    failed_count: int
    duplicate_count: int
    created_events: list[CreatedEvent]
    failed_events: list[FailedEvent] | None = None
    duplicate_events: list[DuplicateEvent] | None = None
    message: str


class BodyMeasurementRead(SomnaModel):
    id: str
    provider: str
    provider_record_id: str
    connection_id: str
    score_state: str | None = None
    provider_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    measured_at: datetime
    height_meters: float | None = None
    weight_kilograms: float | None = None
    max_heart_rate: int | None = None


class BurnoutPoint(SomnaModel):
    as_of: date
    risk: float | None = None
    level: str


class BurnoutResponse(SomnaModel):
    user_id: str
    timezone: str
    as_of: date
    risk: float | None = None
    level: str
    factors: list[Factor]
    missing: list[str]
    model_version: str
    disclaimer: str
    computed_at: datetime
    history: list[BurnoutPoint]
    sources: dict[str, str | None]


class CircadianResponse(SomnaModel):
    user_id: str
    period: Period
    workdays: list[int]
    midpoint_workdays: str | None = None
    midpoint_free_days: str | None = None
    msf_sc: str | None = None
    social_jetlag_minutes: float | None = None
    relative_social_jetlag_minutes: float | None = None
    sd_week_seconds: int | None = None
    workday_timing: DayKindTimingRead
    free_day_timing: DayKindTimingRead
    reason: str | None = None
    sources: dict[str, str | None]


class ClockDistribution(SomnaModel):
    """A distribution of clock times (``HH:MM``), taken over minutes after noon so that."""

    n: int
    mean: str | None = None
    median: str | None = None
    p10: str | None = None
    p90: str | None = None


class CohortResponse(SomnaModel):
    organization_id: str
    period: Period
    people: int
    people_with_data: int
    total_nights: int
    duration_seconds: SecondsDistribution
    efficiency_pct: Distribution
    score: Distribution
    regularity: Distribution
    social_jetlag_minutes: Distribution | None = None
    msf_sc: ClockDistribution | None = None
    sleep_debt_hours: Distribution | None = None
    readiness: Distribution | None = None
    sources_used: list[str]
    sources: dict[str, str | None] | None = None
    not_found: list[str]
    rows: list[CohortRow]


class CohortRow(SomnaModel):
    user_id: str
    email: str
    nights: int
    mean_duration_seconds: int | None = None
    mean_efficiency_pct: float | None = None
    score: float | None = None
    regularity: float | None = None
    regularity_method: str | None = None
    sufficient: bool
    reason: str | None = None
    social_jetlag_minutes: float | None = None
    relative_social_jetlag_minutes: float | None = None
    msf_sc: str | None = None
    sleep_debt_hours: float | None = None
    readiness: float | None = None
    sources_used: list[str]


class ComponentRead(SomnaModel):
    name: str
    score: float | None = None
    weight: float
    measure: float | None = None


class ConnectionList(SomnaModel):
    data: list[ConnectionRead]


class ConnectionRead(SomnaModel):
    id: str
    user_id: str
    provider: str
    provider_user_id: str | None = None
    status: str
    scopes: list[str]
    connected_at: datetime
    token_expires_at: datetime | None = None
    last_sync_at: datetime | None = None
    next_sync_at: datetime | None = None
    last_error: str | None = None
    last_sync: LastSync | None = None


class CreatedEvent(SomnaModel):
    index: int
    session_id: str
    package_name: str
    event_id: str


class CycleRead(SomnaModel):
    id: str
    provider: str
    provider_record_id: str
    connection_id: str
    score_state: str | None = None
    provider_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    start_at: datetime
    end_at: datetime | None = None
    timezone_offset_minutes: int | None = None
    local_date: date
    strain: float | None = None
    kilojoules: float | None = None
    average_heart_rate: float | None = None
    max_heart_rate: float | None = None


class DayKindTimingRead(SomnaModel):
    nights: int
    onset: str | None = None
    offset: str | None = None
    midpoint: str | None = None
    sleep_duration_seconds: int | None = None


class DayRead(SomnaModel):
    date: date
    sleep_session_id: str | None = None
    sleep_source: str | None = None
    sleep_seconds: int | None = None
    nap_sleep_seconds: int | None = None
    sleep_debt_seconds: int | None = None
    nights_to_repay: int | None = None
    readiness: float | None = None
    readiness_reason: str | None = None
    hrv_rmssd_ms: float | None = None
    hrv_z: float | None = None
    hrv_within_normal_range: bool | None = None
    resting_hr_bpm: float | None = None
    resting_hr_z: float | None = None
    resting_hr_within_normal_range: bool | None = None
    mood: float | None = None
    sources: dict[str, str | None]


class DaysResponse(SomnaModel):
    user_id: str
    period: Period
    need_seconds: int
    need_source: str
    data: list[DayRead]
    sources: dict[str, str | None]


class DeletionScheduled(SomnaModel):
    id: str
    status: str
    delete_after: datetime
    deleted: bool


class DeliveryRead(SomnaModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    webhook_id: str
    status: str
    attempts: list[AttemptRead]
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Disconnected(SomnaModel):
    provider: str
    status: str
    revoked_at_provider: bool
    provider_error: str | None = None
    data_deleted: bool
    records_deleted: int


class Distribution(SomnaModel):
    n: int
    mean: float | None = None
    median: float | None = None
    p10: float | None = None
    p90: float | None = None


class DuplicateEvent(SomnaModel):
    index: int
    session_id: str
    package_name: str
    client_event_id: str


class EndpointCreated(SomnaModel):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    secret_rotated_until: datetime | None = None
    created_at: datetime
    updated_at: datetime
    secret: str


class EndpointRead(SomnaModel):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    secret_rotated_until: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ErrorItem(SomnaModel):
    loc: list[str | int]
    msg: str
    type: str


class EventAccepted(SomnaModel):
    success: bool
    event_id: str
    received_at: str
    message: str
    duplicate: bool


class ExportFileRead(SomnaModel):
    name: str
    format: str
    rows: int
    bytes: int
    url: str


class ExportRead(SomnaModel):
    id: str
    status: str
    formats: list[str]
    user_ids: list[str] | None = None
    start_date: date | None = None
    end_date: date | None = None
    counts: dict[str, int]
    files: list[ExportFileRead]
    download_url: str | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Factor(SomnaModel):
    name: str
    unit: str
    value: float | None = None
    baseline: float | None = None
    points: int | None = None
    contribution: float | None = None
    missing: str | None = None
    detail: dict[str, Any] | None = None


class FailedEvent(SomnaModel):
    index: int
    session_id: str | None = None
    error: str
    errors: list[ErrorItem]


class Health(SomnaModel):
    status: str
    version: str
    mode: str
    database: str
    worker: Worker | None = None


class HypnogramRead(SomnaModel):
    epoch_seconds: int
    stages: str


class HypnogramStats(SomnaModel):
    epoch_seconds: int
    tib_seconds: int
    spt_seconds: int
    tst_seconds: int
    waso_seconds: int | None = None
    se_pct: float
    sme_pct: float | None = None
    sfi_per_hour: float | None = None
    stage_shifts_per_hour: float | None = None
    sol_seconds: int | None = None
    sol_5min_seconds: int | None = None
    stage_seconds: dict[str, int]
    stage_pct_of_tst: dict[str, float | None]
    stage_latency_seconds: dict[str, int | None]
    rem_latency_from_onset_seconds: int | None = None
    wakeup_latency_seconds: int | None = None
    final_wake_offset_seconds: int | None = None
    waso_count: int | None = None
    longest_waso_seconds: int | None = None


class Insight(SomnaModel):
    kind: str
    severity: str
    title: str
    body: str
    evidence: dict[str, Any] | None = None


class InsightItem(SomnaModel):
    kind: str
    severity: str
    title: str
    body: str
    evidence: dict[str, Any]


class InsightsResponse(SomnaModel):
    user_id: str
    timezone: str
    start_date: date | None = None
    end_date: date | None = None
    generator: str
    data_version: str | None = None
    generated_at: datetime
    expires_at: datetime
    cached: bool
    sources_used: list[str]
    sources: dict[str, str | None]
    insights: list[InsightItem]


class KeyCreated(SomnaModel):
    id: str
    name: str
    prefix: str
    last4: str
    permissions: list[str]
    scopes: list[str]
    allowed_ips: list[str] | None = None
    rate_limit_per_minute: int | None = None
    package_name: str | None = None
    events_per_hour: int | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rotated_to_id: str | None = None
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None = None
    key: str
    signing_secret: str


class KeyList(SomnaModel):
    keys: list[KeyOut]


class KeyOut(SomnaModel):
    id: str
    name: str
    prefix: str
    last4: str
    permissions: list[str]
    scopes: list[str]
    allowed_ips: list[str] | None = None
    rate_limit_per_minute: int | None = None
    package_name: str | None = None
    events_per_hour: int | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rotated_to_id: str | None = None
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None = None


class LastSync(SomnaModel):
    id: str
    status: str
    trigger: str
    created_at: datetime
    finished_at: datetime | None = None
    error: str | None = None


class LogoutResponse(SomnaModel):
    revoked: bool


class MonthTrend(SomnaModel):
    month: str
    start_date: date
    end_date: date
    empty: bool
    complete: bool
    summary: PeriodSummary
    score: float | None = None
    midpoint_sd_minutes: float | None = None
    sufficient: bool
    reason: str | None = None


class MonthlyTrendsResponse(SomnaModel):
    user_id: str
    timezone: str
    months: list[MonthTrend]
    sleep_slope_minutes_per_week: float | None = None
    efficiency_slope_pct_per_week: float | None = None
    trend_sufficient: bool
    trend_reason: str | None = None
    sources_used: list[str]
    sources: dict[str, str | None]


class MoodRatingRead(SomnaModel):
    id: str
    user_id: str
    local_date: date
    score: int
    note: str | None = None
    recorded_at: datetime
    created_at: datetime


class OrganizationCreated(SomnaModel):
    id: str
    name: str
    slug: str
    is_operator: bool
    settings: dict[str, Any]
    created_at: datetime
    owner_account_id: str


class OrganizationList(SomnaModel):
    data: list[OrganizationOut]
    next_cursor: str | None = None


class OrganizationOut(SomnaModel):
    id: str
    name: str
    slug: str
    is_operator: bool
    settings: dict[str, Any]
    created_at: datetime


class Period(SomnaModel):
    start_date: date
    end_date: date
    days: int
    timezone: str


class PeriodSummary(SomnaModel):
    nights: int
    mean_sleep_seconds: int | None = None
    mean_bedtime: str | None = None
    mean_wake_time: str | None = None
    mean_efficiency_pct: float | None = None
    mean_latency_seconds: int | None = None
    mean_waso_seconds: int | None = None


class PersonRead(SomnaModel):
    id: str
    organization_id: str
    email: str
    metadata: dict[str, Any]
    timezone: str
    created_at: datetime
    updated_at: datetime


class PreferencesRead(SomnaModel):
    sleep_goal_hours: float | None = None
    timezone: str | None = None
    source_priority: list[str] | None = None
    workdays: list[int] | None = None
    user_id: str
    updated_at: datetime | None = None


class ProfileOut(SomnaModel):
    id: str
    email: str
    role: str
    organization_id: str
    person_id: str | None = None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None = None
    is_operator: bool


class ReadinessDay(SomnaModel):
    date: date
    readiness: float | None = None
    reason: str | None = None
    components: list[ComponentRead]
    hrv: BaselineRead
    resting_hr: BaselineRead


class ReadinessResponse(SomnaModel):
    user_id: str
    period: Period
    need_seconds: int
    days: list[ReadinessDay]
    sources: dict[str, str | None]


class RecoverRead(SomnaModel):
    replayed: int


class RecoveryRead(SomnaModel):
    id: str
    provider: str
    provider_record_id: str
    connection_id: str
    score_state: str | None = None
    provider_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    recorded_at: datetime
    local_date: date
    cycle_record_id: str | None = None
    sleep_record_id: str | None = None
    recovery_score: float | None = None
    hrv_rmssd_ms: float | None = None
    resting_hr_bpm: float | None = None
    spo2_pct: float | None = None
    skin_temp_celsius: float | None = None
    user_calibrating: bool | None = None


class Regularity(SomnaModel):
    consistency: float | None = None
    method: str | None = None
    sri: float | None = None
    sri_day_pairs: int
    midpoint_sd_minutes: float | None = None
    midpoint_circular_sd_minutes: float | None = None
    mean_midpoint_clock_seconds: int | None = None
    social_jetlag_minutes: float | None = None
    relative_social_jetlag_minutes: float | None = None
    composite_phase_deviation_hours: float | None = None
    nights: int
    midpoint_consistency: float | None = None
    reason: str | None = None


class ScoreComponent(SomnaModel):
    name: str
    score: float | None = None
    weight: float
    measure: float | None = None
    unit: str


class SecondsDistribution(SomnaModel):
    """A distribution of durations, written as whole seconds like every ``*_seconds``."""

    n: int
    mean: int | None = None
    median: int | None = None
    p10: int | None = None
    p90: int | None = None


class Section(SomnaModel):
    name: str
    docs_url: str
    routes: list[str]


class SleepScore(SomnaModel):
    overall: float | None = None
    efficiency: ScoreComponent
    consistency: ScoreComponent
    duration: ScoreComponent
    consistency_method: str | None = None
    nights: int
    sufficient: bool | None = None
    reason: str | None = None


class SleepScoreResponse(SomnaModel):
    user_id: str
    period: Period
    period_days: int
    session_count: int
    sufficient: bool
    reason: str | None = None
    mean_duration_seconds: int | None = None
    mean_efficiency_pct: float | None = None
    score: SleepScore
    regularity: Regularity
    sources_used: list[str]
    sources: dict[str, str | None]


class SleepSessionDetail(SomnaModel):
    id: str
    provider: str
    provider_record_id: str
    connection_id: str
    score_state: str | None = None
    provider_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None = None
    local_date: date
    is_nap: bool
    in_bed_seconds: int | None = None
    asleep_seconds: int | None = None
    awake_seconds: int | None = None
    light_seconds: int | None = None
    deep_seconds: int | None = None
    rem_seconds: int | None = None
    latency_seconds: int | None = None
    waso_count: int | None = None
    waso_seconds: int | None = None
    disturbance_count: int | None = None
    cycle_count: int | None = None
    efficiency_pct: float | None = None
    performance_pct: float | None = None
    consistency_pct: float | None = None
    respiratory_rate: float | None = None
    has_hypnogram: bool
    derived_from_hypnogram: list[str] | None = None
    hypnogram: HypnogramRead | None = None
    statistics: HypnogramStats | None = None
    transitions: Transitions | None = None
    raw: dict[str, Any]


class SleepSessionRead(SomnaModel):
    id: str
    provider: str
    provider_record_id: str
    connection_id: str
    score_state: str | None = None
    provider_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None = None
    local_date: date
    is_nap: bool
    in_bed_seconds: int | None = None
    asleep_seconds: int | None = None
    awake_seconds: int | None = None
    light_seconds: int | None = None
    deep_seconds: int | None = None
    rem_seconds: int | None = None
    latency_seconds: int | None = None
    waso_count: int | None = None
    waso_seconds: int | None = None
    disturbance_count: int | None = None
    cycle_count: int | None = None
    efficiency_pct: float | None = None
    performance_pct: float | None = None
    consistency_pct: float | None = None
    respiratory_rate: float | None = None
    has_hypnogram: bool
    derived_from_hypnogram: list[str] | None = None


class StageSummary(SomnaModel):
    light_seconds: int | None = None
    deep_seconds: int | None = None
    rem_seconds: int | None = None
    light_pct: float | None = None
    deep_pct: float | None = None
    rem_pct: float | None = None


class SyncRunBatch(SomnaModel):
    data: list[SyncRunRead]


class SyncRunRead(SomnaModel):
    id: str
    user_id: str
    connection_id: str | None = None
    provider: str
    status: str
    trigger: str
    window_start: datetime | None = None
    window_end: datetime | None = None
    counts: dict[str, Any]
    records: int
    pages: int
    requests: int
    retries: int
    attempts: int
    next_attempt_at: datetime | None = None
    errors: list[Any]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None


class TokenResponse(SomnaModel):
    access_token: str
    refresh_token: str
    token_type: str | None = None
    expires_in: int


class Transitions(SomnaModel):
    stages: list[str]
    counts: list[list[int]]
    probabilities: list[list[Any] | None]


class UsageGroup(SomnaModel):
    key: str | None = None
    events: int
    sessions: int


class UsageReport(SomnaModel):
    package_name: str
    start: datetime
    end: datetime
    group_by: str
    total_events: int
    unique_sessions: int
    groups: list[UsageGroup]


class WebhookReceipt(SomnaModel):
    received: int
    duplicates: int
    queued: int


class WeeklyReportResponse(SomnaModel):
    user_id: str
    timezone: str
    generator: str
    week: str
    start_date: date
    end_date: date
    session_count: int
    nap_count: int
    sufficient: bool
    reason: str | None = None
    summary: PeriodSummary
    stages: StageSummary
    sleep_debt_hours: float | None = None
    score: SleepScore
    regularity: Regularity
    insights: list[Insight]
    sources_used: list[str]
    sources: dict[str, str | None]


class Worker(SomnaModel):
    status: str
    restarts: int


class WorkoutRead(SomnaModel):
    id: str
    provider: str
    provider_record_id: str
    connection_id: str
    score_state: str | None = None
    provider_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None = None
    local_date: date
    sport_name: str | None = None
    strain: float | None = None
    average_heart_rate: float | None = None
    max_heart_rate: float | None = None
    kilojoules: float | None = None
    distance_meters: float | None = None
    altitude_gain_meters: float | None = None
    zone_durations_seconds: dict[str, Any] | None = None
