"""Document metadata; the bytes live in the content-addressed store under the same sha256."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, String, Table

from xinren.schema import UtcDateTime, metadata

documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("doc_type", String(30), nullable=False),
    Column("issuer", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("accreditation", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_documents_subject", "subject"),
)
