"""The migrations and the models describe the same schema, so nothing drifts."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from proofcheck.db import Base, Database, migrate
from proofcheck.migrations import current_revision, head_revision


def test_migrated_schema_matches_the_models(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(db)
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    migrate(db)  # running it again is a no-op
    assert current_revision(db.engine) == head_revision()
