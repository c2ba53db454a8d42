"""The transparency report, pure: the period, the figures, the arithmetic behind them (rates,
medians, percentiles), how a figure is shown, and every label in Chinese and English.

Nothing here reads the clock or the database: `report.figures` counts, this package holds and
shows.
A rate over nothing is None (shown "n/a"), never a division by zero and never a made-up 0%.

By use case: `classify` (what records are counted by), `period`, `sections` (the figures),
`labels` (how a figure and every word are shown).
"""

from __future__ import annotations

from xinren.report.model.classify import (
    ALWAYS_SHOWN_PAYERS,
    CATEGORIES,
    COMPLAINTS,
    GATE_REASONS,
    LANGS,
    PAYERS,
    SANCTIONS,
    SOURCES,
    TOP_RATING_CHANGES,
    gate_reason,
    mean,
    party_class,
    payer_class,
    rate,
)
from xinren.report.model.labels import KINDS, LABELS, check_lang, label, show
from xinren.report.model.period import Period, parse_day, zone
from xinren.report.model.sections import (
    Appeals,
    CategoryRow,
    Compensation,
    Complaints,
    Enforcement,
    Gate,
    Notices,
    PaidRow,
    RatingChange,
    Recalls,
    RecoveryRow,
    Report,
    Reviews,
    RuleRow,
    Violations,
    biggest_changes,
    flatten,
)

__all__ = [
    "ALWAYS_SHOWN_PAYERS",
    "CATEGORIES",
    "COMPLAINTS",
    "GATE_REASONS",
    "KINDS",
    "LABELS",
    "LANGS",
    "PAYERS",
    "SANCTIONS",
    "SOURCES",
    "TOP_RATING_CHANGES",
    "Appeals",
    "CategoryRow",
    "Compensation",
    "Complaints",
    "Enforcement",
    "Gate",
    "Notices",
    "PaidRow",
    "Period",
    "RatingChange",
    "Recalls",
    "RecoveryRow",
    "Report",
    "Reviews",
    "RuleRow",
    "Violations",
    "biggest_changes",
    "check_lang",
    "flatten",
    "gate_reason",
    "label",
    "mean",
    "parse_day",
    "party_class",
    "payer_class",
    "rate",
    "show",
    "zone",
]
