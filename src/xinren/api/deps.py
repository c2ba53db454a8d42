"""Request-scoped dependencies, declared once with `Annotated` and reused by every route.

`SessionDep` is the session of the request's unit of work (`api/work.py`): routes call
services and never commit; the unit of work commits once before the answer is sent, rolls
back on any error, and runs the request again when the database asks for it.

Dependencies that do no I/O are ``async``: FastAPI runs them on the event loop instead of
sending each to the thread pool (a thread hop and a GIL hand-off per dependency per request).
Those that read the database (`get_principal`) stay sync, in the pool, as the routes do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from xinren.access import service as access
from xinren.access.service import Principal
from xinren.api.work import work_of
from xinren.clock import Clock
from xinren.documents.store import FileStore
from xinren.errors import Forbidden, ValidationFailed
from xinren.ids import SCOPE_SEP, check_idempotency_key, scoped


async def get_session(request: Request) -> Session:
    return work_of(request).session


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def get_principal(
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    secret = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    return access.authenticate(session, secret)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through (admin always passes)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise Forbidden(
                f"role {principal.role!r} may not do this; it needs one of: "
                + ", ".join(("admin", *roles))
            )
        return principal

    return check


async def get_idempotency_key(
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> str:
    """The caller's Idempotency-Key, scoped to the caller (`Principal.key_scope`): another
    party's request under the same key is another request, and learns nothing of this one."""
    if idempotency_key is None:
        raise ValidationFailed(
            "every POST needs an 'Idempotency-Key' header (any unique string per request, "
            "e.g. 'order-1001-pay'); a retry with the same key returns the first result",
            field="Idempotency-Key",
        )
    if SCOPE_SEP in idempotency_key:
        raise ValidationFailed(
            f"an idempotency key may not hold {SCOPE_SEP!r}", field="Idempotency-Key"
        )
    check_idempotency_key(idempotency_key, field="Idempotency-Key")
    return scoped(principal.key_scope, idempotency_key)


IdempotencyKeyDep = Annotated[str, Depends(get_idempotency_key)]
LedgerWriter = Annotated[Principal, Depends(require("platform"))]
LedgerReader = Annotated[Principal, Depends(require("platform", "auditor"))]


async def get_after(cursor: str | None = None) -> int:
    """`?cursor=` is the `next_cursor` of the previous page (the last id it held)."""
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise ValidationFailed("cursor is the next_cursor of a previous page", field="cursor")
    return int(cursor)


AfterDep = Annotated[int, Depends(get_after)]


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor of the page after one holding `ids`; None when that page was the last."""
    return str(ids[-1]) if len(ids) == limit else None


STAFF = ("admin", "platform", "reviewer", "auditor")


def is_staff(principal: Principal) -> bool:
    """Platform staff see every record (auditors read only; routes that write say so)."""
    return principal.role in STAFF


def acting_for(principal: Principal, ref: str, what: str) -> None:
    """Let staff (not auditors) through, or a party acting for itself; otherwise 403."""
    if principal.role in ("admin", "platform", "reviewer") or principal.subject == ref:
        return
    raise Forbidden(f"a {principal.role} key for {principal.subject} may not {what} for {ref}")


async def require_reviewer(principal: PrincipalDep) -> Principal:
    """A reviewer acting as a named person: decisions record who decided, and independence
    (an appeal never goes to the original decider) is checked per person, not per key."""
    if principal.role not in ("admin", "reviewer"):
        raise Forbidden(f"role {principal.role!r} may not do this; it needs a reviewer")
    if principal.role == "reviewer" and principal.subject is None:
        raise Forbidden("a reviewer key must name its person: create it with --party <name>")
    return principal


ReviewerDep = Annotated[Principal, Depends(require_reviewer)]
#: Only admins: API keys are managed by admins alone (`require` with no other role).
AdminDep = Annotated[Principal, Depends(require())]


async def refuse_auditor(principal: PrincipalDep) -> Principal:
    """Any caller but an auditor: auditors read everything and write nothing."""
    if principal.role == "auditor":
        raise Forbidden("auditors only read; an auditor key may not do this")
    return principal


WriterDep = Annotated[Principal, Depends(refuse_auditor)]
StaffDep = Annotated[Principal, Depends(require("platform", "reviewer", "auditor"))]


#: Who may add evidence and custody records: staff and every party of a supply chain.
WRITERS = (
    "admin",
    "platform",
    "reviewer",
    "supplier",
    "manufacturer",
    "brand_owner",
    "merchant",
    "host",
    "lab",
)


async def get_store(request: Request) -> FileStore:
    store: FileStore = request.app.state.store
    return store


StoreDep = Annotated[FileStore, Depends(get_store)]

EDITORS = ("admin", "platform", "reviewer")


def party_of(principal: Principal) -> str:
    """The party a key acts for; a key created without --party acts for none."""
    if principal.subject is None:
        raise Forbidden("this key acts for no party; create it with --party")
    return principal.subject
