"""Canonical records: sleep sessions, recovery, cycles, workouts and body measurements.

Every method takes the person's id first; ``"me"`` reads a member's own records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from somna_client._operations import (
    C,
    Operation,
    PagedOperation,
    PageSpec,
    Resource,
    Spec,
    model,
    operation,
    paged,
    person_path,
    query,
    window,
)
from somna_client.models import (
    BodyMeasurementRead,
    CycleRead,
    RecoveryRead,
    SleepSessionDetail,
    SleepSessionRead,
    WorkoutRead,
)

R = TypeVar("R")
Day = date | datetime | str


def _window(
    start_date: Day | None, end_date: Day | None, limit: int | None, cursor: str | None
) -> dict[str, Any]:
    return {**window(start_date, end_date), **query(limit=limit, cursor=cursor)}


@paged("GET", "/users/{user_id}/sleep")
def _list_sleep(
    user_id: str,
    *,
    start_date: Day | None = None,
    end_date: Day | None = None,
    include_naps: bool | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> PageSpec[SleepSessionRead]:
    """A person's sleep sessions in a window of local dates, newest first."""
    params = _window(start_date, end_date, limit, cursor)
    if include_naps is not None:
        params["include_naps"] = include_naps
    spec = Spec("GET", person_path(user_id, "/sleep"), dict, params=params)
    return PageSpec(spec, model(SleepSessionRead))


@operation("GET", "/users/{user_id}/sleep/{session_id}")
def _retrieve_sleep(user_id: str, session_id: str) -> Spec[SleepSessionDetail]:
    """One sleep session with its hypnogram and stage statistics."""
    path = person_path(user_id, "/sleep/{id}", id=session_id)
    return Spec("GET", path, model(SleepSessionDetail))


class Sleep(Resource[C]):
    list = _list_sleep
    retrieve = _retrieve_sleep


class _ListRecords(Protocol[R]):
    def __call__(
        self,
        user_id: str,
        *,
        start_date: Day | None = None,
        end_date: Day | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[R]: ...


def _collection(
    segment: str, item: type[R]
) -> tuple[_ListRecords[R], Callable[[str, str], Spec[R]]]:
    def list_records(
        user_id: str,
        *,
        start_date: Day | None = None,
        end_date: Day | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[R]:
        params = _window(start_date, end_date, limit, cursor)
        spec = Spec("GET", person_path(user_id, f"/{segment}"), dict, params=params)
        return PageSpec(spec, model(item))

    def retrieve_record(user_id: str, record_id: str) -> Spec[R]:
        path = person_path(user_id, f"/{segment}/{{id}}", id=record_id)
        return Spec("GET", path, model(item))

    list_records.__qualname__ = f"{segment}.list"
    retrieve_record.__qualname__ = f"{segment}.retrieve"
    list_records.__doc__ = f"A person's {segment.replace('-', ' ')} in a window, newest first."
    retrieve_record.__doc__ = f"One record of a person's {segment.replace('-', ' ')}."
    return list_records, retrieve_record


def _routes(segment: str) -> tuple[tuple[str], tuple[str]]:
    return (f"/users/{{user_id}}/{segment}",), (f"/users/{{user_id}}/{segment}/{{record_id}}",)


_recovery = _collection("recovery", RecoveryRead)
_cycles = _collection("cycles", CycleRead)
_workouts = _collection("workouts", WorkoutRead)
_body = _collection("body-measurements", BodyMeasurementRead)


class Recovery(Resource[C]):
    list = PagedOperation(_recovery[0], "GET", _routes("recovery")[0])
    retrieve = Operation(_recovery[1], "GET", _routes("recovery")[1])


class Cycles(Resource[C]):
    list = PagedOperation(_cycles[0], "GET", _routes("cycles")[0])
    retrieve = Operation(_cycles[1], "GET", _routes("cycles")[1])


class Workouts(Resource[C]):
    list = PagedOperation(_workouts[0], "GET", _routes("workouts")[0])
    retrieve = Operation(_workouts[1], "GET", _routes("workouts")[1])


class BodyMeasurements(Resource[C]):
    list = PagedOperation(_body[0], "GET", _routes("body-measurements")[0])
    retrieve = Operation(_body[1], "GET", _routes("body-measurements")[1])
