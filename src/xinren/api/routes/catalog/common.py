"""What the /v1/catalog routes share: JSON of service records, replayable creates,
caller-scoped review keys, and the caller's right to use an uploaded document."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import Response, status
from pydantic import BaseModel

from xinren.access.service import Principal
from xinren.api.deps import ClockDep, PrincipalDep, SessionDep
from xinren.api.idempotency import once
from xinren.api.routes.documents import may_read
from xinren.catalog.gate import MayUse
from xinren.documents import service as documents
from xinren.errors import Forbidden, ValidationFailed
from xinren.ids import SCOPE_SEP, scoped


def as_json(obj: Any) -> dict[str, Any]:
    """A service dataclass as JSON-ready data (dates as ISO strings)."""
    out: dict[str, Any] = {}
    for k, v in asdict(obj).items():
        out[k] = (
            v.isoformat() if hasattr(v, "isoformat") else (list(v) if isinstance(v, tuple) else v)
        )
    return out


def created(
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    key: str,
    scope: str,
    body: BaseModel,
    response: Response,
    make: Any,
) -> dict[str, Any]:
    """The first answer to this Idempotency-Key (201), or the stored one again (200)."""
    result, replayed = once(
        session, clock, principal, key, scope, body.model_dump(mode="json"), lambda: as_json(make())
    )
    response.status_code = status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
    return result


def scoped_key(principal: Principal, key: str) -> str:
    if SCOPE_SEP in key:
        raise ValidationFailed(f"a key may not hold {SCOPE_SEP!r}", field="key")
    return scoped(principal.key_scope, key)


def may_use(principal: Principal) -> MayUse:
    """The check the gate runs on each photo: a caller uses only documents it may read."""

    def check(doc: documents.Document) -> None:
        if not may_read(principal, doc):
            raise Forbidden(
                f"document {doc.sha256} is not {principal.subject}'s to use", field="images"
            )

    return check
