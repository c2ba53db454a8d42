"""The error hierarchy: each error knows its HTTP status and renders as RFC 9457 problem+json.

Domain code raises these; the API turns them into ``application/problem+json`` bodies and the
CLI into one readable line, so a caller always learns which field broke which rule.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://xinren.dev/problems/"


class XinrenError(Exception):
    """Base of every error Xinren raises on purpose."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    #: the whole request or command may be run again from the start and then succeed
    retryable: ClassVar[bool] = False

    def __init__(
        self, detail: str, *, field: str | None = None, keep: bool = False, **extra: Any
    ) -> None:
        """`keep`: the unit of work commits what was done before this error was raised (a
        blocked listing stays counted as intercepted although the caller gets an error)."""
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.keep = keep
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body for this error."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field:
            body["errors"] = [{"field": self.field, "detail": self.detail}]
        body.update({k: v for k, v in self.extra.items() if k not in body})
        return body


class ValidationFailed(XinrenError):
    """Input that breaks a rule of the request format (wrong type, missing field, ...)."""

    status = 422
    slug = "validation-failed"
    title = "The request is not valid"


class InvalidAmount(ValidationFailed):
    slug = "invalid-amount"
    title = "Invalid amount"


class UnknownCurrency(ValidationFailed):
    slug = "unknown-currency"
    title = "Unknown currency"


class CurrencyMismatch(ValidationFailed):
    slug = "currency-mismatch"
    title = "Currencies do not match"


class Unbalanced(ValidationFailed):
    slug = "unbalanced-transfer"
    title = "Debits and credits do not balance"


class RequestTooLarge(XinrenError):
    status = 413
    slug = "request-too-large"
    title = "Request too large"


class NotFound(XinrenError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(XinrenError):
    """The request is well formed but clashes with the current state."""

    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class AlreadyExists(Conflict):
    slug = "already-exists"
    title = "Already exists"


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class ConcurrentRequest(Conflict):
    """Another request holds the same idempotency key right now; retrying is safe."""

    slug = "concurrent-request"
    title = "A concurrent request uses the same key; retry"
    retryable = True

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        extra.setdefault("retry_after", 1)
        super().__init__(detail, field=field, **extra)


class DepositTooLow(Conflict):
    slug = "deposit-too-low"
    title = "The merchant's deposit is below what the category requires"


class TraderNotVerified(Conflict):
    slug = "trader-not-verified"
    title = "The trader is not verified"


class ReturnNotAllowed(Conflict):
    slug = "return-not-allowed"
    title = "The return policy does not allow this return"


class OutOfStock(Conflict):
    slug = "out-of-stock"
    title = "The listing has too few units left"


class PriceMismatch(ValidationFailed):
    slug = "price-mismatch"
    title = "The order's amount is not what the listing's price makes it"


class LimitExceeded(Conflict):
    slug = "limit-exceeded"
    title = "An account limit would be broken"


class HoldNotPending(Conflict):
    slug = "hold-not-pending"
    title = "The hold is already resolved"


class Unauthorized(XinrenError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(XinrenError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class AccountOwned(Forbidden):
    """A ledger account that one context owns (an order's escrow, a deposit, the guarantee
    fund, a frozen balance) is moved only by that context's use cases."""

    slug = "account-owned"
    title = "The account is moved only by the context that owns it"


class Busy(XinrenError):
    """The database chose this request as the victim of a deadlock or a serialization
    conflict, or a lock could not be had in time; running it again is safe."""

    status = 503
    slug = "database-busy"
    title = "The database is busy; retry"
    retryable = True

    def __init__(self, detail: str, **extra: Any) -> None:
        extra.setdefault("retry_after", 1)
        super().__init__(detail, **extra)


class Unavailable(XinrenError):
    """The database cannot be reached (connection lost, server shutting down)."""

    status = 503
    slug = "database-unavailable"
    title = "The database is unavailable"

    def __init__(self, detail: str, **extra: Any) -> None:
        extra.setdefault("retry_after", 5)
        super().__init__(detail, **extra)


class InternalError(XinrenError):
    """A fault of Xinren's, never of the caller's input: logged with its traceback."""
