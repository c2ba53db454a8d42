"""Append events, read them back as state, and serve them as a gap-free feed; run the
subscribers of a topic inside the transaction that appends it (`subscribe`).

An event is written by the same transaction as the change it reports, so a crash loses both or
neither. There are two ways to read the outbox:

- `read`: the outbox as state, in id order, inside the caller's transaction (with a `subject`
  filter). Contexts and tests use it to ask "what has happened to order 42?".
- `feed`: what ``GET /v1/events?after=`` serves the integrating platform, in *commit order*,
  without gaps: a consumer that pages from its cursor sees every committed event exactly once.

Why not page by id: on PostgreSQL a sequence hands out ids when rows are inserted, not when
their transactions commit, so id 11 can commit before id 10. A consumer that read 11 and moved
its cursor past it would never see 10. So on PostgreSQL each row records the transaction that
wrote it (``txid``: the server default ``pg_current_xact_id()``, PostgreSQL 13 or later, set by
migration 0015; rows from before it have 0). The feed is ordered by (txid, id) and shows only
rows whose transaction is older than the *horizon*: the xmin of the reader's snapshot, the
oldest transaction still running. Every transaction below it has ended, so no row can later
commit in front of the last row shown. The one exception is the reader's own transaction: when
nothing older is running its rows are shown to it, as any read shows a transaction its own
writes (the HTTP route never writes). Reading takes no lock and writes nothing.

On SQLite writers are serialised (one write lock, taken by ``BEGIN IMMEDIATE``, see `xinren.db`),
so id order is commit order: ``txid`` stays NULL and the feed pages by id.

The limit (PostgreSQL): the horizon is cluster-wide. A transaction that holds a transaction id
anywhere on the server (any database, an idle-in-transaction session, a prepared transaction)
holds back every event of a younger transaction until it ends. Nothing is lost, but the feed
lags by the age of the oldest writing transaction: keep transactions short and set
``idle_in_transaction_session_timeout``; ``pg_stat_activity.backend_xid`` names the holder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Row, Select, literal_column, select, tuple_
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import ValidationFailed
from xinren.events.tables import outbox

_XMIN = "pg_snapshot_xmin(pg_current_snapshot())"

#: Rows of transactions below this have all committed or rolled back, as of the statement's
#: snapshot (one statement, one snapshot). The reader's own transaction, when it is the oldest
#: one running, is the xmin itself: one more lets it see its own rows.
HORIZON: ColumnElement[int] = literal_column(
    f"({_XMIN}::text::bigint"
    f" + CASE WHEN {_XMIN} = pg_current_xact_id_if_assigned() THEN 1 ELSE 0 END)",
    BigInteger(),
)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    topic: str
    subject: str
    payload: dict[str, Any]
    created_at: datetime


#: A function run inside `append`: (session, clock, topic, subject, payload) of the event.
Subscriber = Callable[[Session, Clock, str, str, dict[str, Any]], None]
_SUBSCRIBERS: dict[str, dict[str, Subscriber]] = {}


def subscribe(*topics: str) -> Callable[[Subscriber], Subscriber]:
    """Run the decorated function inside every `append` of these topics, in the appending
    transaction, so that it commits or rolls back with the change the event reports.

    This is how a context keeps its own record of what a context above it did without
    importing it or reading its tables (or the outbox) as state: detection's abuse record is
    fed by the cases' and rules' events (`xinren.detect.buyers`). The subscribing module
    registers at import; the modules that append those topics import it (a test checks).
    Registering the same function again replaces it. A subscriber that raises fails the
    append, and so the change: it must only record, never refuse.
    """

    def register(fn: Subscriber) -> Subscriber:
        name = f"{fn.__module__}.{fn.__qualname__}"
        for topic in topics:
            _SUBSCRIBERS.setdefault(topic, {})[name] = fn
        return fn

    return register


def subscribers(topic: str) -> list[str]:
    """The names of the functions `append` runs for `topic`, in the order they run."""
    return list(_SUBSCRIBERS.get(topic, {}))


def append(
    session: Session, clock: Clock, topic: str, subject: str, payload: dict[str, Any]
) -> None:
    """Write the event in the caller's transaction, then run the topic's subscribers in it."""
    session.execute(
        outbox.insert(),
        dict(topic=topic, subject=subject, payload=payload, created_at=clock.now()),
    )
    for fn in list(_SUBSCRIBERS.get(topic, {}).values()):
        fn(session, clock, topic, subject, payload)


def read(
    session: Session, *, after: int = 0, limit: int = 100, subject: str | None = None
) -> list[Event]:
    """The outbox as state, in id order: for readers inside one transaction, not a feed."""
    q = select(outbox).where(outbox.c.id > after).order_by(outbox.c.id).limit(limit)
    if subject:
        q = q.where(outbox.c.subject == subject)
    return [_event(r) for r in session.execute(q)]


def feed(session: Session, *, after: int = 0, limit: int = 100) -> list[Event]:
    """Up to `limit` events after event `after` (0: from the start), in commit order.

    Ids need not ascend on PostgreSQL. An `after` that names no event is the caller's error:
    paging from it would silently skip or repeat events.
    """
    start = _position(session, after)
    if not is_postgres(session):
        return read(session, after=after, limit=limit)
    return [_event(r) for r in session.execute(_committed_after(start, limit))]


def _position(session: Session, after: int) -> tuple[int, int]:
    """Where event `after` stands in commit order: (txid, id), txid 0 before migration 0015."""
    if after == 0:
        return (0, 0)
    row = session.execute(select(outbox.c.txid, outbox.c.id).where(outbox.c.id == after)).first()
    if row is None:
        raise ValidationFailed(
            f"after={after} names no event: pass 0 to start from the beginning, or the "
            "next_cursor of the page you read last",
            field="after",
        )
    return (row.txid or 0, row.id)


def _committed_after(start: tuple[int, int], limit: int) -> Select[Any]:
    """The (txid, id)-ordered page past `start`, below the horizon (index ix_outbox_txid)."""
    return (
        select(outbox)
        .where(tuple_(outbox.c.txid, outbox.c.id) > tuple_(*start), outbox.c.txid < HORIZON)
        .order_by(outbox.c.txid, outbox.c.id)
        .limit(limit)
    )


def _event(r: Row[Any]) -> Event:
    return Event(r.id, r.topic, r.subject, r.payload, r.created_at)
