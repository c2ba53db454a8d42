"""Alembic environment: runs on the connection Xinren hands it, or on XINREN_DATABASE_URL."""

from alembic import context

from xinren import tables  # noqa: F401  (registers every table on the metadata)
from xinren.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from xinren.db import make_engine

        engine = make_engine()
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()


run()
