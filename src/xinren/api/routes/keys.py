"""/v1/keys: admins list, create, rotate and revoke API keys.

A secret is in one answer only: the first answer to a create or a rotation. The replay of a
request (same Idempotency-Key) answers with the key as it stands and no secret, because the
secret is never stored (neither in `api_keys` nor in the kept first answer); a retried rotation
does not rotate again. Rotating the key you call with under a lost answer leaves that key
without a usable secret: rotate it with another admin key, or keep a second one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from xinren.access import service
from xinren.api.deps import AdminDep, AfterDep, ClockDep, IdempotencyKeyDep, SessionDep, next_cursor
from xinren.api.idempotency import once
from xinren.api.threads import Router

router = Router(prefix="/v1/keys", tags=["keys"])

KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SHOWN_ONCE = (
    "the secret was shown once, in the first answer to this request, and is not kept; "
    "rotate the key (POST /v1/keys/{id}/rotate) to get a new one"
)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(max_length=16)
    name: str = Field("", max_length=100)
    # the party it acts for, as 'merchant:acme-tea' or just 'acme-tea' (the role's kind);
    # platform, auditor and admin keys have none. The service says which roles need one.
    party: str | None = Field(None, max_length=100)


def _with_secret(found: dict[str, Any], secret: str | None) -> dict[str, Any]:
    if secret is None:
        return {**found, "secret": None, "secret_shown_once": SHOWN_ONCE}
    return {**found, "secret": secret}


@router.get("")
def list_keys(
    session: SessionDep,
    _: AdminDep,
    after: AfterDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Every key, revoked ones too, without secrets: page on with `?cursor=next_cursor`."""
    found = service.list_keys(session, after=after, limit=limit)
    return {
        "items": [k.as_dict() for k in found],
        "next_cursor": next_cursor([k.id for k in found], limit),
    }


@router.get("/{key_id}")
def get_key(key_id: KeyId, session: SessionDep, _: AdminDep) -> dict[str, Any]:
    return service.get_key(session, key_id).as_dict()


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(
    body: KeyIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: AdminDep,
    response: Response,
) -> dict[str, Any]:
    """Create a key; the answer holds its secret, this once."""
    secret: str | None = None

    def run() -> dict[str, Any]:
        nonlocal secret
        made, secret = service.create_key(
            session,
            clock,
            body.role,
            name=body.name,
            subject=body.party,
            field="party",
            by=principal.actor,
        )
        return service.get_key(session, made.key_id).as_dict()

    kept, replayed = once(session, clock, principal, key, "key.create", body.model_dump(), run)
    if replayed:
        response.status_code = status.HTTP_200_OK
        kept = service.get_key(session, int(kept["id"])).as_dict()
    return _with_secret(kept, secret)


@router.post("/{key_id}/rotate")
def rotate_key(
    key_id: KeyId,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: AdminDep,
) -> dict[str, Any]:
    """A new secret for the key, in this answer only; the old secret is refused from now on."""
    secret: str | None = None

    def run() -> dict[str, Any]:
        nonlocal secret
        rotated, secret = service.rotate(session, clock, key_id, by=principal.actor)
        return rotated.as_dict()

    kept, replayed = once(session, clock, principal, key, "key.rotate", {"key": key_id}, run)
    if replayed:
        kept = service.get_key(session, key_id).as_dict()
    return _with_secret(kept, secret)


@router.post("/{key_id}/revoke")
def revoke_key(
    key_id: KeyId,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: AdminDep,
) -> dict[str, Any]:
    """Revoke the key for good: its next request is refused (never the last admin key)."""

    def run() -> dict[str, Any]:
        return service.revoke(session, clock, key_id, by=principal.actor).as_dict()

    kept, replayed = once(session, clock, principal, key, "key.revoke", {"key": key_id}, run)
    return service.get_key(session, key_id).as_dict() if replayed else kept
