"""Recording usage events (one, or a batch where each event stands alone) and the publisher's
usage report. Services flush through the repository and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.errors import Conflict, NotFound, Unprocessable
from somna.events.exceptions import (
    AnalyticsForbidden,
    AnalyticsValidationError,
    package_mismatch_detail,
)
from somna.events.repository import Columns, UsageEventRepository
from somna.events.schemas import (
    PATTERN_MESSAGES,
    BatchResult,
    CreatedEvent,
    DuplicateEvent,
    ErrorItem,
    EventAccepted,
    EventIn,
    FailedEvent,
    GroupBy,
    UsageGroup,
    UsageReport,
    iso_z,
    normalise_package_name,
)
from somna.kit.time import utc_now

RECORDED = "Analytics event recorded successfully"
ALREADY_RECORDED = "Analytics event already recorded (duplicate event_id); nothing stored"
PACKAGE_MISMATCH = "package_mismatch"


@dataclass(frozen=True, slots=True)
class Sender:
    """The key an event arrives with: its organisation and the package it is bound to."""

    key_id: uuid.UUID
    organization_id: uuid.UUID
    package_name: str
    events_per_hour: int | None = None  # None: the setting's default

    @property
    def canonical_package(self) -> str:
        return normalise_package_name(self.package_name)


def error_items(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    """Pydantic's errors as the document's ``{"loc", "msg", "type"}`` (never the input)."""
    items = []
    for item in exc.errors(include_url=False, include_input=False):
        message, kind = item["msg"], item["type"]
        if kind == "string_pattern_mismatch":
            pattern = str(item.get("ctx", {}).get("pattern", ""))
            if pattern in PATTERN_MESSAGES:
                message, kind = PATTERN_MESSAGES[pattern], "value_error"
        items.append({"loc": [*prefix, *item["loc"]] or ["body"], "msg": message, "type": kind})
    return items


def validate_event(raw: Any) -> EventIn:
    """One event, or ``AnalyticsValidationError`` (422)."""
    try:
        return EventIn.model_validate(raw)
    except ValidationError as exc:
        raise AnalyticsValidationError(error_items(exc)) from None


# Event fields stored as sent; package_name is stored normalised and event_id as client_event_id.
_STORED_FIELDS = tuple(
    name for name in EventIn.model_fields if name not in {"package_name", "event_id"}
)


def _columns(events: Sequence[EventIn], sender: Sender, received_at: datetime) -> Columns:
    """The events as one list per column, with fresh ids (known before the insert)."""
    count = len(events)
    columns: Columns = {name: [getattr(e, name) for e in events] for name in _STORED_FIELDS}
    columns["client_event_id"] = [event.event_id for event in events]
    columns["id"] = [uuid.uuid4() for _ in range(count)]
    columns["organization_id"] = [sender.organization_id] * count
    columns["api_key_id"] = [sender.key_id] * count
    columns["package_name"] = [sender.canonical_package] * count
    columns["received_at"] = [received_at] * count
    return columns


def _check_package(event: EventIn, sender: Sender) -> None:
    if normalise_package_name(event.package_name) != sender.canonical_package:
        raise AnalyticsForbidden(package_mismatch_detail(event.package_name, sender.package_name))


async def record_event(session: AsyncSession, sender: Sender, event: EventIn) -> EventAccepted:
    """Store one event; a known ``event_id`` answers with the stored event, marked duplicate."""
    _check_package(event, sender)
    repository = UsageEventRepository(session)
    received_at = utc_now()
    columns = _columns([event], sender, received_at)
    row_id = columns["id"][0]
    if row_id in await repository.insert_many(columns):
        return EventAccepted(
            success=True,
            event_id=str(row_id),
            received_at=iso_z(received_at),
            message=RECORDED,
            duplicate=False,
        )
    assert event.event_id is not None  # only a client id can conflict
    existing = await repository.find_by_client_ids(
        sender.organization_id, sender.canonical_package, [event.event_id]
    )
    if event.event_id not in existing:  # the other writer rolled back between the two queries
        raise Conflict("The same event_id is being recorded concurrently; retry.")
    event_id, first_received = existing[event.event_id]
    return EventAccepted(
        success=True,
        event_id=str(event_id),
        received_at=iso_z(first_received),
        message=ALREADY_RECORDED,
        duplicate=True,
    )


def _raw_session_id(raw: Any) -> str | None:
    value = raw.get("session_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _failed(index: int, raw: Any, errors: list[dict[str, Any]]) -> FailedEvent:
    summary = "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in errors
    )
    return FailedEvent(
        index=index,
        session_id=_raw_session_id(raw),
        error=summary,
        errors=[ErrorItem(**item) for item in errors],
    )


def _nothing_accepted(failed: list[FailedEvent]) -> Exception:
    """Nothing stored: answer as the single-event route would (403 when every event named
    another package, else 422 listing every error under ``events.<index>``)."""
    if all(item.errors[0].type == PACKAGE_MISMATCH for item in failed):
        return AnalyticsForbidden(failed[0].errors[0].msg)
    return AnalyticsValidationError(
        [
            {"loc": ["events", item.index, *error.loc], "msg": error.msg, "type": error.type}
            for item in failed
            for error in item.errors
        ]
    )


def validate_batch(items: list[Any]) -> tuple[list[tuple[int, EventIn]], list[FailedEvent]]:
    """Each event on its own: the valid ones with their index, and the failures."""
    accepted: list[tuple[int, EventIn]] = []
    failed: list[FailedEvent] = []
    for index, raw in enumerate(items):
        try:
            accepted.append((index, EventIn.model_validate(raw)))
        except ValidationError as exc:
            failed.append(_failed(index, raw, error_items(exc)))
    return accepted, failed


async def record_batch(
    session: AsyncSession,
    sender: Sender,
    valid: list[tuple[int, EventIn]],
    failed: list[FailedEvent],
) -> BatchResult:
    """Store the valid events of the key's package with one statement, and report every
    index as created, duplicate (its ``event_id`` was seen) or failed."""
    failed = list(failed)
    accepted: list[tuple[int, EventIn]] = []
    for index, event in valid:
        if normalise_package_name(event.package_name) != sender.canonical_package:
            detail = package_mismatch_detail(event.package_name, sender.package_name)
            error = {"loc": ["package_name"], "msg": detail, "type": PACKAGE_MISMATCH}
            failed.append(_failed(index, {"session_id": str(event.session_id)}, [error]))
            continue
        accepted.append((index, event))
    failed.sort(key=lambda item: item.index)
    if not accepted:
        raise _nothing_accepted(failed)

    pending: list[tuple[int, EventIn]] = []
    duplicates: list[DuplicateEvent] = []
    seen: set[str] = set()
    for index, event in accepted:
        if event.event_id is not None:
            if event.event_id in seen:  # a repeat inside this very batch
                duplicates.append(_duplicate(index, event))
                continue
            seen.add(event.event_id)
        pending.append((index, event))
    columns = _columns([event for _, event in pending], sender, utc_now())
    stored = await UsageEventRepository(session).insert_many(columns)

    created: list[CreatedEvent] = []
    for (index, event), row_id in zip(pending, columns["id"], strict=True):
        if row_id in stored:
            # model_construct: these values are already valid, and a batch builds a hundred.
            created.append(
                CreatedEvent.model_construct(
                    index=index,
                    session_id=str(event.session_id),
                    package_name=event.package_name,
                    event_id=str(row_id),
                )
            )
        else:
            duplicates.append(_duplicate(index, event))
    duplicates.sort(key=lambda item: item.index)
    return BatchResult(
        success=True,
        created_count=len(created),
        failed_count=len(failed),
        duplicate_count=len(duplicates),
        created_events=created,
        failed_events=failed or None,
        duplicate_events=duplicates or None,
        message=f"Batch processed: {len(created)} events created",
    )


def _duplicate(index: int, event: EventIn) -> DuplicateEvent:
    return DuplicateEvent(
        index=index,
        session_id=str(event.session_id),
        package_name=event.package_name,
        client_event_id=event.event_id or "",
    )


# --- the publisher's report -----------------------------------------------------------------

MAX_REPORT_DAYS = 400
DEFAULT_REPORT_DAYS = 30


def report_window(
    start: datetime | date | None, end: datetime | date | None
) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC. A date as ``start`` is its midnight; a date as ``end`` includes
    that whole day. Defaults: the last 30 days up to now."""

    def instant(value: datetime | date, *, inclusive_day: bool) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        day = value + timedelta(days=1) if inclusive_day else value
        return datetime.combine(day, time(), tzinfo=UTC)

    end_at = utc_now() if end is None else instant(end, inclusive_day=True)
    if start is None:
        start_at = end_at - timedelta(days=DEFAULT_REPORT_DAYS)
    else:
        start_at = instant(start, inclusive_day=False)
    if start_at >= end_at:
        raise Unprocessable("start must be before end.")
    if end_at - start_at > timedelta(days=MAX_REPORT_DAYS):
        raise Unprocessable(f"The window may span at most {MAX_REPORT_DAYS} days.")
    return start_at, end_at


