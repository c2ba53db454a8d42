"""What verify reports: its counts and the problems it names, a readable number of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from xinren.errors import XinrenError
from xinren.ledger.model import Balance
from xinren.money import Money

_SHOWN = 20  # problems of one kind named before "... and N more"


@dataclass
class VerifyReport:
    """What `verify` found. `problems` names each inconsistency (which row, what is wrong), in
    the order checked; callers that check more (an owner's books against its ledger accounts)
    append theirs."""

    accounts: int = 0
    entries: int = 0
    blocks: int = 0
    unsealed: int = 0  # entries not sealed yet
    oldest_unsealed_age: timedelta | None = None  # how long the oldest of them waits (lag)
    unsealed_transfers: int = 0  # transfers with no entries not sealed yet
    totals: dict[str, Balance] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Found:
    """Problems of one kind: the first `_SHOWN` by name, then how many more (a broken database
    can have millions, and the report must stay readable)."""

    def __init__(self, report: VerifyReport) -> None:
        self.report, self.n = report, 0

    def add(self, problem: str) -> None:
        self.n += 1
        if self.n <= _SHOWN:
            self.report.problems.append(problem)


@contextmanager
def found_in(report: VerifyReport, what: str) -> Iterator[_Found]:
    found = _Found(report)
    yield found
    if found.n > _SHOWN:
        report.problems.append(f"... and {found.n - _SHOWN} more {what}")


def money_text(amount: int, currency: str) -> str:
    try:
        return str(Money(amount, currency))
    except XinrenError:  # a currency Xinren does not know: only a tampered row has one
        return f"{amount} {currency} minor units"
