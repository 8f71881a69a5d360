"""Reading the audit table back in tests, always after the buffered writer has flushed."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import AuditEvent


async def audit_rows(app: FastAPI, db_session: AsyncSession, **where: Any) -> list[AuditEvent]:
    await app.state.audit_writer.flush()
    return await audit_rows_without_flush(db_session, **where)


async def audit_rows_without_flush(db_session: AsyncSession, **where: Any) -> list[AuditEvent]:
    db_session.expire_all()
    statement = select(AuditEvent).filter_by(**where).order_by(AuditEvent.seq)
    return list((await db_session.scalars(statement)).all())
