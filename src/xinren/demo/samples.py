"""Sample traders for the demo, the benchmarks and tests: registered with complete, plausible
trader information and verified by a named reviewer, through the same services as anyone."""

from __future__ import annotations

import zlib

from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.parties import service
from xinren.parties.model import Status, TraderInfo
from xinren.parties.service import Party


def sample_info(ref: str) -> TraderInfo:
    slug = ref.split(":", 1)[1]
    return TraderInfo(
        legal_name=f"{slug.title()} Trading Co., Ltd.",
        address=f"{len(slug)} Wensan Road, Xihu District, Hangzhou",
        registration_number=f"91330100MA{zlib.crc32(slug.encode()) % 10**8:08d}",
        payment_account=f"CN-ALIPAY-{slug}",
        contact_email=f"{slug.replace('_', '-')}@example.com",
        self_certified=True,
    )


def verified(
    session: Session,
    clock: Clock,
    ref: str,
    *,
    display_name: str | None = None,
    info: TraderInfo | None = None,
    accreditation: str | None = None,
    affiliated_with: str | None = None,
) -> Party:
    """Register `ref` (if new) with trader information and have a reviewer verify it."""
    party = service.register(
        session,
        clock,
        ref,
        display_name=display_name or ref,
        info=info or sample_info(ref),
        accreditation=accreditation,
        affiliated_with=affiliated_with,
    )
    if party.status is Status.PENDING:
        party = service.decide(
            session,
            clock,
            f"verify:{ref}",
            ref,
            Status.VERIFIED,
            reason="registration documents checked against the business licence",
            decided_by="reviewer:onboarding",
        )
    return party
