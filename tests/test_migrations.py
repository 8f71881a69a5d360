from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from somna import migrations
from somna.kit.models import Base
from tests.support.databases import PostgresDatabase, postgres_base_url, unavailable


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An unmigrated database, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    database = PostgresDatabase(postgres_base_url())
    try:
        database.create()
        migrations.downgrade(database.url, "base")
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    yield database.url
    database.drop()


def _tables(url: str) -> set[str]:
    engine = create_engine(migrations.sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    expected = {table.name for table in Base.metadata.sorted_tables}
    migrations.upgrade(empty_database_url)
    assert migrations.current_revision(empty_database_url) == migrations.head_revision()
    assert expected <= _tables(empty_database_url)
    migrations.downgrade(empty_database_url, "base")
    assert migrations.current_revision(empty_database_url) is None
    assert _tables(empty_database_url) & expected == set()
    migrations.upgrade(empty_database_url)
    assert expected <= _tables(empty_database_url)


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    """A model changed without a migration shows up here as a difference."""
    migrations.upgrade(empty_database_url)
    engine = create_engine(migrations.sync_url(empty_database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
