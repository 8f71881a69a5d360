"""Re-encrypting stored secrets under the current secret key (``somna admin reencrypt``).

Provider tokens and signing secrets rest encrypted under a key derived from
``SOMNA_SECRET_KEY``; after a rotation the old key stays in ``SOMNA_SECRET_KEY_FALLBACKS`` until
every value has been rewritten. Rows are rewritten in small committed batches, each by
compare-and-set, so the command is safe beside running servers (a value a server rewrote
meanwhile is left to it) and idempotent (a value already under the current key is skipped).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.connections.clients import TOKEN_PURPOSE
from somna.keys.service import SIGNING_PURPOSE
from somna.kit.crypto import DecryptionError, SecretBox
from somna.kit.models import Base
from somna.kit.repository import EncryptedColumn
from somna.models import ApiKey, Connection

log = structlog.get_logger(__name__)

BATCH_SIZE = 200

# Every encrypted column Somna writes, with the purpose its key is derived for.
ENCRYPTED_COLUMNS: tuple[tuple[type[Base], str, str], ...] = (
    (Connection, "access_token_encrypted", TOKEN_PURPOSE),
    (Connection, "refresh_token_encrypted", TOKEN_PURPOSE),
    (ApiKey, "signing_secret_encrypted", SIGNING_PURPOSE),
)


@dataclass
class ColumnReport:
    """What re-encrypting one column did."""

    column: str
    rewritten: int = 0
    current: int = 0
    changed_meanwhile: int = 0
    unreadable_ids: list[str] = field(default_factory=list)

    @property
    def unreadable(self) -> int:
        return len(self.unreadable_ids)

    def as_dict(self) -> dict[str, object]:
        return {
            "column": self.column,
            "rewritten": self.rewritten,
            "current": self.current,
            "changed_meanwhile": self.changed_meanwhile,
            "unreadable": self.unreadable,
            "unreadable_ids": self.unreadable_ids,
        }


async def reencrypt_all(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> list[ColumnReport]:
    """Rewrite every encrypted column under the current key; one report per column."""
    reports = []
    for model, column, purpose in ENCRYPTED_COLUMNS:
        box = settings.secret_box(purpose)
        reports.append(await _reencrypt_column(sessionmaker, box, model, column))
    return reports


async def _reencrypt_column(
    sessionmaker: async_sessionmaker[AsyncSession], box: SecretBox, model: type[Base], name: str
) -> ColumnReport:
    report = ColumnReport(f"{model.__tablename__}.{name}")
    after: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            column = EncryptedColumn(session, model, name)
            rows = await column.batch(after, BATCH_SIZE)
            for row_id, ciphertext in rows:
                await _reencrypt_value(column, box, report, row_id, ciphertext)
        if len(rows) < BATCH_SIZE:
            break
        after = rows[-1][0]
    log.info("secrets.reencrypted", **report.as_dict())
    return report


async def _reencrypt_value(
    column: EncryptedColumn,
    box: SecretBox,
    report: ColumnReport,
    row_id: uuid.UUID,
    ciphertext: str,
) -> None:
    try:
        fresh = box.reencrypt(ciphertext)
    except DecryptionError:
        report.unreadable_ids.append(str(row_id))
        return
    if fresh is None:
        report.current += 1
    elif await column.replace(row_id, ciphertext, fresh):
        report.rewritten += 1
    else:
        report.changed_meanwhile += 1
