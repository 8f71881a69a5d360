"""A person's data archive (``POST /users/{id}/data-export``): one JSON file per section.

**Extension point.** A section is a name and an ``async def reader(session, person)`` that
returns JSON-ready rows (``dict`` per row; dates, times and UUIDs are turned into strings).
Register one with :func:`archive_section` in a module listed in :data:`SECTION_MODULES`; every
archive built afterwards holds ``archive/<name>.json``. The audit log adds its trail this way::

    # somna/audit/archive.py, and "somna.audit.archive" appended to SECTION_MODULES
    @archive_section("audit_events")
    async def audit_events(session: AsyncSession, person: Person) -> list[dict[str, Any]]:
        return await AuditRepository(session).rows_for_person(person.id)

Sections are written in name order, so two archives of the same data are byte-identical but for
the time stamps they contain. A reader must return the person's rows only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.exports.files import AtomicTarget
from somna.models import Person
from somna.people.repository import PersonRepository

ArchiveRows = list[dict[str, Any]]
SectionReader = Callable[[AsyncSession, Person], Awaitable[ArchiveRows]]

# Modules whose import registers archive sections; add yours here (see the module docstring).
SECTION_MODULES: tuple[str, ...] = ("somna.privacy.sections", "somna.audit.archive")
ARCHIVE_DIR = "archive"

_SECTIONS: dict[str, SectionReader] = {}


def archive_section(name: str) -> Callable[[SectionReader], SectionReader]:
    """Register ``reader`` as the section ``name`` of every person archive."""

    def decorator(reader: SectionReader) -> SectionReader:
        existing = _SECTIONS.get(name)
        if existing is not None and existing is not reader:
            raise ValueError(f"archive section {name!r} is already registered")
        _SECTIONS[name] = reader
        return reader

    return decorator


def sections() -> dict[str, SectionReader]:
    """Every registered section, by name, once the section modules are imported."""
    for module in SECTION_MODULES:
        importlib.import_module(module)
    return dict(sorted(_SECTIONS.items()))


def json_ready(value: Any) -> Any:
    """``value`` with dates, times, UUIDs and decimals as JSON strings or numbers."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclasses.dataclass(frozen=True)
class ArchiveFile:
    name: str
    format: str
    rows: int
    bytes: int


def section_file(name: str) -> str:
    return f"{ARCHIVE_DIR}/{name}.json"


def _write(root: Path, name: str, rows: ArchiveRows) -> ArchiveFile:
    target = AtomicTarget(root, section_file(name))
    try:
        with target.temp.open("w", encoding="utf-8") as handle:
            json.dump(json_ready(rows), handle, ensure_ascii=False, indent=1, sort_keys=True)
        size = target.commit()
    finally:
        if not target.committed:
            target.discard()
    return ArchiveFile(target.name, "json", len(rows), size)


async def build_archive(
    sessionmaker: async_sessionmaker[AsyncSession], person_id: uuid.UUID, root: Path
) -> list[ArchiveFile]:
    """Write every section of the person's archive under ``root``; ``LookupError`` when the
    person no longer exists."""
    files: list[ArchiveFile] = []
    async with sessionmaker() as session:
        person = await PersonRepository(session).get_unscoped(person_id)
        if person is None:
            raise LookupError(f"no person {person_id}")
        for name, reader in sections().items():
            rows = await reader(session, person)
            files.append(await asyncio.to_thread(_write, root, name, rows))
    return files
