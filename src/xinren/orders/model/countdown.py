"""When an order auto-confirms, pure: the receipt countdown's due time through its life.

Shipment starts the countdown: unless the buyer confirms first, the order confirms itself
(and settles) `receipt_confirmation_days[delivery method]` after shipment
(`policies/timers.yaml`). A refund request or a dispute pauses it, keeping what was left;
withdrawing or rejecting the request, or a partial refund, resumes it with what was left; the
buyer may extend it once by `extension_days`; completion, cancellation or a full refund stops
it. Which action does which is `machine.decide` (its `Countdown` effects); how the due time
moves is `plan_countdown`; the service only carries out the timer change it names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from xinren.orders.model.machine import Countdown


class TimerChange(enum.StrEnum):
    """What happens to the order's auto-confirm timer."""

    SCHEDULE = "schedule"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class CountdownState:
    """The countdown as the order records it: `due` is when the order auto-confirms (None: not
    counting); `left_ms` is what was left when it was paused."""

    due: datetime | None
    left_ms: int | None
    timer: TimerChange | None = None  # the change to the auto-confirm timer, if any


def plan_countdown(
    effect: Countdown,
    *,
    now: datetime,
    due: datetime | None,
    left_ms: int | None,
    receipt_period: timedelta | None = None,
    extension: timedelta = timedelta(0),
) -> CountdownState:
    """The countdown after `effect` (`receipt_period` is needed to start it)."""
    if effect is Countdown.START:
        if receipt_period is None:
            raise ValueError("starting the countdown needs the receipt period")
        return CountdownState(now + receipt_period, None, TimerChange.SCHEDULE)
    if effect is Countdown.PAUSE and due is not None:
        left = int(max(due - now, timedelta(0)) / timedelta(milliseconds=1))
        return CountdownState(None, left, TimerChange.CANCEL)
    if effect is Countdown.RESUME and left_ms is not None:
        return CountdownState(now + timedelta(milliseconds=left_ms), None, TimerChange.SCHEDULE)
    if effect is Countdown.EXTEND and due is not None:
        return CountdownState(due + extension, None, TimerChange.RESCHEDULE)
    if effect is Countdown.STOP:
        return CountdownState(None, None, TimerChange.CANCEL)
    return CountdownState(due, left_ms)
