"""The report's period: two calendar days, both included, in one time zone, and the UTC
instants that bound them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xinren.errors import ValidationFailed


def parse_day(value: str | date, name: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValidationFailed(
            f"{name} is a day written YYYY-MM-DD, e.g. 2026-01-01; got {value!r}", field=name
        )
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{name} {value!r} is not a calendar day", field=name) from None


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, or a clear error naming the field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"tz is an IANA time zone such as UTC or Asia/Shanghai; got {name!r}", field="tz"
        ) from None


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, both included, in the time zone `tz` (an IANA name; UTC by default, and
    e.g. Asia/Shanghai for a Chinese platform's calendar year): `first` 00:00 up to midnight
    after `last`, local time."""

    first: date
    last: date
    tz: str = "UTC"

    def __post_init__(self) -> None:
        zone(self.tz)
        if self.last >= date.max:
            raise ValidationFailed("to is at most 9999-12-30", field="to")
        if self.first > self.last:
            raise ValidationFailed(
                f"to ({self.last.isoformat()}) is before from ({self.first.isoformat()}): the "
                "period runs from its first day to its last, both included",
                field="to",
            )

    @classmethod
    def parse(cls, first: str | date, last: str | date, tz: str = "UTC") -> Period:
        return cls(parse_day(first, "from"), parse_day(last, "to"), tz)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), zone(self.tz)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day, local time (as a UTC instant)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), zone(self.tz)).astimezone(
            UTC
        )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def at_most(self, days: int) -> Period:
        """Refuse a period longer than `days` (the public page computes every figure anew on
        each anonymous request; the command line may ask for any period)."""
        if self.days > days:
            raise ValidationFailed(
                f"the period is {self.days:,} days; the public report covers at most {days:,} "
                "(use `xinren report` for longer ones)",
                field="from",
            )
        return self

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.tz}
