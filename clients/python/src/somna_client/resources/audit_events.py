"""The audit log: every recorded access to personal data and administrative action, newest
first with auto-pagination (``list``), or the whole trail as NDJSON or CSV (``export``).
Needs the ``audit:read`` scope (owners, admins, or a key granted ``audit``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from somna_client._base_client import AsyncAPIClient, SyncAPIClient
from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    api_path,
    model,
    paged,
    query,
    register_routes,
)
from somna_client.models import AuditEventRead

CHUNK_BYTES = 64 * 1024
ExportFormat = Literal["ndjson", "csv"]


def _filters(
    person_id: str | None,
    actor_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    return query(person_id=person_id, actor_id=actor_id, action=action, since=since, until=until)


@paged("GET", "/audit-events")
def _list(
    *,
    person_id: str | None = None,
    actor_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> PageSpec[AuditEventRead]:
    """Audit events, newest first; iterate the page to fetch the following ones."""
    params = {
        **_filters(person_id, actor_id, action, since, until),
        **query(limit=limit, cursor=cursor),
    }
    spec = Spec("GET", api_path("/audit-events"), dict, params=params)
    return PageSpec(spec, model(AuditEventRead))


register_routes("GET", ("/audit-events/export",), "AuditEvents.export")


def _export(
    format: ExportFormat,
    person_id: str | None,
    actor_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Spec[None]:
    params = {**_filters(person_id, actor_id, action, since, until), "format": format}
    return Spec("GET", api_path("/audit-events/export"), lambda _: None, params=params)


class AuditEvents(Resource[C]):
    list = _list


class AuditEventsResource(AuditEvents[SyncAPIClient]):
    def export(
        self,
        dest: str | Path,
        *,
        format: ExportFormat = "ndjson",
        person_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Path:
        """Stream the matching trail, oldest first, to the file ``dest``; returns its path."""
        spec = _export(format, person_id, actor_id, action, since, until)
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._client.stream(spec) as response, target.open("wb") as out:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                out.write(chunk)
        return target


class AsyncAuditEventsResource(AuditEvents[AsyncAPIClient]):
    async def export(
        self,
        dest: str | Path,
        *,
        format: ExportFormat = "ndjson",
        person_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Path:
        """Stream the matching trail, oldest first, to the file ``dest``; returns its path."""
        spec = _export(format, person_id, actor_id, action, since, until)
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self._client.stream(spec) as response:
            with target.open("wb") as out:  # noqa: ASYNC230 - chunk writes, as exports do
                async for chunk in response.aiter_bytes(CHUNK_BYTES):
                    out.write(chunk)
        return target
