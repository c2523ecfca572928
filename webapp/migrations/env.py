from alembic import context

import connectors.registry.models  # noqa: F401  (register every table)
import engine.models  # noqa: F401
import webapp.auth.models  # noqa: F401
import archive.models  # noqa: F401
import connectors.jobs.models  # noqa: F401
from connectors.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `dosar init` (webapp.migrations.upgrade).")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite",
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
