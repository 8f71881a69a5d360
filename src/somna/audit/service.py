"""The audit log's use cases: reading pages, exporting, recording CLI actions, verifying."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.audit.chain import AuditDraft, row_hash
from somna.audit.exceptions import ReversedPeriod
from somna.audit.repository import AuditFilter, AuditRepository
from somna.audit.schemas import EXPORT_COLUMNS, AuditEventRead
from somna.models import GENESIS_HASH, AuditEvent

ExportFormat = Literal["ndjson", "csv"]


def check_period(where: AuditFilter) -> None:
    if where.since is not None and where.until is not None and where.until <= where.since:
        raise ReversedPeriod("`until` must be later than `since`.", field="until", location="query")


async def list_events(
    session: AsyncSession, where: AuditFilter, *, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    check_period(where)
    return await AuditRepository(session).page(where, limit=limit, cursor=cursor)


async def export_lines(
    sessionmaker: async_sessionmaker[AsyncSession], where: AuditFilter, fmt: ExportFormat
) -> AsyncIterator[str]:
    """The matching rows, oldest first, as NDJSON lines or CSV with a header row.

    It opens its own session: the response streams after the request's session has closed."""
    async with sessionmaker() as session:
        if fmt == "csv":
            yield _csv_line(list(EXPORT_COLUMNS))
        async for row in AuditRepository(session).stream(where):
            document = AuditEventRead.of(row).model_dump(mode="json")
            if fmt == "csv":
                yield _csv_line([document[name] for name in EXPORT_COLUMNS])
            else:
                yield json.dumps(document, separators=(",", ":")) + "\n"


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if value is None else value for value in values])
    return buffer.getvalue()


async def record_cli(
    session: AsyncSession,
    organization_id: uuid.UUID,
    action: str,
    *,
    resource_type: str,
    resource_id: str | None = None,
    person_id: uuid.UUID | None = None,
) -> None:
    """Chain an administrative action of ``somna admin`` in the caller's transaction."""
    draft = AuditDraft(
        organization_id=organization_id,
        actor_type="cli",
        actor_id=None,
        channel="cli",
        action=action,
        route=f"somna admin {action}",
        resource_type=resource_type,
        resource_id=resource_id,
        person_id=person_id,
    )
    await AuditRepository(session).append([draft])


async def record_cli_people(
    session: AsyncSession, action: str, *, resource_type: str, person_ids: Sequence[uuid.UUID]
) -> None:
    """Chain one row per person for a command that reads or writes their data (a sync, an
    export), each in its person's organisation, in the caller's transaction."""
    organizations = await AuditRepository(session).organizations_of_people(person_ids)
    drafts = [
        AuditDraft(
            organization_id=organizations[person_id], actor_type="cli", actor_id=None,
            channel="cli", action=action, route=f"somna admin {action}",
            resource_type=resource_type, person_id=person_id,
        )
        for person_id in dict.fromkeys(person_ids)
        if person_id in organizations
    ]  # fmt: skip
    await AuditRepository(session).append(drafts)


async def person_trail(
    session: AsyncSession, organization_id: uuid.UUID, person_id: uuid.UUID
) -> list[dict[str, Any]]:
    return await AuditRepository(session).for_person(organization_id, person_id)


@dataclass(frozen=True, slots=True)
class ChainReport:
    organization_id: uuid.UUID
    rows: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


async def verify_chain(session: AsyncSession, organization_id: uuid.UUID) -> ChainReport:
    """Walk one organisation's chain: every ``seq`` follows the last, every ``prev_hash`` is
    the last row's hash, every hash matches its row, and the head names the last row."""
    repository = AuditRepository(session)
    problems: list[str] = []
    expected_seq, previous, count = 1, GENESIS_HASH, 0
    async for row in repository.chain(organization_id):
        count += 1
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(f"seq {expected_seq}..{seq - 1} missing (removed rows)")
        if row["prev_hash"] != previous:
            problems.append(f"seq {seq}: prev_hash does not match the row before it")
        if row_hash(dict(row)) != row["hash"]:
            problems.append(f"seq {seq}: hash does not match its contents (edited row)")
        expected_seq, previous = seq + 1, row["hash"]
    head = await repository.head(organization_id)
    if head is None:
        if count:
            problems.append("the chain head is missing")
    elif head.last_seq != expected_seq - 1 or head.last_hash != previous:
        problems.append(
            f"the head ends at seq {head.last_seq} but the rows end at {expected_seq - 1} "
            "(removed or edited last rows)"
        )
    return ChainReport(organization_id, count, problems)


async def chained_organizations(session: AsyncSession) -> list[uuid.UUID]:
    return await AuditRepository(session).organizations()
