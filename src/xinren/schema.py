"""The one SQLAlchemy MetaData every context's tables join, with predictable constraint names.

Constraint names matter: Alembic needs them to alter tables, and the ledger maps a violated
check constraint back to the account limit it protects.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: 64-bit ids everywhere; on SQLite an INTEGER PRIMARY KEY is the 64-bit rowid itself.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[object]):
    """Timezone-aware UTC timestamps on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: object, dialect: object) -> object:
        from datetime import UTC, datetime

        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetimes are not stored; use an aware UTC time")
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: object, dialect: object) -> object:
        from datetime import UTC, datetime

        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value
