"""Imports every context's tables so the shared metadata is complete (for Alembic and tests)."""

from xinren.access import tables as access_tables
from xinren.cases import tables as case_tables
from xinren.catalog import tables as catalog_tables
from xinren.detect import tables as detect_tables
from xinren.documents import tables as document_tables
from xinren.events import tables as event_tables
from xinren.ledger import tables as ledger_tables
from xinren.liability import tables as liability_tables
from xinren.orders import tables as order_tables
from xinren.parties import tables as party_tables
from xinren.provenance import tables as provenance_tables
from xinren.recalls import tables as recall_tables
from xinren.remedies import tables as remedy_tables
from xinren.reviews import tables as review_tables
from xinren.rules import tables as rule_tables
from xinren.timers import tables as timer_tables

__all__ = [
    "access_tables",
    "case_tables",
    "catalog_tables",
    "detect_tables",
    "document_tables",
    "event_tables",
    "ledger_tables",
    "liability_tables",
    "order_tables",
    "party_tables",
    "provenance_tables",
    "recall_tables",
    "remedy_tables",
    "review_tables",
    "rule_tables",
    "timer_tables",
]
