"""SQL of sync runs: queueing, claiming and leasing a run, its counters and its end."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models import Person, SyncRun
from somna.models.sync_run import HOLDING_STATUSES, HOLDING_WHERE, QUEUED_INCREMENTAL_WHERE

PENDING_STATUSES = ("queued", *HOLDING_STATUSES)
# A run keeps its latest errors only: one failing every attempt must not grow without bound.
MAX_ERRORS_KEPT = 50

# The statements of a page commit, built once: executed with new values on every page, they
# skip building and compiling (SQLAlchemy caches them by their structure).
_RUNS = cast(Table, SyncRun.__table__)
_ADD_PAGE = (
    update(_RUNS)
    .where(
        _RUNS.c.id == bindparam("run_id"),
        _RUNS.c.owner == bindparam("run_owner"),
        _RUNS.c.status == "running",
        _RUNS.c.pages == bindparam("pages_before"),
    )
    .values(
        counts=bindparam("new_counts", type_=_RUNS.c.counts.type),
        pages=_RUNS.c.pages + bindparam("more_pages"),
        requests=_RUNS.c.requests + bindparam("more_requests"),
        retries=_RUNS.c.retries + bindparam("more_retries"),
        leased_until=bindparam("lease_end"),
    )
)


class SyncRunRepository(Repository[SyncRun]):
    model = SyncRun

    async def queued_incremental(self, connection_id: uuid.UUID) -> SyncRun | None:
        statement = select(SyncRun).where(
            SyncRun.connection_id == connection_id,
            SyncRun.status == "queued",
            SyncRun.window_start.is_(None),
        )
        return await self.session.scalar(statement.order_by(SyncRun.created_at).limit(1))

    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SyncRun)

    async def insert_queued_incremental(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Queue an incremental run; ``None`` when one is queued already (the unique index
        decides, so two requests at once cannot both insert)."""
        statement = (
            self._insert()
            .values(id=uuid.uuid4(), status="queued", window_start=None, window_end=None, **values)
            .on_conflict_do_nothing(
                index_elements=["connection_id"], index_where=text(QUEUED_INCREMENTAL_WHERE)
            )
            .returning(SyncRun.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def insert_claimed(
        self, values: dict[str, Any], *, owner: str, leased_until: datetime
    ) -> uuid.UUID | None:
        """Add a run already held by ``owner``; ``None`` when another run holds the connection."""
        statement = (
            self._insert()
            .values(
                id=uuid.uuid4(), status="running", owner=owner, leased_until=leased_until, **values
            )
            .on_conflict_do_nothing(
                index_elements=["connection_id"], index_where=text(HOLDING_WHERE)
            )
            .returning(SyncRun.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def holder(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The run that holds the connection (running or waiting for budget), if any."""
        statement = select(SyncRun).where(
            SyncRun.connection_id == connection_id, SyncRun.status.in_(HOLDING_STATUSES)
        )
        return await self.session.scalar(statement)

    async def next_for_connection(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The run to work on: the one holding the connection first, else the oldest queued."""
        statement = (
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES))
            .order_by(case((SyncRun.status == "queued", 1), else_=0), SyncRun.created_at)
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def has_queued(self, connection_id: uuid.UUID) -> bool:
        statement = select(SyncRun.id).where(
            SyncRun.connection_id == connection_id, SyncRun.status == "queued"
        )
        return (await self.session.scalar(statement.limit(1))) is not None

    async def claim(
        self,
        run_id: uuid.UUID,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        attempt: bool = True,
    ) -> bool:
        """Compare-and-set: take a queued run, resume one's own, or adopt a run whose lease
        expired (its executor died). Raises ``IntegrityError`` when another run of the same
        connection holds it. Resuming one's own budget wait is not a new attempt, nor is a claim
        made only to hold the run before executing it (``attempt=False``)."""
        takeable = or_(
            SyncRun.status == "queued",
            and_(
                SyncRun.status.in_(HOLDING_STATUSES),
                or_(
                    SyncRun.owner == owner,
                    SyncRun.leased_until.is_(None),
                    SyncRun.leased_until < now,
                ),
            ),
        )
        resumed = and_(SyncRun.status == "waiting_for_budget", SyncRun.owner == owner)
        counted = case((resumed, SyncRun.attempts), else_=SyncRun.attempts + 1)
        statement = (
            update(SyncRun)
            .where(SyncRun.id == run_id, takeable)
            .values(
                status="running",
                owner=owner,
                leased_until=now + lease,
                next_attempt_at=None,
                started_at=func.coalesce(SyncRun.started_at, now),
                attempts=counted if attempt else SyncRun.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def renew(self, run_id: uuid.UUID, owner: str, leased_until: datetime) -> bool:
        """Extend the lease of a run ``owner`` executes; ``False`` when it is no longer its."""
        statement = (
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.owner == owner, SyncRun.status == "running")
            .values(leased_until=leased_until)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def add_pages(
        self,
        run_id: uuid.UUID,
        owner: str,
        *,
        pages_before: int,
        pages: int,
        counts: dict[str, Any],
        requests: int,
        retries: int,
        leased_until: datetime,
    ) -> bool:
        """Pages on the run's counters, in their transaction, and the lease renewed: provided
        ``owner`` still executes the run and no page was committed since it last looked
        (``pages_before``), so ``counts`` it computed from its own are the row's. A
        compare-and-set: ``False`` and the caller rolls the pages back."""
        result: Any = await self.session.execute(
            _ADD_PAGE,
            {
                "run_id": run_id,
                "run_owner": owner,
                "pages_before": pages_before,
                "more_pages": pages,
                "new_counts": counts,
                "more_requests": requests,
                "more_retries": retries,
                "lease_end": leased_until,
            },
        )
        return bool(result.rowcount)

    async def reload(self, run: SyncRun) -> None:
        """Read ``run`` again (after a statement that changed its row behind the ORM)."""
        await self.session.refresh(run)

    @staticmethod
    def add_to_counters(
        run: SyncRun, *, requests: int, retries: int, error: dict[str, Any] | None
    ) -> None:
        """Requests and retries made, and an error if any (the latest ``MAX_ERRORS_KEPT``
        kept), written with the transaction."""
        run.requests += requests
        run.retries += retries
        if error is not None:
            run.errors = [*run.errors, error][-MAX_ERRORS_KEPT:]

    @staticmethod
    def hold_for_budget(run: SyncRun, resume: datetime, leased_until: datetime) -> None:
        """The run waits for budget until ``resume``, still holding its connection."""
        run.status, run.next_attempt_at = "waiting_for_budget", resume
        run.leased_until = leased_until

    @staticmethod
    def end(
        run: SyncRun, status: str, now: datetime, *, error: dict[str, Any] | None = None
    ) -> None:
        """The run's final status: its lease and any wait dropped, the connection free."""
        run.status, run.finished_at = status, now
        run.leased_until = run.next_attempt_at = None
        if error is not None:
            run.errors = [*run.errors, error][-MAX_ERRORS_KEPT:]

    async def latest_error(self, run_id: uuid.UUID) -> str | None:
        """The text of the run's last error, if it has one."""
        run = await self.get_unscoped(run_id)
        return None if run is None else run.latest_error

    async def cancel_pending(self, connection_id: uuid.UUID, reason: str) -> int:
        now = utc_now()
        statement = (
            update(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES))
            .values(
                status="cancelled",
                finished_at=now,
                leased_until=None,
                next_attempt_at=None,
                errors=[{"at": now.isoformat(), "collection": None, "error": reason}],
            )
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def get_in_organization(
        self, organization_id: uuid.UUID, run_id: uuid.UUID
    ) -> SyncRun | None:
        statement = (
            select(SyncRun)
            .join(Person, Person.id == SyncRun.person_id)
            .where(
                SyncRun.id == run_id,
                SyncRun.organization_id == organization_id,
                Person.delete_after.is_(None),  # hidden while their deletion is scheduled
            )
        )
        return await self.session.scalar(statement)

    async def page(
        self,
        organization_id: uuid.UUID,
        *,
        person_id: uuid.UUID | None,
        provider: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Any], str | None]:
        hidden = select(Person.id).where(
            Person.organization_id == organization_id, Person.delete_after.is_not(None)
        )
        statement = select(SyncRun).where(
            SyncRun.organization_id == organization_id, SyncRun.person_id.not_in(hidden)
        )
        if person_id is not None:
            statement = statement.where(SyncRun.person_id == person_id)
        if provider is not None:
            statement = statement.where(SyncRun.provider == provider)
        if status is not None:
            statement = statement.where(SyncRun.status == status)
        keys = [SyncRun.created_at, SyncRun.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)
