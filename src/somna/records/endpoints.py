"""A person's records: sleep sessions (with hypnograms), recovery, cycles, workouts, body."""

# No `from __future__ import annotations`: the route factories below use local
# dependency aliases, which FastAPI can only see when annotations are evaluated eagerly.

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.db import SessionDep
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.kit.periods import LocalDates, local_dates
from somna.models import Person
from somna.people.dependencies import person_from_me, person_from_path
from somna.records import service
from somna.records.repository import RecordFilter
from somna.records.schemas import (
    BodyMeasurementRead,
    CycleRead,
    RecordRead,
    RecoveryRead,
    SleepSessionDetail,
    SleepSessionRead,
    WorkoutRead,
)

SleepRead = Annotated[Principal, Depends(RequireScopes("sleep:read"))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Period = Annotated[LocalDates, Depends(local_dates)]

# path segment -> (collection, read model, label)
_COLLECTIONS: dict[str, tuple[str, type[RecordRead], str]] = {
    "recovery": ("recovery", RecoveryRead, "recovery readings"),
    "cycles": ("cycles", CycleRead, "physiological cycles"),
    "workouts": ("workouts", WorkoutRead, "workouts"),
    "body-measurements": ("body_measurements", BodyMeasurementRead, "body measurements"),
}

PersonLoader = Callable[..., Coroutine[Any, Any, Person]]


def _filters(period: LocalDates, include_naps: bool = True) -> RecordFilter:
    return RecordFilter(start=period.start, end=period.end, include_naps=include_naps)


def _sleep_routes(router: APIRouter, loader: PersonLoader) -> None:
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.get("/sleep")
    async def list_sleep(
        _principal: SleepRead,
        person: LoadedPerson,
        session: SessionDep,
        period: Period,
        include_naps: bool = True,
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[SleepSessionRead]:
        """Sleep sessions from every provider, newest first (each says its `provider`)."""
        rows, next_cursor = await service.list_records(
            session, "sleep", person.id, _filters(period, include_naps), limit=limit,
            cursor=cursor,
        )  # fmt: skip
        return Page(data=[service.sleep_read(row) for row in rows], next_cursor=next_cursor)

    @router.get("/sleep/{session_id}")
    async def get_sleep(
        session_id: uuid.UUID, _principal: SleepRead, person: LoadedPerson, session: SessionDep
    ) -> SleepSessionDetail:
        """One sleep session with its hypnogram and hypnogram statistics."""
        record = await service.get_record(session, "sleep", person.id, session_id)
        return service.sleep_detail(record)


def _collection_routes(
    router: APIRouter, loader: PersonLoader, segment: str, collection: str,
    read_model: type[RecordRead], label: str,
) -> None:  # fmt: skip
    LoadedPerson = Annotated[Person, Depends(loader)]

    async def list_collection(
        _principal: SleepRead,
        person: LoadedPerson,
        session: SessionDep,
        period: Period,
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        rows, next_cursor = await service.list_records(
            session, collection, person.id, _filters(period), limit=limit, cursor=cursor
        )
        return {
            "data": [read_model.model_validate(row) for row in rows],
            "next_cursor": next_cursor,
        }

    async def get_item(
        record_id: uuid.UUID, _principal: SleepRead, person: LoadedPerson, session: SessionDep
    ) -> Any:
        return read_model.model_validate(
            await service.get_record(session, collection, person.id, record_id)
        )

    router.add_api_route(
        f"/{segment}", list_collection, methods=["GET"], response_model=Page[read_model],  # type: ignore[valid-type]
        summary=f"List {label}", description=f"The person's {label}, newest first.",
        name=f"list_{collection}",
    )  # fmt: skip
    router.add_api_route(
        f"/{segment}/{{record_id}}", get_item, methods=["GET"], response_model=read_model,
        summary=f"Get one of the {label}", description=f"One of the person's {label}.",
        name=f"get_{collection}_item",
    )  # fmt: skip


def _person_record_routes(prefix: str, loader: PersonLoader, tag: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[tag])
    _sleep_routes(router, loader)
    for segment, (collection, read_model, label) in _COLLECTIONS.items():
        _collection_routes(router, loader, segment, collection, read_model, label)
    return router


router = APIRouter()
router.include_router(_person_record_routes("/users/{user_id}", person_from_path, "records"))
router.include_router(_person_record_routes("/me", person_from_me, "me"))
