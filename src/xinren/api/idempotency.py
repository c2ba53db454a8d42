"""Replay for create requests whose services have no natural key (a listing, a live claim):
the first response is kept under (API key, Idempotency-Key) in the same transaction as the
write, so a retry gets the same answer and creates nothing. Two requests with one key at the
same moment: the second one's insert meets the first one's row (a unique violation once the
first commits), and the unit of work runs it again, which then replays the first answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.access.service import Principal
from xinren.access.tables import idempotent_requests
from xinren.clock import Clock
from xinren.errors import IdempotencyKeyReused
from xinren.ids import payload_hash


def once(
    session: Session,
    clock: Clock,
    principal: Principal,
    key: str,
    scope: str,
    request: Any,
    run: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Run `run` once per key (in the caller's unit of work); returns (response, replayed)."""
    digest = payload_hash({"scope": scope, "request": request})
    done = session.execute(
        select(idempotent_requests)
        .where(idempotent_requests.c.key_id == principal.key_id)
        .where(idempotent_requests.c.idempotency_key == key)
    ).first()
    if done is not None:
        if done.request_hash != digest:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was used for another request ({done.scope})",
                field="Idempotency-Key",
            )
        return dict(done.response), True
    response = run()
    session.execute(
        idempotent_requests.insert(),
        dict(
            key_id=principal.key_id,
            idempotency_key=key,
            scope=scope,
            request_hash=digest,
            status_code=201,
            response=response,
            created_at=clock.now(),
        ),
    )
    return response, False
