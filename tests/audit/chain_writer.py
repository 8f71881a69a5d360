"""A process that appends to one organisation's audit chain, as a server does: buffered reads
flushed by an ``AuditWriter`` and writes chained in their own transaction, alternately.

    python -m tests.audit.chain_writer DATABASE_URL ORGANIZATION_ID NAME ROUNDS GO_FILE

It waits for ``GO_FILE`` to exist, so that several of them start appending together."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

from somna.audit.chain import AuditDraft
from somna.audit.repository import AuditRepository
from somna.audit.writer import AuditWriter
from somna.db import create_engine, create_sessionmaker, write_transaction

READS_PER_ROUND = 3


async def main(url: str, organization_id: uuid.UUID, name: str, rounds: int) -> None:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    writer = AuditWriter(sessionmaker, interval=1.0, batch_size=10**6)

    def draft(label: str) -> AuditDraft:
        return AuditDraft(organization_id, "cli", None, "cli", "person.read", request_id=label)

    try:
        for round_ in range(rounds):
            for read in range(READS_PER_ROUND):
                writer.record(draft(f"{name}-{round_}-read-{read}"))
            await writer.flush()
            async with write_transaction(sessionmaker) as session:
                await AuditRepository(session).append([draft(f"{name}-{round_}-write")])
    finally:
        await engine.dispose()


if __name__ == "__main__":
    url, organization, name, rounds, go = sys.argv[1:6]
    while not Path(go).exists():
        time.sleep(0.01)
    asyncio.run(main(url, uuid.UUID(organization), name, int(rounds)))
