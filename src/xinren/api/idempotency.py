"""Replay for create requests whose services have no natural key (a listing, a live claim):
the first response is kept under (API key, Idempotency-Key) in the same transaction as the
write, so a retry gets the same answer and creates nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.access.service import Principal
from xinren.access.tables import idempotent_requests
from xinren.clock import Clock
from xinren.errors import ConcurrentRequest, IdempotencyKeyReused
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
    """Run `run` once per key and commit; returns (response, replayed)."""
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
    try:
        with session.begin_nested():
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
        session.commit()
    except IntegrityError:  # a concurrent request with this key committed first
        session.rollback()
        raise ConcurrentRequest(
            f"another request with Idempotency-Key {key!r} ran at the same time; retry to get "
            "its result",
            field="Idempotency-Key",
        ) from None
    return response, False
