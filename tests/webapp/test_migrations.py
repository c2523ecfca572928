"""The migrations build, from an empty database, exactly the schema the models declare."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from connectors.db import Base


def test_migrations_from_an_empty_database_match_the_models(app):
    from webapp.database import db
    with app.app_context():   # the `app` fixture ran `upgrade()` on an empty database
        with db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert {"process_instance", "engine_task", "human_task", "register_entry",
                    "app_user", "audit_event", "alembic_version"} <= tables
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