async def usage_report(
    session: AsyncSession,
    principal: Principal,
    package_name: str,
    window: tuple[datetime, datetime],
    group_by: GroupBy,
) -> UsageReport:
    """Counts of the organisation's own events for a package its keys are bound to (404 for
    any other package, whoever else may hold events for it)."""
    repository = UsageEventRepository(session)
    canonical = normalise_package_name(package_name)
    owned = {normalise_package_name(name) for name in await repository.key_package_names(
        principal.organization_id
    )}  # fmt: skip
    if canonical not in owned:
        raise NotFound("No such package.")
    start, end = window
    total, sessions, rows = await repository.usage(
        principal.organization_id, canonical, start, end, group_by
    )
    groups = [UsageGroup(key=key, events=events, sessions=count) for key, events, count in rows]
    if group_by == "day":
        groups = _every_day(groups, start, end)
    else:
        groups.sort(key=lambda group: (-group.events, group.key is None, group.key or ""))
    return UsageReport(
        package_name=canonical,
        start=start,
        end=end,
        group_by=group_by,
        total_events=total,
        unique_sessions=sessions,
        groups=groups,
    )


def _every_day(groups: list[UsageGroup], start: datetime, end: datetime) -> list[UsageGroup]:
    """One group per UTC day of the window, in order, zero where nothing happened."""
    by_day = {group.key: group for group in groups}
    days: list[UsageGroup] = []
    day = start.date()
    last = (end - timedelta(microseconds=1)).date()
    while day <= last:
        key = day.isoformat()
        days.append(by_day.get(key) or UsageGroup(key=key, events=0, sessions=0))
        day += timedelta(days=1)
    return days
